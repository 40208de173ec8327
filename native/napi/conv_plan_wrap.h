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
//
// The TS layer validates first; everything here is re-checked so a direct call
// cannot crash the process or make a kernel read out of bounds.
#pragma once

#include <napi.h>

#include <memory>

#include "resnext/conv_plan.h"

namespace resnext_napi {

class ConvPlanWrap : public Napi::ObjectWrap<ConvPlanWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ConvPlanWrap(const Napi::CallbackInfo& info);

  const resnext::ConvPlan& plan() const { return *plan_; }

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunAsync(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);

  std::unique_ptr<resnext::ConvPlan> plan_;
};

}  // namespace resnext_napi
