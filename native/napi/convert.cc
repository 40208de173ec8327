// Argument conversion for the N-API layer (see convert.h).
#include "convert.h"

#include <cmath>

#include "resnext/validate.h"

namespace resnext_napi {

F32View GetFloat32Array(const Napi::Value& v, const char* name) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, std::string(name) + ": expected a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  // A resizable ArrayBuffer or growable SharedArrayBuffer can change length
  // under a call (shrinking frees the memory the kernel would use): refused.
  Napi::Value buf = a.ArrayBuffer();
  if (buf.IsObject()) {
    Napi::Object b = buf.As<Napi::Object>();
    if (b.Get("resizable").ToBoolean() || b.Get("growable").ToBoolean())
      throw Napi::RangeError::New(env, std::string(name) +
                                           ": expected a Float32Array over a fixed-length buffer but received one over "
                                           "a resizable ArrayBuffer or growable SharedArrayBuffer");
  }
  F32View view;
  view.data = a.Data();
  view.length = static_cast<int64_t>(a.ElementLength());
  view.value = v;
  return view;
}

F32View GetOptionalFloat32Array(const Napi::Value& v, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return F32View{};
  return GetFloat32Array(v, name);
}

std::vector<double> GetOptionalFloat64Values(const Napi::Value& v, const char* name, int64_t length) {
  if (v.IsUndefined() || v.IsNull()) return {};
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, std::string(name) + ": expected a Float64Array");
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  if (static_cast<int64_t>(a.ElementLength()) != length)
    throw Napi::RangeError::New(env, std::string(name) + ": expected " + std::to_string(length) +
                                         " elements but received " + std::to_string(a.ElementLength()));
  std::vector<double> out(a.Data(), a.Data() + a.ElementLength());
  for (double d : out)
    if (!std::isfinite(d))
      throw Napi::RangeError::New(env,
                                  std::string(name) + ": expected finite values but received " + std::to_string(d));
  return out;
}

int64_t GetInt(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  Napi::Env env = v.Env();
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(name) + ": expected an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throw Napi::RangeError::New(env, std::string(name) + ": expected an integer in [" + std::to_string(min) + ", " +
                                         std::to_string(max) + "] but received " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

resnext::ConvParams GetConvGeometry(const Napi::Object& o, const std::array<int64_t, 4>& wshape) {
  resnext::ConvParams p;
  p.G = GetInt(o.Get("groups"), "groups", 1, resnext::kMaxElements);
  p.K = wshape[0];
  p.C = wshape[1] * p.G;  // both bounded by 2^31, so the product fits int64
  p.R = wshape[2];
  p.S = wshape[3];
  const auto stride = GetIntArray<2>(o.Get("stride"), "stride", 1, 1 << 24);
  const auto dil = GetIntArray<2>(o.Get("dilation"), "dilation", 1, 1 << 24);
  const auto pad = GetIntArray<4>(o.Get("padding"), "padding", 0, 1 << 24);
  p.stride_h = stride[0];
  p.stride_w = stride[1];
  p.dil_h = dil[0];
  p.dil_w = dil[1];
  p.pad_top = pad[0];
  p.pad_left = pad[1];
  p.pad_bottom = pad[2];
  p.pad_right = pad[3];
  return p;
}

bool GetDirectOnly(const Napi::Value& v, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return false;
  Napi::Env env = v.Env();
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string(name) + ": expected 'auto' or 'direct'");
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s != "auto" && s != "direct")
    throw Napi::RangeError::New(env, std::string(name) + ": expected 'auto' or 'direct' but received '" + s + "'");
  return s == "direct";
}

void Recheck(const F32View& v, const char* name) {
  if (v.value.IsEmpty() || v.value.IsUndefined()) return;
  Napi::Env env = v.value.Env();
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type;
  napi_status st = napi_get_typedarray_info(env, v.value, &type, &length, &data, nullptr, nullptr);
  if (st != napi_ok || data != v.data || static_cast<int64_t>(length) != v.length)
    throw Napi::TypeError::New(env, std::string(name) +
                                        ": expected a Float32Array that stays attached during the call but it was "
                                        "detached or moved while the arguments were read");
}

bool Overlaps(const F32View& a, const F32View& b) {
  if (a.data == nullptr || b.data == nullptr || a.length == 0 || b.length == 0) return false;
  const char* a0 = reinterpret_cast<const char*>(a.data);
  const char* a1 = a0 + a.length * sizeof(float);
  const char* b0 = reinterpret_cast<const char*>(b.data);
  const char* b1 = b0 + b.length * sizeof(float);
  return a0 < b1 && b0 < a1;
}

bool SameView(const F32View& a, const F32View& b) {
  return a.data != nullptr && a.data == b.data && a.length == b.length;
}

}  // namespace resnext_napi
