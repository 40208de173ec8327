// An AsyncWorker that runs a closure returning a resnext::Status on a libuv
// thread and settles a promise (convolutions, the inference layers, network
// programs).
//
// Buffer rule for async calls: N-API cannot keep an ArrayBuffer's memory alive
// (a JS `transfer` detaches it and frees the store whatever references we
// hold), so the closure never sees JS memory. Inputs are copied into native
// memory when the call starts (Input()); outputs are written to native staging
// (Output()) and copied into the JS array when the call settles on the JS
// thread, after checking that the array is still attached with its length
// (otherwise the promise rejects with code ERR_RESNEXT_DETACHED and the result
// is discarded). Resizable and growable buffers are refused earlier, by
// GetFloat32Array.
//
// Settling tolerates an environment that is being torn down (a worker
// terminated while the call ran): the promise can then no longer be settled,
// and a failure to do so is ignored instead of escaping as a C++ exception.
#pragma once

#include <napi.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "resnext/status.h"

namespace resnext_napi {

class LayerWorker : public Napi::AsyncWorker {
 public:
  // A worker to be filled with Input()/Output()/Pin() and started with Start().
  static LayerWorker* Create(Napi::Env env, const char* name) { return new LayerWorker(env, name); }

  // A native copy of the view's elements, valid until the worker is destroyed.
  const float* Input(const F32View& v) {
    if (v.data == nullptr) return nullptr;
    Buffer b = Take(v.length);
    if (v.length > 0) std::memcpy(b.data.get(), v.data, static_cast<size_t>(v.length) * sizeof(float));
    inputs_.push_back(std::move(b));
    return inputs_.back().data.get();
  }

  // Native staging for the view, copied into it when the call succeeds.
  float* Output(const F32View& v) {
    Staged s;
    s.length = v.length;
    s.buffer = Take(v.length);
    s.target = Napi::Persistent(v.value.As<Napi::Object>());
    outputs_.push_back(std::move(s));
    return outputs_.back().buffer.data.get();
  }

  // Native staging for a Float64Array (e.g. per-step timings), copied into it
  // like Output() when the call succeeds.
  double* OutputF64(const Napi::Value& target, int64_t length) {
    StagedF64 s;
    s.data.assign(static_cast<size_t>(length > 0 ? length : 1), 0.0);
    s.length = length;
    s.target = Napi::Persistent(target.As<Napi::Object>());
    outputs_f64_.push_back(std::move(s));
    return outputs_f64_.back().data.data();
  }

  ~LayerWorker() override {
    // On the JS thread (node-addon-api destroys a worker after OnOK/OnError).
    for (Buffer& b : inputs_) staging_.Release(std::move(b.data), b.capacity);
    for (Staged& s : outputs_) staging_.Release(std::move(s.buffer.data), s.buffer.capacity);
  }

  // Keeps a JS object (e.g. the plan) alive until the worker is done.
  void Pin(const Napi::Value& v) {
    if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  // Queues the closure and returns the promise; the worker owns itself from here.
  Napi::Promise Start(std::function<resnext::Status()> fn) {
    fn_ = std::move(fn);
    Queue();
    return Napi::Promise(Env(), promise_);
  }

  void Execute() override {
    try {
      status_ = fn_();
    } catch (const std::exception& e) {
      status_ = resnext::Status::Internal(name_ + " worker: " + e.what());
    } catch (...) {
      status_ = resnext::Status::Internal(name_ + " worker: unknown exception");
    }
  }

  void OnOK() override {
    try {
      if (!status_.ok()) return Settle(false, StatusToError(Env(), status_).Value());
      // Every target is checked before any is written: a failed call writes none.
      std::vector<void*> dst(outputs_.size() + outputs_f64_.size());
      for (size_t i = 0; i < dst.size(); ++i) {
        const bool f32 = i < outputs_.size();
        const Napi::ObjectReference& target = f32 ? outputs_[i].target : outputs_f64_[i - outputs_.size()].target;
        const int64_t want = f32 ? outputs_[i].length : outputs_f64_[i - outputs_.size()].length;
        size_t length = 0;
        napi_typedarray_type type;
        if (napi_get_typedarray_info(Env(), target.Value(), &type, &length, &dst[i], nullptr, nullptr) != napi_ok ||
            (dst[i] == nullptr && want > 0) || static_cast<int64_t>(length) != want) {
          Napi::Error e = Napi::Error::New(Env(), name_ + ": the output buffer was detached (transferred) or " +
                                                      "resized while the call ran; the result was discarded");
          e.Set("code", Napi::String::New(Env(), "ERR_RESNEXT_DETACHED"));
          return Settle(false, e.Value());
        }
      }
      for (size_t i = 0; i < outputs_.size(); ++i)
        if (outputs_[i].length > 0)
          std::memcpy(dst[i], outputs_[i].buffer.data.get(), static_cast<size_t>(outputs_[i].length) * sizeof(float));
      for (size_t i = 0; i < outputs_f64_.size(); ++i)
        if (outputs_f64_[i].length > 0)
          std::memcpy(dst[outputs_.size() + i], outputs_f64_[i].data.data(),
                      static_cast<size_t>(outputs_f64_[i].length) * sizeof(double));
      Settle(true, Env().Undefined());
    } catch (...) {
      // The environment is going away: nothing can observe the promise any more.
    }
  }

  void OnError(const Napi::Error& e) override {
    try {
      Settle(false, e.Value());
    } catch (...) {
    }
  }

 private:
  struct Buffer {
    std::unique_ptr<float[]> data;
    size_t capacity = 0;
  };
  struct Staged {
    Buffer buffer;
    int64_t length = 0;
    Napi::ObjectReference target;
  };

  struct StagedF64 {
    std::vector<double> data;
    int64_t length = 0;
    Napi::ObjectReference target;
  };

  Buffer Take(int64_t length) {
    Buffer b;
    b.data = staging_.Acquire(static_cast<size_t>(length > 0 ? length : 1), &b.capacity);
    return b;
  }

  LayerWorker(Napi::Env env, const char* name) : Napi::AsyncWorker(env, name), name_(name), staging_(StagingOf(env)) {
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
  }

  // Settles through the C API, whose failures (in an environment being torn
  // down) are ignored; Napi::Promise::Deferred would throw them.
  void Settle(bool ok, napi_value v) {
    if (ok) {
      napi_resolve_deferred(Env(), deferred_, v);
    } else {
      napi_reject_deferred(Env(), deferred_, v);
    }
  }

  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
  std::function<resnext::Status()> fn_;
  std::string name_;
  resnext::Status status_;
  StagingPool& staging_;
  std::vector<Buffer> inputs_;
  std::vector<Staged> outputs_;
  std::vector<StagedF64> outputs_f64_;
  std::vector<Napi::ObjectReference> pins_;
};

// Registration functions of the layer wrappers (one per *_wrap.cc).
void RegisterMaxPool2d(Napi::Env env, Napi::Object exports);
void RegisterAvgPool2d(Napi::Env env, Napi::Object exports);
void RegisterGlobalAvgPool(Napi::Env env, Napi::Object exports);
void RegisterLinear(Napi::Env env, Napi::Object exports);
void RegisterNetwork(Napi::Env env, Napi::Object exports);

}  // namespace resnext_napi
