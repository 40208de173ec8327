// Argument checks shared by the layer entry points (max_pool2d_wrap.cc,
// global_avg_pool_wrap.cc, linear_wrap.cc) and the layer programs of
// network_wrap.cc, so both paths enforce the same bounds. `at` prefixes the
// parameter names in error messages.
#pragma once

#include <napi.h>

#include <string>

#include "convert.h"
#include "errors.h"
#include "resnext/max_pool2d.h"
#include "resnext/validate.h"

namespace resnext_napi {

// Throws a RangeError unless v has exactly n elements.
inline void WantLength(Napi::Env env, const F32View& v, double n, const std::string& name) {
  if (static_cast<double>(v.length) != n)
    ThrowRange(env, name + ": expected " + std::to_string(static_cast<int64_t>(n)) + " elements but received " +
                        std::to_string(v.length));
}

// [N, C, H, W] and [kh, kw, sh, sw, ph, pw], checked: kernel and stride >= 1,
// padding <= kernel / 2 (as torch), and a window that fits the padded input.
inline resnext::MaxPool2dParams GetMaxPoolParams(const Napi::Value& shape_v, const Napi::Value& params_v,
                                                 const std::string& at) {
  Napi::Env env = shape_v.Env();
  auto s = GetIntArray<4>(shape_v, (at + "inputShape").c_str(), 1, resnext::kMaxElements);
  auto k = GetIntArray<6>(params_v, (at + "params").c_str(), 0, 1 << 20);
  resnext::MaxPool2dParams p;
  p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3];
  p.kh = k[0], p.kw = k[1], p.sh = k[2], p.sw = k[3], p.ph = k[4], p.pw = k[5];
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1)
    ThrowRange(env, at + "params: expected kernel and stride of at least 1");
  if (2 * p.ph > p.kh || 2 * p.pw > p.kw) ThrowRange(env, at + "params: expected padding of at most half the kernel");
  if (p.H + 2 * p.ph < p.kh || p.W + 2 * p.pw < p.kw)
    ThrowRange(env, at + "inputShape: expected an input at least as large as the kernel");
  return p;
}

// A max pool's layouts (p->cb_in, p->cb_out: 0 NCHW, else 8 or 16), checked: NCHW -> NCHW,
// NCHW -> blocked or blocked -> blocked with the same block size.
inline void CheckMaxPoolLayouts(Napi::Env env, const resnext::MaxPool2dParams& p, const std::string& at) {
  auto valid = [](int cb) { return cb == 0 || cb == 8 || cb == 16; };
  if (!valid(p.cb_in) || !valid(p.cb_out))
    ThrowRange(env, at + "layouts: expected block sizes of 0 (NCHW), 8 or 16 but received [" + std::to_string(p.cb_in) +
                        ", " + std::to_string(p.cb_out) + "]");
  if (p.cb_in != 0 && p.cb_in != p.cb_out)
    ThrowRange(env, at + "layouts: expected a blocked input to give an output of the same block size but received [" +
                        std::to_string(p.cb_in) + ", " + std::to_string(p.cb_out) + "]");
}

// Floats of an [N, C, H, W] activation in a layout (cb 0: NCHW; else channels rounded up to blocks of cb).
inline double LayoutFloats(int64_t N, int64_t C, int64_t H, int64_t W, int cb) {
  const int64_t c = cb == 0 ? C : (C + cb - 1) / cb * cb;
  return static_cast<double>(N) * c * H * W;
}

}  // namespace resnext_napi
