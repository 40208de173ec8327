// The "cuda" backend's plan: picks its kernel once from kKernels (highest
// priority first, each with the shapes and types it refuses and why), packs the
// OIHW weights once into that kernel's layout and the plan's element type, and
// keeps the bias in float32;
// the reasons for skipped kernels are kept for info(). A row with a minimum
// batch (the pipelined tensor-core kernel, whose 64-pixel blocks only fill the
// GPU with many images) is chosen beside the best row without one, and each
// run takes it when its batch is large enough and its tensors suit it. A
// kernel can be forced by name (conv2dPlan's `impl` option) to test each path.
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
  RESNEXT_CUDA_TRY(cudaMemcpyAsync(staging, host, static_cast<size_t>(count) * 4, cudaMemcpyHostToDevice, Stream()),
                   "weight upload");
  s = ConvertDType(staging, DType::kF32, ptr_, dtype, count, Stream());
  if (!s.ok()) return s;
  RESNEXT_CUDA_TRY(cudaStreamSynchronize(Stream()), "weight upload");
  return Status::Ok();
}

namespace {

struct KernelRow {
  const char* name;
  std::string (*unsupported)(const ConvParams&, DType);  // empty when the kernel can run the shape
  Status (*launch)(const GroupedConvArgs&, int sms, cudaStream_t);
  void (*pack)(const float* oihw, const ConvParams&, float* out);  // weights into the kernel's layout
  int64_t min_batch;  // taken by runs of at least this batch (0: any), beside a row without a minimum
  std::string (*run_unsupported)(const GroupedConvArgs&);  // per run (e.g. alignment); null: none
  const char* why;                                         // what the kernel is for, for info()
};

std::string AnyShape(const ConvParams&, DType) { return ""; }
std::string Vec4Shapes(const ConvParams& p, DType) { return GroupedVec4Unsupported(p); }

// Highest priority first.
const KernelRow kKernels[] = {
    {"grouped_mma_pipe", GroupedMmaPipeUnsupported, LaunchGroupedMmaPipe, PackWeightsGRSKC, 8,
     GroupedMmaPipeRunUnsupported,
     "tensor-core implicit GEMM, 64 channels of whole groups per block, 3-stage cp.async pipeline"},
    {"grouped_mma", GroupedMmaUnsupported, LaunchGroupedMma, PackWeightsGRSKC, 0, nullptr,
     "tensor-core implicit GEMM, one warp per 16 pixels x group"},
    {"grouped_vec4", Vec4Shapes, LaunchGroupedVec4, PackWeightsRSCK, 0, nullptr, "4 channels per thread"},
    {"grouped_direct", AnyShape, LaunchGroupedDirect, PackWeightsRSCK, 0, nullptr, "direct, any shape"},
};

class GroupedConvPlan final : public DeviceConvPlan {
 public:
  GroupedConvPlan(const ConvParams& p, DType dtype) : p_(p), dtype_(dtype) {}

  Status Choose(const std::string& forced) {
    if (!forced.empty()) {
      for (const KernelRow& k : kKernels) {
        if (forced != k.name) continue;
        const std::string why = k.unsupported(p_, dtype_);
        if (!why.empty())
          return Status::Unsupported(std::string("impl: ") + k.name + " cannot run this convolution: " + why);
        kernel_ = &k;
        return Status::Ok();
      }
      std::string names;
      for (const KernelRow& k : kKernels) names += std::string(names.empty() ? "'" : ", '") + k.name + "'";
      return Status::InvalidArgument("impl: expected one of " + names + " but received \"" + forced + "\"");
    }
    for (const KernelRow& k : kKernels) {
      const std::string why = k.unsupported(p_, dtype_);
      if (why.empty()) {
        if (k.min_batch > 0) {
          if (!batched_) batched_ = &k;
          continue;
        }
        kernel_ = &k;
        return Status::Ok();
      }
      fallbacks_ += std::string(fallbacks_.empty() ? "" : "; ") + k.name + ": " + why;
    }
    return Status::Internal("cuda: no kernel accepts this convolution");
  }

  Status Init(const float* oihw, const float* bias) {
    std::vector<float> packed(static_cast<size_t>(p_.WeightSize()));
    kernel_->pack(oihw, p_, packed.data());
    Status s = w_.Upload(packed.data(), p_.WeightSize(), dtype_);
    if (!s.ok()) return s;
    if (batched_ && batched_->pack != kernel_->pack) {
      batched_->pack(oihw, p_, packed.data());
      s = batched_w_.Upload(packed.data(), p_.WeightSize(), dtype_);
      if (!s.ok()) return s;
    }
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
    if (batched_ && r.N >= batched_->min_batch) {
      GroupedConvArgs b = a;
      b.w = batched_w_.get() ? batched_w_.get() : w_.get();
      // Views at odd offsets (rare) run the kernel for any batch instead.
      if (!batched_->run_unsupported || batched_->run_unsupported(b).empty())
        return batched_->launch(b, MultiprocessorCount(), Stream());
    }
    return kernel_->launch(a, MultiprocessorCount(), Stream());
  }

  const ConvParams& params() const override { return p_; }
  DType dtype() const override { return dtype_; }
  std::string Name() const override { return kernel_->name; }
  std::string Detail() const override {
    std::string d = "NHWC";
    if (batched_)
      d += "; batch >= " + std::to_string(batched_->min_batch) + " runs " + batched_->name + " (" + batched_->why +
           "), smaller batches " + kernel_->name;
    if (!fallbacks_.empty()) d += "; skipped " + fallbacks_;
    return d;
  }
  int64_t PackedBytes() const override { return static_cast<int64_t>(w_.bytes() + batched_w_.bytes() + bias_.bytes()); }

 private:
  ConvParams p_;
  DType dtype_;
  const KernelRow* kernel_ = nullptr;   // any batch
  const KernelRow* batched_ = nullptr;  // runs with at least its min_batch, or null
  std::string fallbacks_;
  DeviceArray w_, batched_w_, bias_;
};

}  // namespace

Status CreateGroupedConvPlan(const ConvParams& p, DType dtype, const float* oihw, const float* bias,
                             const std::string& kernel, std::unique_ptr<DeviceConvPlan>* out) {
  Status s = ValidateConvPlanParams(p);
  if (!s.ok()) return s;
  auto plan = std::make_unique<GroupedConvPlan>(p, dtype);
  s = plan->Choose(kernel);
  if (!s.ok()) return s;
  s = EnsureReady();
  if (!s.ok()) return s;
  s = plan->Init(oihw, bias);
  if (!s.ok()) return s;
  *out = std::move(plan);
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
