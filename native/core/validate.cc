// Native re-check of convolution parameters (see validate.h). Mirrors the TS
// validation in lib/validate.ts; messages name the parameter and the value.
#include "resnext/validate.h"

#include <string>

namespace resnext {
namespace {

std::string S(int64_t v) { return std::to_string(v); }

// a*b with overflow and limit check; false when the product exceeds kMaxElements.
bool MulWithin(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > kMaxElements / a) return false;
  *out = a * b;
  return true;
}

bool ProductWithin(std::initializer_list<int64_t> dims, int64_t* out) {
  int64_t acc = 1;
  for (int64_t d : dims) {
    if (!MulWithin(acc, d, &acc)) return false;
  }
  *out = acc;
  return true;
}

}  // namespace

Status ValidateConvPlanParams(const ConvParams& p) {
  if (p.K < 1)
    return Status::InvalidArgument("weight.shape[0] (output channels): expected a positive integer but received " +
                                   S(p.K));
  if (p.C < 1) return Status::InvalidArgument("input channels: expected a positive integer but received " + S(p.C));
  if (p.R < 1)
    return Status::InvalidArgument("weight.shape[2] (kernel height): expected a positive integer but received " +
                                   S(p.R));
  if (p.S < 1)
    return Status::InvalidArgument("weight.shape[3] (kernel width): expected a positive integer but received " +
                                   S(p.S));
  if (p.G < 1) return Status::InvalidArgument("groups: expected a positive integer but received " + S(p.G));
  if (p.C % p.G != 0)
    return Status::InvalidArgument("groups: expected a divisor of the input channels " + S(p.C) + " but received " +
                                   S(p.G));
  if (p.K % p.G != 0)
    return Status::InvalidArgument("groups: expected a divisor of the output channels " + S(p.K) + " but received " +
                                   S(p.G));
  if (p.stride_h < 1 || p.stride_w < 1)
    return Status::InvalidArgument("stride: expected positive integers but received [" + S(p.stride_h) + ", " +
                                   S(p.stride_w) + "]");
  if (p.dil_h < 1 || p.dil_w < 1)
    return Status::InvalidArgument("dilation: expected positive integers but received [" + S(p.dil_h) + ", " +
                                   S(p.dil_w) + "]");
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0)
    return Status::InvalidArgument("padding: expected non-negative integers but received [" + S(p.pad_top) + ", " +
                                   S(p.pad_left) + ", " + S(p.pad_bottom) + ", " + S(p.pad_right) + "]");
  // Bound the hyperparameters so that later arithmetic cannot overflow int64.
  const int64_t kMaxHyper = int64_t{1} << 24;
  for (int64_t v :
       {p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.R, p.S}) {
    if (v > kMaxHyper)
      return Status::InvalidArgument("stride/dilation/padding/kernel: value " + S(v) + " exceeds the limit " +
                                     S(kMaxHyper));
  }
  if (p.activation != Activation::kNone && p.activation != Activation::kRelu)
    return Status::InvalidArgument("activation: expected 'none' or 'relu' but received " +
                                   S(static_cast<int64_t>(p.activation)));
  int64_t wsize = 0;
  if (!ProductWithin({p.K, p.Cg(), p.R, p.S}, &wsize))
    return Status::InvalidArgument("weight: element count exceeds the limit of " + S(kMaxElements));
  return Status::Ok();
}

Status ValidateConvParams(const ConvParams& p) {
  Status s = ValidateConvPlanParams(p);
  if (!s.ok()) return s;
  if (p.N < 1)
    return Status::InvalidArgument("input.shape[0] (batch): expected a positive integer but received " + S(p.N));
  if (p.H < 1)
    return Status::InvalidArgument("input.shape[2] (height): expected a positive integer but received " + S(p.H));
  if (p.W < 1)
    return Status::InvalidArgument("input.shape[3] (width): expected a positive integer but received " + S(p.W));
  int64_t isize = 0;
  if (!ProductWithin({p.N, p.C, p.H, p.W}, &isize))
    return Status::InvalidArgument("input: element count exceeds the limit of " + S(kMaxElements));
  if (p.H > (int64_t{1} << 30) || p.W > (int64_t{1} << 30))
    return Status::InvalidArgument("input: spatial size too large");
  const int64_t eff_h = p.dil_h * (p.R - 1) + 1, eff_w = p.dil_w * (p.S - 1) + 1;
  if (p.H + p.pad_top + p.pad_bottom < eff_h)
    return Status::InvalidArgument("weight.shape[2] (kernel height): dilated kernel height " + S(eff_h) +
                                   " exceeds the padded input height " + S(p.H + p.pad_top + p.pad_bottom) +
                                   " (output height would be < 1)");
  if (p.W + p.pad_left + p.pad_right < eff_w)
    return Status::InvalidArgument("weight.shape[3] (kernel width): dilated kernel width " + S(eff_w) +
                                   " exceeds the padded input width " + S(p.W + p.pad_left + p.pad_right) +
                                   " (output width would be < 1)");
  int64_t osize = 0;
  if (!ProductWithin({p.N, p.K, p.P(), p.Q()}, &osize))
    return Status::InvalidArgument("output: element count exceeds the limit of " + S(kMaxElements));
  return Status::Ok();
}

}  // namespace resnext
