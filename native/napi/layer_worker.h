// An AsyncWorker for the inference layers (max pool, global average pool,
// linear): runs a prepared closure that returns a resnext::Status on a libuv
// thread and settles a promise. The typed arrays the closure reads and writes
// are pinned with references until the worker is done.
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <vector>

#include "errors.h"
#include "resnext/status.h"

namespace resnext_napi {

class LayerWorker : public Napi::AsyncWorker {
 public:
  LayerWorker(Napi::Env env, const char* name, std::function<resnext::Status()> fn,
              const std::vector<Napi::Value>& pinned)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), fn_(std::move(fn)), name_(name) {
    for (const Napi::Value& v : pinned)
      if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  // Queues the worker and returns its promise.
  static Napi::Promise Start(Napi::Env env, const char* name, std::function<resnext::Status()> fn,
                             const std::vector<Napi::Value>& pinned) {
    auto* w = new LayerWorker(env, name, std::move(fn), pinned);
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
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
    if (status_.ok()) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(StatusToError(Env(), status_).Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<resnext::Status()> fn_;
  std::string name_;
  resnext::Status status_;
  std::vector<Napi::ObjectReference> refs_;
};

// Registration functions of the layer wrappers (one per *_wrap.cc).
void RegisterMaxPool2d(Napi::Env env, Napi::Object exports);
void RegisterAvgPool2d(Napi::Env env, Napi::Object exports);
void RegisterGlobalAvgPool(Napi::Env env, Napi::Object exports);
void RegisterLinear(Napi::Env env, Napi::Object exports);
void RegisterNetwork(Napi::Env env, Napi::Object exports);

}  // namespace resnext_napi
