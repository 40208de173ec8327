// maxPool2d(input, [N, C, H, W], output, [kh, kw, sh, sw, ph, pw]) and
// maxPool2dAsync(...) -> Promise: the N-API face of native/cpu/max_pool2d.cc.
// Every argument is re-checked here (sizes, window fits, no aliasing) so a
// direct call cannot make the kernel read or write out of bounds.
#include <string>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "resnext/max_pool2d.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

struct Args {
  resnext::MaxPool2dParams p;
  F32View in, out;
};

Args Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) ThrowType(env, "maxPool2d: expected (input, shape, output, params)");
  Args a;
  a.in = GetFloat32Array(info[0], "input");
  a.out = GetFloat32Array(info[2], "output");
  a.p = GetMaxPoolParams(info[1], info[3], "");
  WantLength(env, a.in, static_cast<double>(a.p.N) * a.p.C * a.p.H * a.p.W, "input");
  WantLength(env, a.out, static_cast<double>(a.p.N) * a.p.C * a.p.P() * a.p.Q(), "output");
  if (Overlaps(a.in, a.out)) ThrowRange(env, "output: must not share memory with input");
  Recheck(a.in, "input");
  Recheck(a.out, "output");
  return a;
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  resnext::Status s = resnext::MaxPool2d(a.p, a.in.data, a.out.data, PoolOf(info.Env()));
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  LayerWorker* w = LayerWorker::Create(info.Env(), "resnext:maxPool2d");
  return w->Start([p = a.p, in = w->Input(a.in), out = w->Output(a.out), pool = &PoolOf(info.Env())]() {
    return resnext::MaxPool2d(p, in, out, *pool);
  });
}

}  // namespace

void RegisterMaxPool2d(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, Run, "maxPool2d"));
  exports.Set("maxPool2dAsync", Napi::Function::New(env, RunAsync, "maxPool2dAsync"));
}

}  // namespace resnext_napi
