// maxPool2d(input, [N, C, H, W], output, [kh, kw, sh, sw, ph, pw], layouts?) and
// maxPool2dAsync(...) -> Promise: the N-API face of native/cpu/max_pool2d.cc.
// layouts: [cbIn, cbOut] (default [0, 0]): 0 NCHW, 8 or 16 the blocked layout
// [N][ceil(C/cb)][H][W][cb]; NCHW -> NCHW, NCHW -> blocked or blocked -> blocked.
// Every argument is re-checked here (sizes, window fits, no aliasing) so a
// direct call cannot make the kernel read or write out of bounds.
#include <string>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "pool_entry.h"
#include "resnext/max_pool2d.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

using Args = PoolArgs<resnext::MaxPool2dParams>;

Args Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) ThrowType(env, "maxPool2d: expected (input, shape, output, params)");
  Args a;
  a.in = GetFloat32Array(info[0], "input");
  a.out = GetFloat32Array(info[2], "output");
  a.p = GetMaxPoolParams(info[1], info[3], "");
  if (info.Length() >= 5 && !info[4].IsUndefined()) {
    auto cb = GetIntArray<2>(info[4], "layouts", 0, 16);
    a.p.cb_in = static_cast<int>(cb[0]), a.p.cb_out = static_cast<int>(cb[1]);
    CheckMaxPoolLayouts(env, a.p, "");
  }
  CheckPoolBuffers(env, a, LayoutFloats(a.p.N, a.p.C, a.p.H, a.p.W, a.p.cb_in),
                   LayoutFloats(a.p.N, a.p.C, a.p.P(), a.p.Q(), a.p.cb_out));
  return a;
}

using Entry = PoolEntry<resnext::MaxPool2dParams, Parse, resnext::MaxPool2d>;

Napi::Value RunAsync(const Napi::CallbackInfo& info) { return Entry::RunAsync(info, "resnext:maxPool2d"); }

}  // namespace

void RegisterMaxPool2d(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, Entry::Run, "maxPool2d"));
  exports.Set("maxPool2dAsync", Napi::Function::New(env, RunAsync, "maxPool2dAsync"));
}

}  // namespace resnext_napi
