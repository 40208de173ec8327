// CUDA Graph capture from JS (native/cuda/graph.h): beginCapture(), then
// enqueue work with the other exports' synchronous calls (conv plans' run(),
// maxPool2d, globalAvgPool, linear, copyFrom), then endCapture() returns a
// CudaGraph whose launch() replays all of it with one cudaGraphLaunch and
// launchAsync() also resolves when the GPU is done. The buffers the captured
// work used are the graph's inputs and outputs: the caller keeps them alive
// and rewrites the inputs in place between launches.
#include "cuda/graph.h"
#include "cuda/runtime.h"
#include "glue.h"
#include "napi/errors.h"

namespace resnext_cuda_napi {
namespace {

using resnext_napi::ThrowStatus;
using resnext_napi::ThrowType;

class GraphWrap : public Napi::ObjectWrap<GraphWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "CudaGraph",
                                   {
                                       InstanceMethod<&GraphWrap::Launch>("launch"),
                                       InstanceMethod<&GraphWrap::LaunchAsync>("launchAsync"),
                                       InstanceMethod<&GraphWrap::Dispose>("dispose"),
                                   });
    AddonData(env).graph = Napi::Persistent(f);
    exports.Set("CudaGraph", f);
  }

  // Made by endCapture() only: new CudaGraph() from JS gets a disposed graph.
  explicit GraphWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GraphWrap>(info) {}
  ~GraphWrap() override { resnext::cuda::DestroyGraph(exec_); }

  void set(cudaGraphExec_t e) { exec_ = e; }

 private:
  void Enqueue(Napi::Env env) {
    if (!exec_) ThrowType(env, "CudaGraph: expected a live graph but received a disposed one");
    resnext::Status s = resnext::cuda::LaunchGraph(exec_);
    if (!s.ok()) ThrowStatus(env, s);
  }

  Napi::Value Launch(const Napi::CallbackInfo& info) {
    Enqueue(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value LaunchAsync(const Napi::CallbackInfo& info) {
    Enqueue(info.Env());
    return WhenStreamDone(info.Env(), {Value()}, nullptr, nullptr);
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    // Stream-ordered like buffer frees: a replay already queued still runs.
    resnext::cuda::DestroyGraph(exec_);
    exec_ = nullptr;
    return info.Env().Undefined();
  }

  cudaGraphExec_t exec_ = nullptr;
};

Napi::Value BeginCapture(const Napi::CallbackInfo& info) {
  resnext::Status s = resnext::cuda::BeginCapture();
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value EndCapture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cudaGraphExec_t exec = nullptr;
  resnext::Status s = resnext::cuda::EndCapture(&exec);
  if (!s.ok()) ThrowStatus(env, s);
  Napi::Object g = AddonData(env).graph.New({});
  GraphWrap::Unwrap(g)->set(exec);
  return g;
}

}  // namespace

void InitGraph(Napi::Env env, Napi::Object exports) {
  GraphWrap::Init(env, exports);
  exports.Set("beginCapture", Napi::Function::New(env, BeginCapture, "beginCapture"));
  exports.Set("endCapture", Napi::Function::New(env, EndCapture, "endCapture"));
}

}  // namespace resnext_cuda_napi
