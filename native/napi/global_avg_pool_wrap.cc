// globalAvgPool(input, [N, C, H, W], output, cb?) and globalAvgPoolAsync(...)
// -> Promise: the N-API face of native/cpu/global_avg_pool.cc, with sizes and
// aliasing re-checked. output has N*C elements. cb (default 0): 0 for an NCHW
// input, 8 or 16 for the blocked layout [N][ceil(C/cb)][H][W][cb].
#include <string>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_worker.h"
#include "resnext/global_avg_pool.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

struct Args {
  int64_t planes = 0, hw = 0, N = 0, C = 0;
  int cb = 0;
  F32View in, out;
};

Args Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) ThrowType(env, "globalAvgPool: expected (input, shape, output)");
  Args a;
  a.in = GetFloat32Array(info[0], "input");
  auto s = GetIntArray<4>(info[1], "input.shape", 1, resnext::kMaxElements);
  a.out = GetFloat32Array(info[2], "output");
  if (info.Length() >= 4 && !info[3].IsUndefined()) {
    a.cb = static_cast<int>(GetInt(info[3], "cb", 0, 16));
    if (a.cb != 0 && a.cb != 8 && a.cb != 16)
      ThrowRange(env, "cb: expected 0 (NCHW), 8 or 16 but received " + std::to_string(a.cb));
  }
  const double planes = static_cast<double>(s[0]) * s[1], hw = static_cast<double>(s[2]) * s[3];
  const double in_len = a.cb == 0 ? planes * hw : static_cast<double>(s[0]) * ((s[1] + a.cb - 1) / a.cb * a.cb) * hw;
  if (in_len != static_cast<double>(a.in.length))
    ThrowRange(env, "input: expected " + std::to_string(static_cast<int64_t>(in_len)) +
                        " elements for its shape but received " + std::to_string(a.in.length));
  if (planes != static_cast<double>(a.out.length))
    ThrowRange(env, "output: expected " + std::to_string(static_cast<int64_t>(planes)) +
                        " elements (N * C) but received " + std::to_string(a.out.length));
  if (Overlaps(a.in, a.out)) ThrowRange(env, "output: must not share memory with input");
  Recheck(a.in, "input");
  Recheck(a.out, "output");
  a.planes = static_cast<int64_t>(planes);
  a.hw = static_cast<int64_t>(hw);
  a.N = s[0], a.C = s[1];
  return a;
}

resnext::Status Kernel(const Args& a, const float* in, float* out, resnext::ThreadPool& pool) {
  return a.cb == 0 ? resnext::GlobalAvgPool(a.planes, a.hw, in, out, pool)
                   : resnext::GlobalAvgPoolBlocked(a.N, a.C, a.hw, a.cb, in, out, pool);
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  resnext::Status s = Kernel(a, a.in.data, a.out.data, PoolOf(info.Env()));
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Args a = Parse(info);
  LayerWorker* w = LayerWorker::Create(info.Env(), "resnext:globalAvgPool");
  return w->Start([a, in = w->Input(a.in), out = w->Output(a.out), pool = &PoolOf(info.Env())]() {
    return Kernel(a, in, out, *pool);
  });
}

}  // namespace

void RegisterGlobalAvgPool(Napi::Env env, Napi::Object exports) {
  exports.Set("globalAvgPool", Napi::Function::New(env, Run, "globalAvgPool"));
  exports.Set("globalAvgPoolAsync", Napi::Function::New(env, RunAsync, "globalAvgPoolAsync"));
}

}  // namespace resnext_napi
