// maxPool2d(input, [N, C, H, W], output, [kh, kw, sh, sw, ph, pw]) and
// maxPool2dAsync(...) -> Promise: the N-API face of native/cpu/max_pool2d.cc.
// Every argument is re-checked here (sizes, window fits, no aliasing) so a
// direct call cannot make the kernel read or write out of bounds.
#include <string>

#include "convert.h"
#include "errors.h"
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
  auto s = GetIntArray<4>(info[1], "input.shape", 1, resnext::kMaxElements);
  a.out = GetFloat32Array(info[2], "output");
  auto k = GetIntArray<6>(info[3], "params", 0, 1 << 20);
  a.p.N = s[0], a.p.C = s[1], a.p.H = s[2], a.p.W = s[3];
  a.p.kh = k[0], a.p.kw = k[1], a.p.sh = k[2], a.p.sw = k[3], a.p.ph = k[4], a.p.pw = k[5];
  if (a.p.kh < 1 || a.p.kw < 1 || a.p.sh < 1 || a.p.sw < 1) ThrowRange(env, "params: expected kernel and stride of at least 1");
  if (2 * a.p.ph > a.p.kh || 2 * a.p.pw > a.p.kw) ThrowRange(env, "params: expected padding of at most half the kernel");
  if (a.p.H + 2 * a.p.ph < a.p.kh || a.p.W + 2 * a.p.pw < a.p.kw) ThrowRange(env, "input.shape: expected an input at least as large as the kernel");
  const double in_size = static_cast<double>(a.p.N) * a.p.C * a.p.H * a.p.W;
  const double out_size = static_cast<double>(a.p.N) * a.p.C * a.p.P() * a.p.Q();
  if (in_size != static_cast<double>(a.in.length))
    ThrowRange(env, "input: expected " + std::to_string(static_cast<int64_t>(in_size)) + " elements for its shape but received " + std::to_string(a.in.length));
  if (out_size != static_cast<double>(a.out.length))
    ThrowRange(env, "output: expected " + std::to_string(static_cast<int64_t>(out_size)) + " elements but received " + std::to_string(a.out.length));
  if (Overlaps(a.in, a.out)) ThrowRange(env, "output: must not share memory with input");
  return a;
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  resnext::Status s = resnext::MaxPool2d(a.p, a.in.data, a.out.data, resnext::ThreadPool::Global());
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  return LayerWorker::Start(
      info.Env(), "resnext:maxPool2d", [a]() { return resnext::MaxPool2d(a.p, a.in.data, a.out.data, resnext::ThreadPool::Global()); },
      {a.in.value, a.out.value});
}

}  // namespace

void RegisterMaxPool2d(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, Run, "maxPool2d"));
  exports.Set("maxPool2dAsync", Napi::Function::New(env, RunAsync, "maxPool2dAsync"));
}

}  // namespace resnext_napi
