// The CPU addon's entry point: the list of exports and nothing else.
//
//   ConvPlan                      class, see conv_plan_wrap.h
//   cpuInfo(): { brand, vendor, family, model, stepping, best, cap, features: {...}, threads, hardwareThreads,
//                allocator: { tuned, reason, mmapThreshold, trimThreshold } }
//     allocator: the malloc policy the addon applied when it loaded (resnext/malloc_policy.h)
//   setNumThreads(n: number): number    (n < 1 = one per core; returns the count)
//   getNumThreads(): number
//     Both concern the calling environment's pool only (addon_data.h): every
//     JS environment (main thread, each worker) has its own.
//   setIsaCap(name: 'scalar' | 'avx2' | 'avx512'): string   (returns the cap in force)
//   alignOffset(a: Float32Array, bytes: number): number   (elements from a's start to its first
//     element at a multiple of bytes, a power of two from 4 to 4096: typed arrays start only 16-byte aligned)
//   sameBytes(a: Float32Array, b: Float32Array): boolean   (same length and bit for bit the same
//     elements, -0 vs 0 and NaN payloads included; split over the environment's pool from 256 KiB:
//     synchronous callers only, since it waits for the pool like a synchronous conv does)
//   maxPool2d / avgPool2d / globalAvgPool / linear (+ *Async): inference layers, see *_wrap.cc
//   Network: whole-network layer programs (fused CPU forward), see network_wrap.cc
#include <napi.h>

#include "addon_data.h"
#include "conv_plan_wrap.h"
#include "layer_worker.h"
#include "convert.h"
#include "errors.h"
#include "resnext/cpu_features.h"
#include "resnext/malloc_policy.h"
#include "resnext/same_bytes.h"
#include "resnext/thread_pool.h"

namespace resnext_napi {

void InitAddonData(Napi::Env env) {
  if (env.GetInstanceData<AddonData>() == nullptr) env.SetInstanceData(new AddonData());
}

resnext::ThreadPool& PoolOf(Napi::Env env) {
  AddonData* d = env.GetInstanceData<AddonData>();
  if (!d->pool) d->pool = std::make_unique<resnext::ThreadPool>(resnext::ThreadPool::DefaultThreads());
  return *d->pool;
}

namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const resnext::CpuFeatures& f = resnext::GetCpuFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("brand", Napi::String::New(env, f.brand));
  o.Set("vendor", Napi::String::New(env, f.vendor));
  o.Set("family", Napi::Number::New(env, f.family));
  o.Set("model", Napi::Number::New(env, f.model));
  o.Set("stepping", Napi::Number::New(env, f.stepping));
  o.Set("best", Napi::String::New(env, resnext::IsaName(f.best)));
  o.Set("cap", Napi::String::New(env, resnext::IsaName(resnext::GetIsaCap())));
  Napi::Object feats = Napi::Object::New(env);
  feats.Set("sse2", f.sse2);
  feats.Set("avx", f.avx);
  feats.Set("avx2", f.avx2);
  feats.Set("fma", f.fma);
  feats.Set("avx512f", f.avx512f);
  feats.Set("avx512bw", f.avx512bw);
  feats.Set("avx512dq", f.avx512dq);
  feats.Set("avx512vl", f.avx512vl);
  feats.Set("osAvx", f.os_avx);
  feats.Set("osAvx512", f.os_avx512);
  feats.Set("avx512DoublePumped", f.avx512_double_pumped);
  o.Set("features", feats);
  o.Set("threads", Napi::Number::New(env, PoolOf(env).NumThreads()));
  o.Set("hardwareThreads", Napi::Number::New(env, resnext::ThreadPool::HardwareThreads()));
  const resnext::MallocPolicy& m = resnext::ApplyMallocPolicy();
  Napi::Object alloc = Napi::Object::New(env);
  alloc.Set("tuned", m.tuned);
  alloc.Set("reason", Napi::String::New(env, m.reason));
  alloc.Set("mmapThreshold", Napi::Number::New(env, static_cast<double>(m.mmap_threshold)));
  alloc.Set("trimThreshold", Napi::Number::New(env, static_cast<double>(m.trim_threshold)));
  o.Set("allocator", alloc);
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = GetInt(info[0], "threads", 0, 1024);
  resnext::ThreadPool& pool = PoolOf(info.Env());
  pool.SetNumThreads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), pool.NumThreads());
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PoolOf(info.Env()).NumThreads());
}

Napi::Value SetIsaCap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "isa: expected 'scalar', 'avx2' or 'avx512'");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  resnext::Isa isa;
  if (!resnext::ParseIsa(name, &isa))
    ThrowRange(env, "isa: expected 'scalar', 'avx2' or 'avx512' but received '" + name + "'");
  return Napi::String::New(env, resnext::IsaName(resnext::SetIsaCap(isa)));
}

Napi::Value AlignOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View a = GetFloat32Array(info[0], "a");
  const int64_t bytes = GetInt(info[1], "bytes", 4, 4096);
  if ((bytes & (bytes - 1)) != 0)
    ThrowRange(env, "bytes: expected a power of two but received " + std::to_string(bytes));
  const uintptr_t addr = reinterpret_cast<uintptr_t>(a.data);
  const uintptr_t pad =
      (static_cast<uintptr_t>(bytes) - addr % static_cast<uintptr_t>(bytes)) % static_cast<uintptr_t>(bytes);
  return Napi::Number::New(env, static_cast<double>(pad / sizeof(float)));
}

Napi::Value SameBytes(const Napi::CallbackInfo& info) {
  F32View a = GetFloat32Array(info[0], "a");
  F32View b = GetFloat32Array(info[1], "b");
  if (a.length != b.length) return Napi::Boolean::New(info.Env(), false);
  const int64_t bytes = a.length * static_cast<int64_t>(sizeof(float));
  return Napi::Boolean::New(info.Env(), resnext::SameBytes(a.data, b.data, bytes, PoolOf(info.Env())));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  resnext::ApplyMallocPolicy();  // once per process, before the first output is allocated
  InitAddonData(env);
  exports.Set("ConvPlan", ConvPlanWrap::Define(env));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setIsaCap", Napi::Function::New(env, SetIsaCap, "setIsaCap"));
  exports.Set("alignOffset", Napi::Function::New(env, AlignOffset, "alignOffset"));
  exports.Set("sameBytes", Napi::Function::New(env, SameBytes, "sameBytes"));
  RegisterMaxPool2d(env, exports);
  RegisterAvgPool2d(env, exports);
  RegisterGlobalAvgPool(env, exports);
  RegisterLinear(env, exports);
  RegisterNetwork(env, exports);
  return exports;
}

}  // namespace resnext_napi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return resnext_napi::Init(env, exports); }

NODE_API_MODULE(resnext, InitAddon)
