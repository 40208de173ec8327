// The "cuda" backend's plan: packs OIHW weights to [R][S][C/G][K] in the plan's
// element type once, keeps the bias in float32, and picks its kernel once:
// grouped_vec4 (4 output channels x 4 pixels per thread) when C/G and K/G are
// multiples of 4, else grouped_direct; the reason for a fallback is kept for
// info(). RESNEXT_CUDA_KERNEL=direct forces the generic kernel (tests).
#include <cstdlib>
#include <string>
#include <vector>

#include "cuda/conv_grouped.h"
#include "cuda/convert.h"
#include "cuda/cuda_status.h"
#include "cuda/device_conv_plan.h"
#include "cuda/runtime.h"
#include "resnext/validate.h"

namespace resnext {
namespace cuda {

DeviceArray::~DeviceArray() { Free(ptr_, bytes_); }

Status DeviceArray::Upload(const float* host, int64_t count, DType dtype) {
  Status s = Alloc(static_cast<size_t>(count) * DTypeSize(dtype), &ptr_);
  if (!s.ok()) return s;
  bytes_ = static_cast<size_t>(count) * DTypeSize(dtype);
  if (dtype == DType::kF32) {
    RESNEXT_CUDA_TRY(cudaMemcpyAsync(ptr_, host, bytes_, cudaMemcpyHostToDevice, Stream()), "weight upload");
    // The host array may be freed when we return: wait until it was read.
    RESNEXT_CUDA_TRY(cudaStreamSynchronize(Stream()), "weight upload");
    return Status::Ok();
  }
  void* staging = nullptr;
  s = Scratch(static_cast<size_t>(count) * 4, &staging);
  if (!s.ok()) return s;
  RESNEXT_CUDA_TRY(cudaMemcpyAsync(staging, host, static_cast<size_t>(count) * 4, cudaMemcpyHostToDevice, Stream()), "weight upload");
  s = ConvertDType(staging, DType::kF32, ptr_, dtype, count, Stream());
  if (!s.ok()) return s;
  RESNEXT_CUDA_TRY(cudaStreamSynchronize(Stream()), "weight upload");
  return Status::Ok();
}

namespace {

class GroupedConvPlan final : public DeviceConvPlan {
 public:
  GroupedConvPlan(const ConvParams& p, DType dtype) : p_(p), dtype_(dtype) {
    const char* force = std::getenv("RESNEXT_CUDA_KERNEL");
    const std::string why = GroupedVec4Unsupported(p_);
    if (force && std::string(force) == "direct") {
      fallback_ = "grouped_vec4: skipped (RESNEXT_CUDA_KERNEL=direct)";
    } else if (!why.empty()) {
      fallback_ = "grouped_vec4: " + why;
    } else {
      vec4_ = true;
    }
  }

  Status Init(const float* oihw, const float* bias) {
    std::vector<float> packed(static_cast<size_t>(p_.WeightSize()));
    PackWeightsRSCK(oihw, p_, packed.data());
    Status s = w_.Upload(packed.data(), p_.WeightSize(), dtype_);
    if (!s.ok()) return s;
    if (bias) s = bias_.Upload(bias, p_.K, DType::kF32);
    return s;
  }

  Status Run(const DeviceConvRun& r) override {
    GroupedConvArgs a;
    a.p = p_;
    a.p.N = r.N;
    a.p.H = r.H;
    a.p.W = r.W;
    Status s = ValidateConvParams(a.p);
    if (!s.ok()) return s;
    a.dtype = dtype_;
    a.x = r.x;
    a.w = w_.get();
    a.bias = static_cast<const float*>(bias_.get());
    a.residual = r.residual;
    a.y = r.y;
    return vec4_ ? LaunchGroupedVec4(a, MultiprocessorCount(), Stream()) : LaunchGroupedDirect(a, MultiprocessorCount(), Stream());
  }

  const ConvParams& params() const override { return p_; }
  DType dtype() const override { return dtype_; }
  std::string Name() const override { return vec4_ ? "grouped_vec4" : "grouped_direct"; }
  std::string Detail() const override {
    std::string d = vec4_ ? "NHWC, 4 output channels x 4 pixels per thread, 128 channels (several groups) per block"
                          : "NHWC, 1 output channel x 4 pixels per thread, up to 128 channels (several groups) per block";
    return fallback_.empty() ? d : d + "; fallback: " + fallback_;
  }
  int64_t PackedBytes() const override { return static_cast<int64_t>(w_.bytes() + bias_.bytes()); }

 private:
  ConvParams p_;
  DType dtype_;
  bool vec4_ = false;
  std::string fallback_;
  DeviceArray w_, bias_;
};

}  // namespace

Status CreateGroupedConvPlan(const ConvParams& p, DType dtype, const float* oihw, const float* bias, std::unique_ptr<DeviceConvPlan>* out) {
  Status s = ValidateConvPlanParams(p);
  if (!s.ok()) return s;
  s = EnsureReady();
  if (!s.ok()) return s;
  auto plan = std::make_unique<GroupedConvPlan>(p, dtype);
  s = plan->Init(oihw, bias);
  if (!s.ok()) return s;
  *out = std::move(plan);
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
