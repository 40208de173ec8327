// linear(input, [N, in], weight, [out, in], bias | null, output) and
// linearAsync(...) -> Promise: the N-API face of native/cpu/linear.cc, with
// sizes and aliasing re-checked. output has N*out elements.
#include <string>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "resnext/linear.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

struct Args {
  int64_t n = 0, in = 0, out = 0;
  F32View x, w, b, y;
};

Args Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) ThrowType(env, "linear: expected (input, shape, weight, weightShape, bias, output)");
  Args a;
  a.x = GetFloat32Array(info[0], "input");
  auto xs = GetIntArray<2>(info[1], "input.shape", 1, resnext::kMaxElements);
  a.w = GetFloat32Array(info[2], "weight");
  auto ws = GetIntArray<2>(info[3], "weight.shape", 1, resnext::kMaxElements);
  a.b = GetOptionalFloat32Array(info[4], "bias");
  a.y = GetFloat32Array(info[5], "output");
  if (ws[1] != xs[1])
    ThrowRange(env, "weight.shape[1]: expected " + std::to_string(xs[1]) + " (input features) but received " +
                        std::to_string(ws[1]));
  a.n = xs[0], a.in = xs[1], a.out = ws[0];
  WantLength(env, a.x, static_cast<double>(a.n) * a.in, "input");
  WantLength(env, a.w, static_cast<double>(a.out) * a.in, "weight");
  if (a.b.data != nullptr) WantLength(env, a.b, static_cast<double>(a.out), "bias");
  WantLength(env, a.y, static_cast<double>(a.n) * a.out, "output");
  if (Overlaps(a.y, a.x) || Overlaps(a.y, a.w) || Overlaps(a.y, a.b))
    ThrowRange(env, "output: must not share memory with the inputs");
  Recheck(a.x, "input");
  Recheck(a.w, "weight");
  Recheck(a.b, "bias");
  Recheck(a.y, "output");
  return a;
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  resnext::Status s = resnext::Linear(a.n, a.in, a.out, a.x.data, a.w.data, a.b.data, a.y.data, PoolOf(info.Env()));
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  LayerWorker* w = LayerWorker::Create(info.Env(), "resnext:linear");
  return w->Start([n = a.n, in = a.in, out = a.out, x = w->Input(a.x), wt = w->Input(a.w), b = w->Input(a.b),
                   y = w->Output(a.y),
                   pool = &PoolOf(info.Env())]() { return resnext::Linear(n, in, out, x, wt, b, y, *pool); });
}

}  // namespace

void RegisterLinear(Napi::Env env, Napi::Object exports) {
  exports.Set("linear", Napi::Function::New(env, Run, "linear"));
  exports.Set("linearAsync", Napi::Function::New(env, RunAsync, "linearAsync"));
}

}  // namespace resnext_napi
