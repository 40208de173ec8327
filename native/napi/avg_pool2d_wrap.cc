// avgPool2d(input, [N, C, H, W], output, [kh, kw, sh, sw, pt, pl, pb, pr, P, Q, countIncludePad])
// and avgPool2dAsync(...) -> Promise: the N-API face of native/cpu/avg_pool2d.cc.
// Every argument is re-checked here (sizes, padding at most half the kernel,
// every window overlapping the input, no aliasing) so a direct call cannot
// make the kernel read or write out of bounds or divide by zero.
#include <string>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "pool_entry.h"
#include "resnext/avg_pool2d.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

using Args = PoolArgs<resnext::AvgPool2dParams>;

Args Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) ThrowType(env, "avgPool2d: expected (input, shape, output, params)");
  Args a;
  a.in = GetFloat32Array(info[0], "input");
  a.out = GetFloat32Array(info[2], "output");
  auto s = GetIntArray<4>(info[1], "inputShape", 1, resnext::kMaxElements);
  auto k = GetIntArray<11>(info[3], "params", 0, 1 << 20);
  resnext::AvgPool2dParams& p = a.p;
  p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3];
  p.kh = k[0], p.kw = k[1], p.sh = k[2], p.sw = k[3];
  p.pt = k[4], p.pl = k[5], p.pb = k[6], p.pr = k[7], p.P = k[8], p.Q = k[9];
  if (k[10] > 1) ThrowRange(env, "params[10]: expected countIncludePad as 0 or 1");
  p.count_include_pad = k[10] == 1;
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1) ThrowRange(env, "params: expected kernel and stride of at least 1");
  if (2 * p.pt > p.kh || 2 * p.pb > p.kh || 2 * p.pl > p.kw || 2 * p.pr > p.kw)
    ThrowRange(env, "params: expected padding of at most half the kernel");
  if (p.P < 1 || p.Q < 1 || (p.P - 1) * p.sh - p.pt >= p.H || (p.Q - 1) * p.sw - p.pl >= p.W)
    ThrowRange(env, "params: expected an output size whose windows all overlap the input");
  CheckPoolBuffers(env, a, static_cast<double>(p.N) * p.C * p.H * p.W, static_cast<double>(p.N) * p.C * p.P * p.Q);
  return a;
}

using Entry = PoolEntry<resnext::AvgPool2dParams, Parse, resnext::AvgPool2d>;

Napi::Value RunAsync(const Napi::CallbackInfo& info) { return Entry::RunAsync(info, "resnext:avgPool2d"); }

}  // namespace

void RegisterAvgPool2d(Napi::Env env, Napi::Object exports) {
  exports.Set("avgPool2d", Napi::Function::New(env, Entry::Run, "avgPool2d"));
  exports.Set("avgPool2dAsync", Napi::Function::New(env, RunAsync, "avgPool2dAsync"));
}

}  // namespace resnext_napi
