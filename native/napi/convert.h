// Conversion of JS arguments into plain native values, with type and range
// checks that name the parameter. Throws Napi::Error (C++ exceptions on).
#pragma once

#include <napi.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "resnext/conv_params.h"

namespace resnext_napi {

// A borrowed Float32Array: pointer, length, and the byte range it covers in its
// ArrayBuffer (for overlap checks).
struct F32View {
  float* data = nullptr;
  int64_t length = 0;
  Napi::Value value;  // the typed array itself, for pinning
};

// Refuses (RangeError) arrays over a resizable ArrayBuffer or a growable
// SharedArrayBuffer: their memory can move or shrink while a call runs.
F32View GetFloat32Array(const Napi::Value& v, const char* name);
// Same, but undefined/null give an empty view.
F32View GetOptionalFloat32Array(const Napi::Value& v, const char* name);

// A copy of an optional Float64Array of exactly `length` finite values
// (undefined/null: empty), e.g. per-channel scales read once at construction.
std::vector<double> GetOptionalFloat64Values(const Napi::Value& v, const char* name, int64_t length);

// An integer in [min, max] (a JS number with no fractional part).
int64_t GetInt(const Napi::Value& v, const char* name, int64_t min, int64_t max);

// An array of exactly N integers each in [min, max].
template <size_t N>
std::array<int64_t, N> GetIntArray(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  Napi::Env env = v.Env();
  if (!v.IsArray())
    throw Napi::TypeError::New(env, std::string(name) + ": expected an array of " + std::to_string(N) + " integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != N)
    throw Napi::RangeError::New(env, std::string(name) + ": expected " + std::to_string(N) + " entries but received " +
                                         std::to_string(a.Length()));
  std::array<int64_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    std::string item = std::string(name) + "[" + std::to_string(i) + "]";
    out[i] = GetInt(a.Get(static_cast<uint32_t>(i)), item.c_str(), min, max);
  }
  return out;
}

// A conv plan's geometry from the weight shape [K, C/groups, R, S] and the
// options object's groups, stride, dilation and padding ([top, left, bottom,
// right]); N, H, W and the activation are left for the caller.
resnext::ConvParams GetConvGeometry(const Napi::Object& o, const std::array<int64_t, 4>& wshape);

// The conv `algorithm` option: undefined/null or 'auto' -> false, 'direct' -> true
// (ConvPlanOptions::direct_only).
bool GetDirectOnly(const Napi::Value& v, const char* name);

// Throws a TypeError unless the view's array still has the data pointer and
// length it had when read: reading later arguments can run JS (getters,
// proxies) that detaches an array read earlier. Called after all arguments
// are read and before native code touches the memory.
void Recheck(const F32View& v, const char* name);

// True when the two views' bytes overlap (same ArrayBuffer memory).
bool Overlaps(const F32View& a, const F32View& b);
// True when the two views are the same floats: same start and length.
bool SameView(const F32View& a, const F32View& b);

}  // namespace resnext_napi
