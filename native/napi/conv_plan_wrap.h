// JS class ConvPlan wrapping resnext::ConvPlan (create once, run many).
//
//   new ConvPlan(weight: Float32Array, weightShape: [K, C/G, R, S],
//                bias: Float32Array | null,
//                opts: { groups, stride: [h, w], dilation: [h, w],
//                        padding: [top, left, bottom, right],
//                        activation: 'none' | 'relu', isa?: string, impl?: string })
//   plan.run(input, [N, C, H, W], output, residual | null): undefined
//   plan.runAsync(input, [N, C, H, W], output, residual | null): Promise<undefined>
//   plan.info(): { impl, isa, fallbacks: string[], packedBytes }
//   plan.dispose(): frees the packed weights now (a runAsync in flight keeps
//                   them until it settles); later calls throw ERR_RESNEXT_DISPOSED
//
// The packed weights are reported to V8 as external memory
// (napi_adjust_external_memory) while the plan holds them, so garbage
// collection of undisposed plans is paced by their real size.
//
// The TS layer validates first; everything here is re-checked so a direct call
// cannot crash the process or make a kernel read out of bounds.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

#include "resnext/conv_plan.h"

namespace resnext_napi {

class ConvPlanWrap : public Napi::ObjectWrap<ConvPlanWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ConvPlanWrap(const Napi::CallbackInfo& info);
  ~ConvPlanWrap() override;

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunAsync(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  // The plan, or ERR_RESNEXT_DISPOSED.
  const resnext::ConvPlan& Live(Napi::Env env) const;
  void Release(Napi::Env env);

  // Shared with async work in flight, which keeps the plan alive until it settles.
  std::shared_ptr<resnext::ConvPlan> plan_;
  int64_t reported_bytes_ = 0;
};

}  // namespace resnext_napi
