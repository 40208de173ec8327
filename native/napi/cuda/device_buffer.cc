// DeviceBuffer: one allocation of device memory holding `elements` values of a
// dtype (float32/float16/bfloat16), owned by a JS object. dispose() frees it at
// once; otherwise the finalizer does. Frees are stream-ordered, so memory that
// queued kernels still read stays valid until they are done.
//
// upload/download take the logical NCHW dims of a rank-4 tensor when the
// buffer is to hold it as NHWC (the layout our kernels and cuDNN read); with
// null dims the data is copied densely in order. Host data is always float32.
//
// new DeviceBuffer(elements, dtype, parent) is a view of the first `elements`
// of parent (same dtype): it owns nothing, keeps parent from being collected,
// and reads as disposed once parent is. The model forward uses views to run
// layers of different sizes in a few buffers allocated once per input shape.
#include "cuda/convert.h"
#include "cuda/cuda_status.h"
#include "cuda/runtime.h"
#include "glue.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "resnext/validate.h"

namespace resnext_cuda_napi {
namespace {

using resnext::Status;
using resnext::cuda::DType;
using resnext_napi::ThrowRange;
using resnext_napi::ThrowStatus;
using resnext_napi::ThrowType;

void Check(Napi::Env env, const Status& s) {
  if (!s.ok()) ThrowStatus(env, s);
}

void CheckCuda(Napi::Env env, cudaError_t err, const char* what) { Check(env, resnext::cuda::FromCuda(err, what)); }

// [N, C, H, W] or none; the product must equal `elements`.
bool GetDims(const Napi::Value& v, int64_t elements, int64_t dims[4]) {
  if (v.IsNull() || v.IsUndefined()) return false;
  auto d = resnext_napi::GetIntArray<4>(v, "dims", 0, resnext::kMaxElements);
  if (d[0] * d[1] * d[2] * d[3] != elements)
    ThrowRange(v.Env(), "dims: expected a shape with " + std::to_string(elements) + " elements but received [" +
                            std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " + std::to_string(d[2]) + ", " +
                            std::to_string(d[3]) + "]");
  for (int i = 0; i < 4; i++) dims[i] = d[i];
  return true;
}

class DeviceBufferWrap : public Napi::ObjectWrap<DeviceBufferWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "DeviceBuffer",
                                   {
                                       InstanceAccessor<&DeviceBufferWrap::Elements>("elements"),
                                       InstanceAccessor<&DeviceBufferWrap::Bytes>("bytes"),
                                       InstanceAccessor<&DeviceBufferWrap::DTypeGetter>("dtype"),
                                       InstanceMethod<&DeviceBufferWrap::Upload>("upload"),
                                       InstanceMethod<&DeviceBufferWrap::Download>("download"),
                                       InstanceMethod<&DeviceBufferWrap::DownloadAsync>("downloadAsync"),
                                       InstanceMethod<&DeviceBufferWrap::CopyFrom>("copyFrom"),
                                       InstanceMethod<&DeviceBufferWrap::Dispose>("dispose"),
                                   });
    AddonData(env).device_buffer = Napi::Persistent(f);
    exports.Set("DeviceBuffer", f);
  }

  // new DeviceBuffer(elements, dtype)
  explicit DeviceBufferWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBufferWrap>(info) {
    Napi::Env env = info.Env();
    elements_ = resnext_napi::GetInt(info[0], "elements", 0, resnext::kMaxElements);
    const int64_t t = resnext_napi::GetInt(info[1], "dtype", 0, 2);
    dtype_ = static_cast<DType>(t);
    bytes_ = static_cast<size_t>(elements_) * resnext::cuda::DTypeSize(dtype_);
    if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
      if (!info[2].IsObject() || !info[2].As<Napi::Object>().InstanceOf(AddonData(env).device_buffer.Value()))
        ThrowType(env, "parent: expected a DeviceBuffer");
      DeviceBufferWrap* parent = Unwrap(info[2].As<Napi::Object>());
      if (!parent->ptr()) ThrowType(env, "parent: expected a live DeviceBuffer but received a disposed one");
      if (parent->parent_) ThrowRange(env, "parent: expected an owning DeviceBuffer but received a view");
      if (parent->dtype_ != dtype_)
        ThrowRange(env, std::string("dtype: expected the parent's (") + resnext::cuda::DTypeName(parent->dtype_) +
                            ") but received " + resnext::cuda::DTypeName(dtype_));
      if (elements_ > parent->elements_)
        ThrowRange(env, "elements: expected at most the parent's " + std::to_string(parent->elements_) +
                            " but received " + std::to_string(elements_));
      parent_ = parent;
      parent_ref_ = Napi::Persistent(info[2].As<Napi::Object>());
      ptr_ = parent->ptr_;
      return;
    }
    Check(env, resnext::cuda::Alloc(bytes_, &ptr_));
  }

  ~DeviceBufferWrap() override { Release(); }

  void* ptr() const { return parent_ && !parent_->ptr_ ? nullptr : ptr_; }
  int64_t elements() const { return elements_; }
  DType dtype() const { return dtype_; }

 private:
  void Release() {
    if (ptr_ && !parent_) resnext::cuda::Free(ptr_, bytes_);
    ptr_ = nullptr;
    if (parent_) {
      parent_ref_.Reset();
      parent_ = nullptr;  // ptr() must not look at a parent we no longer keep alive
    }
  }

  void CheckLive(Napi::Env env) const {
    if (!ptr()) ThrowType(env, "DeviceBuffer: expected a live buffer but received a disposed one");
  }

  Napi::Value Elements(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(elements_));
  }
  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(bytes_));
  }
  Napi::Value DTypeGetter(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<int>(dtype_));
  }

  // upload(host: Float32Array, dims: [N,C,H,W] | null)
  Napi::Value Upload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env);
    resnext_napi::F32View host = resnext_napi::GetFloat32Array(info[0], "data");
    if (host.length != elements_)
      ThrowRange(
          env, "data: expected " + std::to_string(elements_) + " elements but received " + std::to_string(host.length));
    int64_t dims[4];
    const bool nhwc = GetDims(info[1], elements_, dims);
    cudaStream_t stream = resnext::cuda::Stream();
    if (!nhwc && dtype_ == DType::kF32) {
      CheckCuda(env, cudaMemcpyAsync(ptr_, host.data, bytes_, cudaMemcpyHostToDevice, stream), "upload");
    } else {
      void* staging = nullptr;
      Check(env, resnext::cuda::Scratch(static_cast<size_t>(elements_) * 4, &staging));
      CheckCuda(env,
                cudaMemcpyAsync(staging, host.data, static_cast<size_t>(elements_) * 4, cudaMemcpyHostToDevice, stream),
                "upload");
      if (nhwc)
        Check(env, resnext::cuda::NchwToNhwc(staging, DType::kF32, ptr_, dtype_, dims[0], dims[1], dims[2] * dims[3],
                                             stream));
      else
        Check(env, resnext::cuda::ConvertDType(staging, DType::kF32, ptr_, dtype_, elements_, stream));
    }
    // The JS array may be written as soon as we return: wait until it was read.
    CheckCuda(env, cudaStreamSynchronize(stream), "upload");
    return env.Undefined();
  }

  // Enqueues the conversion to dense float32 NCHW; returns the device pointer
  // holding it (this buffer itself when no conversion is needed) and whether
  // it is a temporary the caller must free.
  void* StageForDownload(Napi::Env env, const Napi::Value& dims_v, bool* temp) {
    int64_t dims[4];
    const bool nhwc = GetDims(dims_v, elements_, dims);
    *temp = false;
    if (!nhwc && dtype_ == DType::kF32) return ptr_;
    void* out = nullptr;
    Check(env, resnext::cuda::Alloc(static_cast<size_t>(elements_) * 4, &out));
    *temp = true;
    Status s = nhwc ? resnext::cuda::NhwcToNchw(ptr_, dtype_, out, DType::kF32, dims[0], dims[1], dims[2] * dims[3],
                                                resnext::cuda::Stream())
                    : resnext::cuda::ConvertDType(ptr_, dtype_, out, DType::kF32, elements_, resnext::cuda::Stream());
    if (!s.ok()) {
      resnext::cuda::Free(out, static_cast<size_t>(elements_) * 4);
      ThrowStatus(env, s);
    }
    return out;
  }

  // download(dims | null): Float32Array (blocks until queued work is done)
  Napi::Value Download(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env);
    bool temp = false;
    void* src = StageForDownload(env, info[0], &temp);
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(elements_));
    cudaError_t err = cudaStreamSynchronize(resnext::cuda::Stream());
    if (err == cudaSuccess && elements_ > 0)
      err = cudaMemcpy(out.Data(), src, static_cast<size_t>(elements_) * 4, cudaMemcpyDeviceToHost);
    if (temp) resnext::cuda::Free(src, static_cast<size_t>(elements_) * 4);
    CheckCuda(env, err, "download");
    return out;
  }

  // downloadAsync(dims | null): Promise<Float32Array>, waited for off the event loop
  Napi::Value DownloadAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env);
    bool temp = false;
    void* src = StageForDownload(env, info[0], &temp);
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(elements_));
    float* dst = out.Data();
    const size_t bytes = static_cast<size_t>(elements_) * 4;
    auto out_ref = std::make_shared<Napi::Reference<Napi::Float32Array>>(Napi::Persistent(out));
    return WhenStreamDone(
        env, {Value(), out},
        [dst, src, bytes]() -> cudaError_t {
          return bytes ? cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost) : cudaSuccess;
        },
        [out_ref, src, temp, bytes](Napi::Env) -> Napi::Value {
          if (temp) resnext::cuda::Free(src, bytes);
          return out_ref->Value();
        });
  }

  // copyFrom(src: DeviceBuffer, mode: 'convert' | 'toNhwc' | 'toNchw', dims | null):
  // this = src converted to this dtype, optionally re-laid out; dims are the
  // logical [N, C, H, W] of the tensor.
  Napi::Value CopyFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env);
    BufferView src = GetBuffer(info[0], "src");
    if (src.elements != elements_)
      ThrowRange(
          env, "src: expected " + std::to_string(elements_) + " elements but received " + std::to_string(src.elements));
    if (!info[1].IsString()) ThrowType(env, "mode: expected 'convert', 'toNhwc' or 'toNchw'");
    const std::string mode = info[1].As<Napi::String>().Utf8Value();
    cudaStream_t stream = resnext::cuda::Stream();
    if (mode == "convert") {
      Check(env, resnext::cuda::ConvertDType(src.ptr, src.dtype, ptr_, dtype_, elements_, stream));
    } else if (mode == "toNhwc" || mode == "toNchw") {
      int64_t dims[4];
      if (!GetDims(info[2], elements_, dims)) ThrowType(env, "dims: expected [N, C, H, W]");
      if (src.ptr == ptr_) ThrowRange(env, "src: a transpose cannot run in place");
      Check(env, mode == "toNhwc" ? resnext::cuda::NchwToNhwc(src.ptr, src.dtype, ptr_, dtype_, dims[0], dims[1],
                                                              dims[2] * dims[3], stream)
                                  : resnext::cuda::NhwcToNchw(src.ptr, src.dtype, ptr_, dtype_, dims[0], dims[1],
                                                              dims[2] * dims[3], stream));
    } else {
      ThrowRange(env, "mode: expected 'convert', 'toNhwc' or 'toNchw' but received \"" + mode + "\"");
    }
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void* ptr_ = nullptr;
  DeviceBufferWrap* parent_ = nullptr;  // set for a view
  Napi::ObjectReference parent_ref_;
  int64_t elements_ = 0;
  size_t bytes_ = 0;
  DType dtype_ = DType::kF32;
};

}  // namespace

BufferView GetBuffer(const Napi::Value& v, const char* name) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(AddonData(env).device_buffer.Value()))
    ThrowType(env, std::string(name) + ": expected a DeviceBuffer");
  DeviceBufferWrap* w = DeviceBufferWrap::Unwrap(v.As<Napi::Object>());
  if (!w->ptr()) ThrowType(env, std::string(name) + ": expected a live DeviceBuffer but received a disposed one");
  BufferView b;
  b.ptr = w->ptr();
  b.elements = w->elements();
  b.dtype = w->dtype();
  b.object = v.As<Napi::Object>();
  return b;
}

BufferView GetOptionalBuffer(const Napi::Value& v, const char* name) {
  if (v.IsNull() || v.IsUndefined()) return BufferView{};
  return GetBuffer(v, name);
}

void InitDeviceBuffer(Napi::Env env, Napi::Object exports) { DeviceBufferWrap::Init(env, exports); }

}  // namespace resnext_cuda_napi
