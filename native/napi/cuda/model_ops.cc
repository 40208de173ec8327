// N-API functions of the model ops on the GPU (native/cuda/model_ops.h), used
// by the whole-model forward (lib/models/fused_cuda.ts). Each only enqueues on
// the addon's stream and returns (so they can also be captured into a CUDA
// graph); the caller keeps the buffers alive until the stream has run them.
//   maxPool2d(x, [N, C, H, W], out, [kh, kw, sh, sw, ph, pw])  NHWC in and out
//   globalAvgPool(x, [N, C, H, W], out)                        out [N][C]
//   linear(x, [N, C], weight, bias | null, out, M)             weight [M][C] float32
#include "cuda/model_ops.h"
#include "cuda/runtime.h"
#include "glue.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "resnext/validate.h"

namespace resnext_cuda_napi {
namespace {

using resnext::cuda::DType;
using resnext_napi::ThrowRange;
using resnext_napi::ThrowStatus;
using resnext_napi::ThrowType;

constexpr int64_t kMaxDim = resnext::kMaxElements;

void CheckElements(Napi::Env env, const BufferView& b, const char* name, int64_t n) {
  if (b.elements != n)
    ThrowRange(env, std::string(name) + ": expected " + std::to_string(n) + " elements but received " +
                        std::to_string(b.elements));
}

void CheckSameDType(Napi::Env env, const BufferView& b, DType want, const char* name) {
  if (b.dtype != want)
    ThrowRange(env, std::string(name) + ": expected dtype " + resnext::cuda::DTypeName(want) + " (x's) but received " +
                        resnext::cuda::DTypeName(b.dtype));
}

void CheckStatus(Napi::Env env, const resnext::Status& s) {
  if (!s.ok()) ThrowStatus(env, s);
}

Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) ThrowType(env, "maxPool2d: expected (x, xShape, out, [kh, kw, sh, sw, ph, pw])");
  BufferView x = GetBuffer(info[0], "x");
  auto s = resnext_napi::GetIntArray<4>(info[1], "x.shape", 1, kMaxDim);
  BufferView out = GetBuffer(info[2], "out");
  auto p = resnext_napi::GetIntArray<6>(info[3], "params", 0, 1 << 16);
  resnext::cuda::PoolDims d;
  d.N = s[0];
  d.C = s[1];
  d.H = s[2];
  d.W = s[3];
  d.kh = static_cast<int>(p[0]);
  d.kw = static_cast<int>(p[1]);
  d.sh = static_cast<int>(p[2]);
  d.sw = static_cast<int>(p[3]);
  d.ph = static_cast<int>(p[4]);
  d.pw = static_cast<int>(p[5]);
  if (d.kh < 1 || d.kw < 1 || d.sh < 1 || d.sw < 1)
    ThrowRange(env, "params: expected a window and stride of at least 1");
  if (d.ph * 2 > d.kh || d.pw * 2 > d.kw)
    ThrowRange(env, "params: expected padding at most half the window (as PyTorch requires)");
  if (d.H + 2 * d.ph < d.kh || d.W + 2 * d.pw < d.kw)
    ThrowRange(env, "x.shape: the padded input is smaller than the window");
  d.P = (d.H + 2 * d.ph - d.kh) / d.sh + 1;
  d.Q = (d.W + 2 * d.pw - d.kw) / d.sw + 1;
  CheckElements(env, x, "x", d.N * d.C * d.H * d.W);
  CheckElements(env, out, "out", d.N * d.C * d.P * d.Q);
  CheckSameDType(env, out, x.dtype, "out");
  if (out.ptr == x.ptr) ThrowRange(env, "out: must not be the same buffer as x");
  CheckStatus(env, resnext::cuda::EnsureReady());
  CheckStatus(env, resnext::cuda::LaunchMaxPool2d(d, x.ptr, out.ptr, x.dtype, resnext::cuda::Stream()));
  return env.Undefined();
}

Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) ThrowType(env, "globalAvgPool: expected (x, xShape, out)");
  BufferView x = GetBuffer(info[0], "x");
  auto s = resnext_napi::GetIntArray<4>(info[1], "x.shape", 1, kMaxDim);
  BufferView out = GetBuffer(info[2], "out");
  CheckElements(env, x, "x", s[0] * s[1] * s[2] * s[3]);
  CheckElements(env, out, "out", s[0] * s[1]);
  CheckSameDType(env, out, x.dtype, "out");
  if (out.ptr == x.ptr) ThrowRange(env, "out: must not be the same buffer as x");
  CheckStatus(env, resnext::cuda::EnsureReady());
  CheckStatus(env, resnext::cuda::LaunchGlobalAvgPool(s[0], s[2] * s[3], s[1], x.ptr, out.ptr, x.dtype,
                                                      resnext::cuda::Stream()));
  return env.Undefined();
}

Napi::Value Linear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6) ThrowType(env, "linear: expected (x, [N, C], weight, bias, out, M)");
  BufferView x = GetBuffer(info[0], "x");
  auto s = resnext_napi::GetIntArray<2>(info[1], "x.shape", 1, kMaxDim);
  BufferView w = GetBuffer(info[2], "weight");
  BufferView b = GetOptionalBuffer(info[3], "bias");
  BufferView out = GetBuffer(info[4], "out");
  const int64_t M = resnext_napi::GetInt(info[5], "outFeatures", 1, kMaxDim);
  const int64_t N = s[0], C = s[1];
  CheckElements(env, x, "x", N * C);
  CheckElements(env, w, "weight", M * C);
  if (w.dtype != DType::kF32) ThrowRange(env, "weight: expected dtype float32");
  if (b.ptr) {
    CheckElements(env, b, "bias", M);
    if (b.dtype != DType::kF32) ThrowRange(env, "bias: expected dtype float32");
  }
  CheckElements(env, out, "out", N * M);
  CheckSameDType(env, out, x.dtype, "out");
  if (out.ptr == x.ptr) ThrowRange(env, "out: must not be the same buffer as x");
  CheckStatus(env, resnext::cuda::EnsureReady());
  CheckStatus(env,
              resnext::cuda::LaunchLinear(N, C, M, x.ptr, static_cast<const float*>(w.ptr),
                                          static_cast<const float*>(b.ptr), out.ptr, x.dtype, resnext::cuda::Stream()));
  return env.Undefined();
}

}  // namespace

void InitModelOps(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d, "maxPool2d"));
  exports.Set("globalAvgPool", Napi::Function::New(env, GlobalAvgPool, "globalAvgPool"));
  exports.Set("linear", Napi::Function::New(env, Linear, "linear"));
}

}  // namespace resnext_cuda_napi
