// WhenStreamDone (see glue.h): records an event on the stream now, then an
// AsyncWorker waits for it with cudaEventSynchronize on a libuv thread, so
// `await` never blocks the event loop while the GPU works.
#include <memory>

#include "cuda/runtime.h"
#include "glue.h"
#include "napi/errors.h"

namespace resnext_cuda_napi {
namespace {

class StreamWaitWorker : public Napi::AsyncWorker {
 public:
  StreamWaitWorker(Napi::Env env, cudaEvent_t event, std::vector<Napi::Value> pins,
                   std::function<cudaError_t()> host_copy, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env, "resnext:cuda-wait"),
        deferred_(Napi::Promise::Deferred::New(env)),
        event_(event),
        host_copy_(std::move(host_copy)),
        done_(std::move(done)) {
    for (auto& v : pins) {
      if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }
  ~StreamWaitWorker() override {
    if (event_) cudaEventDestroy(event_);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    err_ = cudaEventSynchronize(event_);
    if (err_ == cudaSuccess && host_copy_) err_ = host_copy_();
  }

  // Settling fails in an environment being torn down (a worker terminated
  // while the GPU worked); nothing can observe the promise then, so the
  // failure is dropped instead of escaping as a C++ exception.
  void OnOK() override {
    try {
      Settle();
    } catch (...) {
    }
  }

  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
    }
  }

 private:
  void Settle() {
    Napi::Env env = Env();
    // `done` also releases temporaries, so it runs whether the GPU work failed or not.
    Napi::Value value = env.Undefined();
    try {
      if (done_) value = done_(env);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
      return;
    }
    if (err_ != cudaSuccess) {
      deferred_.Reject(resnext_napi::StatusToError(
                           env, resnext::Status::Internal(std::string("GPU work failed: ") + cudaGetErrorName(err_) +
                                                          " (" + cudaGetErrorString(err_) + ")"))
                           .Value());
      return;
    }
    deferred_.Resolve(value);
  }

  Napi::Promise::Deferred deferred_;
  cudaEvent_t event_;
  std::function<cudaError_t()> host_copy_;
  std::function<Napi::Value(Napi::Env)> done_;
  std::vector<Napi::ObjectReference> pins_;
  cudaError_t err_ = cudaSuccess;
};

}  // namespace

Napi::Promise WhenStreamDone(Napi::Env env, std::vector<Napi::Value> pins, std::function<cudaError_t()> host_copy,
                             std::function<Napi::Value(Napi::Env)> done) {
  resnext::Status s = resnext::cuda::EnsureReady();
  if (!s.ok()) resnext_napi::ThrowStatus(env, s);
  cudaEvent_t event = nullptr;
  cudaError_t err = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
  if (err == cudaSuccess) err = cudaEventRecord(event, resnext::cuda::Stream());
  if (err != cudaSuccess) {
    if (event) cudaEventDestroy(event);
    resnext_napi::ThrowStatus(env,
                              resnext::Status::Internal(std::string("cudaEventRecord: ") + cudaGetErrorString(err)));
  }
  auto* worker = new StreamWaitWorker(env, event, std::move(pins), std::move(host_copy), std::move(done));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

}  // namespace resnext_cuda_napi
