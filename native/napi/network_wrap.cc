// JS class Network: the fused CPU engine's native half. It owns one prepared
// ConvPlan per convolution (weights packed once) and any number of layer
// programs (native/cpu/layer_program.cc), each binding those plans and the
// pool/linear kernels to buffers for one input shape, so a whole forward is
// one call (one worker-thread job for runAsync) instead of one per layer.
//
//   new Network(convs: { weight, weightScale?, shape: [K, C/G, R, S], bias | null, groups,
//                        stride: [h, w], padding: [t, l, b, r], activation,
//                        algorithm?, blockedGroup?: number, alternate?: boolean }[])
//     blockedGroup (>= 0): the convs sharing the number run in the blocked
//     layout NCHW[cb]c, all of them or none: when a blocked kernel of the ISA
//     cap runs every one of them, each is packed for its kernel (here, once,
//     shared by every program; its plan is that kernel's registry row, so one
//     packing serves both) and info()[i].blocked names the kernel.
//     weightScale (Float64Array [K], optional): the weights are used as
//     weight[k][...] * weightScale[k], computed in double and rounded to
//     float32 once, while packing (BatchNorm folded here, one conv at a
//     time, so a network never holds a folded copy of all its weights).
//     alternate (optional): where the conv's plan is a transformed kernel
//     (Winograd), also pack its direct plan (the registry's choice with
//     algorithm 'direct'; for a blocked conv the blocked direct kernel of the
//     same block size, when there is one; for an NCHW conv whose kernel names
//     a rival, ConvImpl::alternate, that row instead), so a program can run either (a
//     step's `alternate: true`; kernel choice by measurement in
//     lib/backends/cpu_network.ts). info()[i].alternate names it, or is null.
//   net.addProgram(steps, inputLength): number       (program id)
//     step: { op: 'conv', conv: index, input | null, inputShape: [N, C, H, W], output, residual | null,
//             alternate?: boolean }
//         | { op: 'blockedConv', conv, input | null, inputShape: [N, C, H, W], output, residual | null, cb,
//             alternate?: boolean }
//         | { op: 'toBlocked' | 'fromBlocked', input | null, inputShape: [N, C, H, W], output, cb }
//     inputShape is always the logical NCHW shape; a blocked buffer holds
//     BlockedFloats(N, C, H * W, cb) floats (channels rounded up to blocks of
//     cb, the network's block size: 16 with AVX-512, else 8).
//         | { op: 'maxPool2d', input | null, inputShape, output, params: [kh, kw, sh, sw, ph, pw],
//             cbIn?, cbOut? }   (absent or 0: NCHW; else the network's cb: NCHW -> blocked, blocked -> blocked)
//         | { op: 'globalAvgPool', input | null, inputShape, output, cb? }   (cb: a blocked input)
//         | { op: 'linear', input | null, inputShape: [N, in], weight, weightShape: [out, in], bias | null, output }
//     input null means the program input x (inputLength floats).
//   net.run(id, x, timings?) / net.runAsync(id, x, timings?): Promise
//     timings (Float64Array, one element per step): each step's wall time in
//     nanoseconds (steady clock), written when the run succeeds.
//     A conv step's residual may be its output itself (the same start and
//     size; never a partial overlap) when the step's kernel allows it
//     (ConvImpl / BlockedConv residual_in_place; info()[i].residualInPlace).
//   net.dropProgram(id)    net.info(): per-conv kernel info
//   net.dispose(): frees the plans and programs now (later calls find every program dropped)
//
// Every size, index and aliasing rule is checked when a program is added, and
// x when it runs, so no call can make a kernel read or write out of bounds.
// The program's buffers are pinned by references until it is dropped and
// re-checked (still attached, same memory) before every run; they belong to
// the engine that made them, which never hands them out or transfers them.
// x is copied when runAsync starts. A program runs at most once at a time
// (its buffers are shared state). The packed weights are reported to V8 as
// external memory until dispose() or collection.
#include <napi.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "resnext/conv_blocked.h"
#include "resnext/conv_plan.h"
#include "resnext/cpu_features.h"
#include "resnext/layer_program.h"
#include "resnext/thread_pool.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

constexpr int64_t kMax = resnext::kMaxElements;

struct Program {
  std::vector<resnext::LayerStep> steps;
  std::vector<Napi::ObjectReference> pins;
  std::vector<std::pair<float*, int64_t>> pinned_views;  // what each pin held when added
  std::vector<F32View> outputs;                          // for the x-aliasing check at run time
  int64_t input_length = 0;
  std::atomic<bool> busy{false};
};

class NetworkWrap : public Napi::ObjectWrap<NetworkWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Network",
        {InstanceMethod<&NetworkWrap::AddProgram>("addProgram"), InstanceMethod<&NetworkWrap::Run>("run"),
         InstanceMethod<&NetworkWrap::RunAsync>("runAsync"), InstanceMethod<&NetworkWrap::DropProgram>("dropProgram"),
         InstanceMethod<&NetworkWrap::Dispose>("dispose"), InstanceMethod<&NetworkWrap::Info>("info")});
  }

  explicit NetworkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) ThrowType(env, "Network: expected an array of convolutions");
    Napi::Array convs = info[0].As<Napi::Array>();
    // Parse and check every spec first: a blocked group is decided on all its members.
    struct Spec {
      resnext::ConvParams p;
      F32View w, b;
      std::vector<double> scale;  // [K] or empty
      resnext::ConvPlanOptions popts;
      int64_t group = -1;
      bool alternate = false;
      const resnext::BlockedConv* kernel = nullptr;
    };
    std::vector<Spec> specs;
    for (uint32_t i = 0; i < convs.Length(); ++i) {
      std::string at = "convs[" + std::to_string(i) + "]";
      Napi::Value v = convs.Get(i);
      if (!v.IsObject()) ThrowType(env, at + ": expected an object");
      Napi::Object o = v.As<Napi::Object>();
      Spec sp;
      F32View& w = sp.w;
      F32View& b = sp.b;
      resnext::ConvParams& p = sp.p;
      w = GetFloat32Array(o.Get("weight"), (at + ".weight").c_str());
      auto ws = GetIntArray<4>(o.Get("shape"), (at + ".shape").c_str(), 1, kMax);
      b = GetOptionalFloat32Array(o.Get("bias"), (at + ".bias").c_str());
      p.K = ws[0], p.R = ws[2], p.S = ws[3];
      p.G = GetInt(o.Get("groups"), (at + ".groups").c_str(), 1, kMax);
      p.C = ws[1] * p.G;
      auto st = GetIntArray<2>(o.Get("stride"), (at + ".stride").c_str(), 1, 1 << 24);
      auto pad = GetIntArray<4>(o.Get("padding"), (at + ".padding").c_str(), 0, 1 << 24);
      p.stride_h = st[0], p.stride_w = st[1];
      p.pad_top = pad[0], p.pad_left = pad[1], p.pad_bottom = pad[2], p.pad_right = pad[3];
      Napi::Value act = o.Get("activation");
      if (!act.IsString()) ThrowType(env, at + ".activation: expected 'none' or 'relu'");
      std::string a = act.As<Napi::String>().Utf8Value();
      if (a == "relu") {
        p.activation = resnext::Activation::kRelu;
      } else if (a != "none") {
        ThrowRange(env, at + ".activation: expected 'none' or 'relu' but received '" + a + "'");
      }
      p.N = p.H = p.W = 1;
      resnext::Status s = resnext::ValidateConvPlanParams(p);
      if (!s.ok()) ThrowStatus(env, s);
      if (w.length != p.WeightSize())
        ThrowRange(env, at + ".weight: expected " + std::to_string(p.WeightSize()) + " elements");
      if (b.data != nullptr && b.length != p.K)
        ThrowRange(env, at + ".bias: expected " + std::to_string(p.K) + " elements");
      sp.scale = GetOptionalFloat64Values(o.Get("weightScale"), (at + ".weightScale").c_str(), p.K);
      sp.popts.direct_only = GetDirectOnly(o.Get("algorithm"), (at + ".algorithm").c_str());
      Napi::Value group = o.Get("blockedGroup");
      if (!group.IsUndefined()) sp.group = GetInt(group, (at + ".blockedGroup").c_str(), 0, kMax);
      Napi::Value alt = o.Get("alternate");
      if (!alt.IsUndefined()) {
        if (!alt.IsBoolean()) ThrowType(env, at + ".alternate: expected a boolean");
        sp.alternate = alt.As<Napi::Boolean>().Value();
      }
      specs.push_back(std::move(sp));
    }
    // Reading later specs can run JS (getters) that detaches an array read earlier.
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string at = "convs[" + std::to_string(i) + "]";
      Recheck(specs[i].w, (at + ".weight").c_str());
      if (specs[i].b.data != nullptr) Recheck(specs[i].b, (at + ".bias").c_str());
    }
    // A group runs blocked only if a blocked kernel of the network's block size (that of the ISA in force:
    // 16 with AVX-512, else 8) runs each member. FindBlockedConv may fall back to a lower ISA for one conv (an
    // AVX2 NCHW8c kernel for 40 channels per group where the AVX-512 ones take 16-channel blocks); such a
    // group runs NCHW, so that a program has one block size (Cb(), WantCb()).
    resnext::Isa isa = resnext::GetIsaCap();
    if (isa > resnext::GetCpuFeatures().best) isa = resnext::GetCpuFeatures().best;
    const int network_cb = isa == resnext::Isa::kAvx512 ? 16 : 8;
    std::map<int64_t, bool> group_ok;
    for (Spec& sp : specs) {
      if (sp.group < 0) continue;
      sp.kernel = resnext::FindBlockedConv(sp.p, resnext::GetIsaCap(), sp.popts.direct_only);
      auto it = group_ok.emplace(sp.group, true).first;
      it->second = it->second && sp.kernel != nullptr && sp.kernel->cb == network_cb;
    }
    for (Spec& sp : specs) {
      if (sp.group >= 0 && group_ok[sp.group]) {
        sp.popts.impl = sp.kernel->name;
      } else {
        sp.kernel = nullptr;
      }
      // Scaled weights live only while this conv is packed.
      std::vector<float> scaled;
      const float* weight = sp.w.data;
      if (!sp.scale.empty()) {
        scaled.resize(static_cast<size_t>(sp.w.length));
        const int64_t per = sp.w.length / sp.p.K;
        for (int64_t k = 0; k < sp.p.K; ++k)
          for (int64_t i = k * per; i < (k + 1) * per; ++i)
            scaled[static_cast<size_t>(i)] = static_cast<float>(static_cast<double>(sp.w.data[i]) * sp.scale[k]);
        weight = scaled.data();
      }
      std::unique_ptr<resnext::ConvPlan> plan;
      resnext::Status s = resnext::ConvPlan::Create(sp.p, weight, sp.b.data, sp.popts, &plan);
      if (!s.ok()) ThrowStatus(env, s);
      // The direct alternative, only where it differs: a transformed plan. In the blocked layout it is the
      // blocked direct kernel of the same block size (none: no alternate).
      std::unique_ptr<resnext::ConvPlan> alt;
      const resnext::BlockedConv* alt_kernel = nullptr;
      if (sp.alternate && plan->impl().transformed) {
        resnext::ConvPlanOptions direct = sp.popts;
        const char* other = plan->impl().alternate != nullptr ? plan->impl().alternate(sp.p) : nullptr;
        if (sp.kernel == nullptr && other != nullptr) {
          direct.impl = other;  // the kernel's own choice of rival (ConvImpl::alternate)
        } else {
          direct.direct_only = true;
        }
        if (sp.kernel != nullptr) {
          alt_kernel = resnext::FindBlockedConv(sp.p, resnext::GetIsaCap(), true);
          if (alt_kernel != nullptr && alt_kernel->cb != sp.kernel->cb) alt_kernel = nullptr;
          if (alt_kernel != nullptr) direct.impl = alt_kernel->name;
        }
        if (sp.kernel == nullptr || alt_kernel != nullptr) {
          s = resnext::ConvPlan::Create(sp.p, weight, sp.b.data, direct, &alt);
          if (!s.ok()) ThrowStatus(env, s);
        }
      }
      plans_.push_back(std::move(plan));
      alternates_.push_back(std::move(alt));
      blocked_.push_back(sp.kernel);
      alt_blocked_.push_back(alt_kernel);
    }
    for (const auto& p : plans_) reported_bytes_ += p->packed_bytes();
    for (const auto& p : alternates_)
      if (p) reported_bytes_ += p->packed_bytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, reported_bytes_);
  }

  ~NetworkWrap() override { ReleasePlans(Env()); }

 private:
  static void Pin(Program* prog, const F32View& v) {
    prog->pins.push_back(Napi::Persistent(v.value.As<Napi::Object>()));
    prog->pinned_views.emplace_back(v.data, v.length);
  }

  void ReleasePlans(Napi::Env env) {
    plans_.clear();
    alternates_.clear();
    blocked_.clear();
    alt_blocked_.clear();
    if (reported_bytes_ != 0) napi_adjust_external_memory(env, -reported_bytes_, nullptr);
    reported_bytes_ = 0;
  }

  Napi::Value AddProgram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray()) ThrowType(env, "addProgram: expected (steps, inputLength)");
    auto prog = std::make_unique<Program>();
    prog->input_length = GetInt(info[1], "inputLength", 1, kMax);
    Napi::Array steps = info[0].As<Napi::Array>();
    std::vector<std::vector<F32View>> step_reads;
    for (uint32_t i = 0; i < steps.Length(); ++i) {
      std::string at = "steps[" + std::to_string(i) + "]";
      Napi::Value sv = steps.Get(i);
      if (!sv.IsObject()) ThrowType(env, at + ": expected an object");
      Napi::Object o = sv.As<Napi::Object>();
      Napi::Value opv = o.Get("op");
      if (!opv.IsString()) ThrowType(env, at + ".op: expected a string");
      std::string op = opv.As<Napi::String>().Utf8Value();
      F32View in = GetOptionalFloat32Array(o.Get("input"), (at + ".input").c_str());
      F32View out = GetFloat32Array(o.Get("output"), (at + ".output").c_str());
      resnext::LayerStep s;
      s.input = in.data;
      s.output = out.data;
      double in_size = 0, out_size = 0;
      std::vector<F32View> reads{in};  // what the step reads (input, residual), for FuseReorders
      if (op == "conv" || op == "blockedConv") {
        const bool blocked = op == "blockedConv";
        s.kind = blocked ? resnext::LayerStep::Kind::kBlockedConv : resnext::LayerStep::Kind::kConv;
        int64_t idx = GetInt(o.Get("conv"), (at + ".conv").c_str(), 0, static_cast<int64_t>(plans_.size()) - 1);
        auto shape = GetIntArray<4>(o.Get("inputShape"), (at + ".inputShape").c_str(), 1, kMax);
        bool use_alt = false;
        Napi::Value altv = o.Get("alternate");
        if (!altv.IsUndefined()) {
          if (!altv.IsBoolean()) ThrowType(env, at + ".alternate: expected a boolean");
          use_alt = altv.As<Napi::Boolean>().Value();
        }
        if (use_alt && !alternates_[static_cast<size_t>(idx)])
          ThrowRange(env, at + ".alternate: conv " + std::to_string(idx) +
                              " has no alternate plan (made without alternate, or not a transformed kernel)");
        if (use_alt && blocked != (alt_blocked_[static_cast<size_t>(idx)] != nullptr))
          ThrowRange(env, at + ".alternate: conv " + std::to_string(idx) + "'s alternate plan runs " +
                              (blocked ? "NCHW, not blocked" : "blocked, not NCHW"));
        const resnext::ConvPlan& plan =
            use_alt ? *alternates_[static_cast<size_t>(idx)] : *plans_[static_cast<size_t>(idx)];
        if (shape[1] != plan.params().C)
          ThrowRange(env, at + ".inputShape[1]: expected " + std::to_string(plan.params().C) + " channels");
        resnext::ConvParams p;
        resnext::Status st = plan.Bind(shape[0], shape[2], shape[3], &p);
        if (!st.ok()) ThrowStatus(env, st);
        in_size = static_cast<double>(p.InputSize());
        out_size = static_cast<double>(p.OutputSize());
        if (blocked) {
          const resnext::BlockedConv* kernel =
              use_alt ? alt_blocked_[static_cast<size_t>(idx)] : blocked_[static_cast<size_t>(idx)];
          if (kernel == nullptr)
            ThrowRange(env, at + ".conv: conv " + std::to_string(idx) +
                                " has no blocked kernel (no blockedGroup, or not every conv of its group has one)");
          WantCb(env, o.Get("cb"), at + ".cb");
          s.blocked = kernel;
          s.params = p;
          s.packed = plan.packed_data();
          s.bias = plan.bias_data();
          in_size = static_cast<double>(resnext::BlockedFloats(p.N, p.C, p.H * p.W, kernel->cb));
          out_size = static_cast<double>(resnext::BlockedFloats(p.N, p.K, p.P() * p.Q(), kernel->cb));
        }
        F32View res = GetOptionalFloat32Array(o.Get("residual"), (at + ".residual").c_str());
        if (res.data != nullptr) {
          WantLength(env, res, out_size, at + ".residual");
          // The output may be the residual itself (same start and size) when the step's kernel says it may.
          const bool in_place = blocked ? s.blocked->residual_in_place : plan.residual_in_place();
          if (Overlaps(res, out) && !(in_place && SameView(res, out)))
            ThrowRange(env, at + ".residual: must not share memory with the output" +
                                std::string(in_place ? " unless it is the output itself (same start and size)"
                                                     : " (conv " + std::to_string(idx) + "'s kernel " +
                                                           (blocked ? s.blocked->name : plan.impl().name) +
                                                           " cannot write over its residual)"));
          Pin(prog.get(), res);
        }
        if (res.data != nullptr) reads.push_back(res);
        s.conv = &plan;
        s.residual = res.data;
        s.N = p.N, s.H = p.H, s.W = p.W;
      } else if (op == "toBlocked" || op == "fromBlocked") {
        const bool to = op == "toBlocked";
        s.kind = to ? resnext::LayerStep::Kind::kToBlocked : resnext::LayerStep::Kind::kFromBlocked;
        auto shape = GetIntArray<4>(o.Get("inputShape"), (at + ".inputShape").c_str(), 1, kMax);
        s.cb = WantCb(env, o.Get("cb"), at + ".cb");
        s.N = shape[0], s.C = shape[1], s.hw = shape[2] * shape[3];
        const double plain = static_cast<double>(s.N) * s.C * s.hw;
        const double blocked = static_cast<double>(s.N) * ((s.C + s.cb - 1) / s.cb) * s.cb * s.hw;
        in_size = to ? plain : blocked;
        out_size = to ? blocked : plain;
      } else if (op == "maxPool2d") {
        s.kind = resnext::LayerStep::Kind::kMaxPool2d;
        s.pool = GetMaxPoolParams(o.Get("inputShape"), o.Get("params"), at + ".");
        s.pool.cb_in = OptionalCb(env, o.Get("cbIn"), at + ".cbIn");
        s.pool.cb_out = OptionalCb(env, o.Get("cbOut"), at + ".cbOut");
        const resnext::MaxPool2dParams& p = s.pool;
        CheckMaxPoolLayouts(env, p, at + ".");
        in_size = LayoutFloats(p.N, p.C, p.H, p.W, p.cb_in);
        out_size = LayoutFloats(p.N, p.C, p.P(), p.Q(), p.cb_out);
      } else if (op == "globalAvgPool") {
        s.kind = resnext::LayerStep::Kind::kGlobalAvgPool;
        auto shape = GetIntArray<4>(o.Get("inputShape"), (at + ".inputShape").c_str(), 1, kMax);
        s.planes = shape[0] * shape[1];
        s.hw = shape[2] * shape[3];
        s.N = shape[0], s.C = shape[1];
        s.cb = OptionalCb(env, o.Get("cb"), at + ".cb");
        in_size = LayoutFloats(shape[0], shape[1], shape[2], shape[3], s.cb);
        out_size = static_cast<double>(s.planes);
      } else if (op == "linear") {
        s.kind = resnext::LayerStep::Kind::kLinear;
        auto xs = GetIntArray<2>(o.Get("inputShape"), (at + ".inputShape").c_str(), 1, kMax);
        auto ws = GetIntArray<2>(o.Get("weightShape"), (at + ".weightShape").c_str(), 1, kMax);
        if (ws[1] != xs[1]) ThrowRange(env, at + ".weightShape[1]: expected " + std::to_string(xs[1]));
        F32View w = GetFloat32Array(o.Get("weight"), (at + ".weight").c_str());
        F32View b = GetOptionalFloat32Array(o.Get("bias"), (at + ".bias").c_str());
        WantLength(env, w, static_cast<double>(ws[0]) * ws[1], at + ".weight");
        if (b.data != nullptr) WantLength(env, b, static_cast<double>(ws[0]), at + ".bias");
        if (Overlaps(out, w) || Overlaps(out, b))
          ThrowRange(env, at + ".output: must not share memory with the weights");
        Pin(prog.get(), w);
        if (b.data != nullptr) Pin(prog.get(), b);
        s.rows = xs[0], s.in = xs[1], s.out = ws[0];
        s.weight = w.data;
        s.bias = b.data;
        in_size = static_cast<double>(xs[0]) * xs[1];
        out_size = static_cast<double>(xs[0]) * ws[0];
      } else {
        ThrowRange(env, at +
                            ".op: expected 'conv', 'blockedConv', 'toBlocked', 'fromBlocked', 'maxPool2d', "
                            "'globalAvgPool' or 'linear' but received '" +
                            op + "'");
      }
      if (in.data != nullptr) {
        WantLength(env, in, in_size, at + ".input");
        if (Overlaps(in, out)) ThrowRange(env, at + ".output: must not share memory with the input");
        Pin(prog.get(), in);
      } else if (in_size != static_cast<double>(prog->input_length)) {
        ThrowRange(env, at + ".input: the program input has " + std::to_string(prog->input_length) +
                            " elements but the step reads " + std::to_string(static_cast<int64_t>(in_size)));
      }
      WantLength(env, out, out_size, at + ".output");
      Pin(prog.get(), out);
      prog->outputs.push_back(out);
      prog->steps.push_back(s);
      step_reads.push_back(std::move(reads));
    }
    FuseReorders(prog.get(), step_reads);
    programs_.push_back(std::move(prog));
    return Napi::Number::New(env, static_cast<double>(programs_.size() - 1));
  }

  // A reorder to NCHW (fromBlocked) of the output of a blocked conv that nothing else reads: the conv writes
  // NCHW itself (BlockedConv::run_nchw_out: the 1x1 kernels, without residual) into the reorder's output, and the
  // reorder is skipped (its time reads 0): its read and write of the whole tensor are saved (ResNet-50's and
  // ResNeXt-50's layer3.0 conv1 and shortcut at batch 2 and more, layer2's last conv3 at batch 1: its blocked
  // residual is read as before and its in-place output is not needed; docs/network-profile.md section 28). Only
  // where that changes nothing else: the conv does not read the reorder's output memory, no step between the
  // two touches either tensor, and no step after the reorder reads the blocked output before a step has
  // written over it (a later value may reuse its memory).
  static bool Covers(const F32View& w, const F32View& r) {
    return w.data <= r.data && r.data + r.length <= w.data + w.length;
  }
  static void FuseReorders(Program* prog, std::vector<std::vector<F32View>> reads) {
    std::vector<resnext::LayerStep>& steps = prog->steps;
    // What each step writes and reads as the program runs now: a fused conv writes its reorder's output, and
    // the skipped reorder neither reads nor writes (later decisions see the earlier ones).
    std::vector<F32View> writes = prog->outputs;
    for (size_t j = 0; j < steps.size(); ++j) {
      const resnext::LayerStep& r = steps[j];
      if (r.kind != resnext::LayerStep::Kind::kFromBlocked || r.input == nullptr) continue;
      const F32View blocked_out = reads[j][0];
      const F32View out = writes[j];
      // The producer: the last step before the reorder that writes its input.
      size_t i = j;
      for (size_t k = j; k-- > 0;)
        if (Overlaps(writes[k], blocked_out)) {
          i = k;
          break;
        }
      if (i == j || !SameView(writes[i], blocked_out)) continue;
      resnext::LayerStep& c = steps[i];
      if (c.kind != resnext::LayerStep::Kind::kBlockedConv || c.out_nchw || c.blocked->run_nchw_out == nullptr ||
          c.blocked->cb != r.cb || c.params.N != r.N || c.params.K != r.C || c.params.P() * c.params.Q() != r.hw)
        continue;
      // The conv now writes the reorder's output: it must not be what the conv reads (the reorder's output
      // may reuse the memory of a value that was dead by then, the conv's own input included).
      bool ok = true;
      for (const F32View& v : reads[i])
        if (Overlaps(v, out)) ok = false;
      for (size_t k = i + 1; k < j && ok; ++k) {
        if (Overlaps(writes[k], blocked_out) || Overlaps(writes[k], out)) ok = false;
        for (const F32View& v : reads[k])
          if (Overlaps(v, blocked_out) || Overlaps(v, out)) ok = false;
      }
      for (size_t k = j + 1; k < steps.size() && ok; ++k)
        for (const F32View& v : reads[k]) {
          if (!Overlaps(v, blocked_out)) continue;
          bool overwritten = false;
          for (size_t w = j + 1; w < k && !overwritten; ++w) overwritten = Covers(writes[w], v);
          if (!overwritten) ok = false;
        }
      if (!ok) continue;
      c.output = out.data;
      c.out_nchw = true;
      steps[j].skip = true;
      writes[i] = out;
      writes[j] = F32View{};
      reads[j].clear();
    }
  }

  // The network's block size: every blocked kernel of the ISA cap in force
  // when the network was made has the same cb (16 with AVX-512, else 8).
  int Cb() const {
    for (const resnext::BlockedConv* k : blocked_)
      if (k != nullptr) return k->cb;
    return 0;
  }

  // A step's cb, which must be the network's.
  int WantCb(Napi::Env env, const Napi::Value& v, const std::string& name) const {
    const int cb = Cb();
    if (cb == 0) ThrowRange(env, name + ": the network has no blocked kernel (no conv was packed blocked)");
    int64_t got = GetInt(v, name.c_str(), 1, 64);
    if (got != cb) ThrowRange(env, name + ": expected " + std::to_string(cb) + " but received " + std::to_string(got));
    return cb;
  }

  // An optional step cb: absent or 0 means NCHW, anything else must be the network's cb.
  int OptionalCb(Napi::Env env, const Napi::Value& v, const std::string& name) const {
    if (v.IsUndefined() || (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 0)) return 0;
    return WantCb(env, v, name);
  }

  // The program to run, checked: live, not running, x of the right size and not aliasing an output,
  // timings (info[2], optional) a Float64Array of one element per step (else *timings stays empty).
  Program* Bind(const Napi::CallbackInfo& info, F32View* x, Napi::Value* timings) {
    Napi::Env env = info.Env();
    if (info.Length() < 2) ThrowType(env, "run: expected (programId, x)");
    int64_t id = GetInt(info[0], "programId", 0, static_cast<int64_t>(programs_.size()) - 1);
    Program* p = programs_[static_cast<size_t>(id)].get();
    if (p == nullptr) ThrowRange(env, "programId: program " + std::to_string(id) + " was dropped");
    *x = GetFloat32Array(info[1], "x");
    if (x->length != p->input_length)
      ThrowRange(env, "x: expected " + std::to_string(p->input_length) + " elements but received " +
                          std::to_string(x->length));
    for (const F32View& o : p->outputs)
      if (Overlaps(*x, o)) ThrowRange(env, "x: must not share memory with the program's buffers");
    if (info.Length() >= 3 && !info[2].IsUndefined() && !info[2].IsNull()) {
      if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
        ThrowType(env, "timings: expected a Float64Array");
      const size_t n = info[2].As<Napi::Float64Array>().ElementLength();
      if (n != p->steps.size())
        ThrowRange(env, "timings: expected " + std::to_string(p->steps.size()) +
                            " elements (one per step) but received " + std::to_string(n));
      *timings = info[2];
    }
    for (size_t i = 0; i < p->pins.size(); ++i) {
      void* data = nullptr;
      size_t length = 0;
      napi_typedarray_type type;
      if (napi_get_typedarray_info(env, p->pins[i].Value(), &type, &length, &data, nullptr, nullptr) != napi_ok ||
          data != p->pinned_views[i].first || static_cast<int64_t>(length) != p->pinned_views[i].second)
        ThrowCode(env, "ERR_RESNEXT_DETACHED",
                  "programId: a buffer of program " + std::to_string(id) + " was detached or moved; drop the program");
    }
    bool expected = false;
    if (!p->busy.compare_exchange_strong(expected, true))
      ThrowRange(env, "programId: the program is already running (its buffers are in use)");
    return p;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    F32View x;
    Napi::Value timings;
    Program* p = Bind(info, &x, &timings);
    double* ns = timings.IsEmpty() ? nullptr : timings.As<Napi::Float64Array>().Data();
    resnext::Status s = resnext::RunLayerProgram(p->steps, x.data, PoolOf(info.Env()), ns);
    p->busy.store(false);
    if (!s.ok()) ThrowStatus(info.Env(), s);
    return info.Env().Undefined();
  }

  Napi::Value RunAsync(const Napi::CallbackInfo& info) {
    F32View x;
    Napi::Value timings;
    Program* p = Bind(info, &x, &timings);
    LayerWorker* w = LayerWorker::Create(info.Env(), "resnext:network");
    w->Pin(info.This());  // keeps this wrap, hence its plans and programs, alive
    double* ns = timings.IsEmpty() ? nullptr : w->OutputF64(timings, static_cast<int64_t>(p->steps.size()));
    return w->Start([p, xd = w->Input(x), ns, pool = &PoolOf(info.Env())]() {
      resnext::Status s = resnext::RunLayerProgram(p->steps, xd, *pool, ns);
      p->busy.store(false);
      return s;
    });
  }

  Napi::Value DropProgram(const Napi::CallbackInfo& info) {
    int64_t id = GetInt(info[0], "programId", 0, static_cast<int64_t>(programs_.size()) - 1);
    auto& p = programs_[static_cast<size_t>(id)];
    if (p && p->busy.load()) ThrowRange(info.Env(), "programId: cannot drop a running program");
    p.reset();
    return info.Env().Undefined();
  }

  // Frees the packed weights and every program now rather than at garbage
  // collection (V8 does not see this memory, so it would not hurry).
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    for (const auto& p : programs_)
      if (p && p->busy.load()) ThrowRange(info.Env(), "dispose: a program is still running");
    for (auto& p : programs_) p.reset();
    ReleasePlans(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, plans_.size());
    for (size_t i = 0; i < plans_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("impl", Napi::String::New(env, plans_[i]->impl().name));
      o.Set("isa", Napi::String::New(env, resnext::IsaName(plans_[i]->impl().isa)));
      o.Set("packedBytes", Napi::Number::New(env, static_cast<double>(plans_[i]->packed_bytes())));
      if (const resnext::BlockedConv* k = blocked_[i]) {
        Napi::Object b = Napi::Object::New(env);
        b.Set("impl", Napi::String::New(env, k->name));
        b.Set("cb", Napi::Number::New(env, k->cb));
        o.Set("blocked", b);
      } else {
        o.Set("blocked", env.Null());
      }
      // Whether a step may write the conv's output over its residual: every kernel a step may run it with allows it.
      const resnext::ConvPlan* alt_plan = alternates_[i].get();
      const resnext::BlockedConv* alt_k = alt_blocked_[i];
      o.Set("residualInPlace",
            Napi::Boolean::New(
                env, blocked_[i] != nullptr
                         ? blocked_[i]->residual_in_place && (alt_k == nullptr || alt_k->residual_in_place)
                         : plans_[i]->residual_in_place() && (alt_plan == nullptr || alt_plan->residual_in_place())));
      if (const resnext::ConvPlan* alt = alternates_[i].get()) {
        Napi::Object b = Napi::Object::New(env);
        b.Set("impl", Napi::String::New(env, alt_k != nullptr ? alt_k->name : alt->impl().name));
        b.Set("isa", Napi::String::New(env, resnext::IsaName(alt->impl().isa)));
        b.Set("packedBytes", Napi::Number::New(env, static_cast<double>(alt->packed_bytes())));
        o.Set("alternate", b);
      } else {
        o.Set("alternate", env.Null());
      }
      a.Set(static_cast<uint32_t>(i), o);
    }
    return a;
  }

  std::vector<std::unique_ptr<resnext::ConvPlan>> plans_;
  // One per plan: its direct alternative (conv spec `alternate`), or null.
  std::vector<std::unique_ptr<resnext::ConvPlan>> alternates_;
  // One per plan: its blocked kernel, whose packing the plan holds, or null.
  std::vector<const resnext::BlockedConv*> blocked_;
  // One per plan: its alternate's blocked kernel (the alternate plan holds its packing), or null.
  std::vector<const resnext::BlockedConv*> alt_blocked_;
  std::vector<std::unique_ptr<Program>> programs_;
  int64_t reported_bytes_ = 0;
};

}  // namespace

void RegisterNetwork(Napi::Env env, Napi::Object exports) { exports.Set("Network", NetworkWrap::Define(env)); }

}  // namespace resnext_napi
