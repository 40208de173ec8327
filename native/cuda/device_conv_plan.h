// A prepared convolution on the GPU (create once, run many), the common face of
// our kernels (CreateGroupedConvPlan) and of cuDNN (native/cudnn). Creation
// validates, packs the weights into the kernel's layout and type and uploads
// them; Run() only binds pointers and enqueues on the addon's stream.
//
// Device tensors in Run(): x [N][H][W][C], residual and y [N][P][Q][K] (NHWC),
// all of the plan's element type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cuda/dtype.h"
#include "resnext/conv_params.h"
#include "resnext/status.h"

namespace resnext {
namespace cuda {

struct DeviceConvRun {
  int64_t N = 0, H = 0, W = 0;
  const void* x = nullptr;
  const void* residual = nullptr;
  void* y = nullptr;
};

class DeviceConvPlan {
 public:
  virtual ~DeviceConvPlan() = default;
  virtual Status Run(const DeviceConvRun& r) = 0;
  // Plan parameters with N, H, W unset (the input decides them at Run()).
  virtual const ConvParams& params() const = 0;
  virtual DType dtype() const = 0;
  virtual std::string Name() const = 0;
  // Implementation detail for info(): chosen algorithm, workspace, fallbacks.
  virtual std::string Detail() const = 0;
  virtual int64_t PackedBytes() const = 0;
};

// Our kernels (conv_grouped_*.cu). oihw: [K][C/G][R][S] float32 on the host;
// bias: [K] float32 on the host or null; kernel: a kernel name to force, or
// empty to pick the best that accepts the shape.
Status CreateGroupedConvPlan(const ConvParams& p, DType dtype, const float* oihw, const float* bias,
                             const std::string& kernel, std::unique_ptr<DeviceConvPlan>* out);

// A device copy of host float32 data converted to `dtype`, owned with its size.
class DeviceArray {
 public:
  DeviceArray() = default;
  ~DeviceArray();
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  Status Upload(const float* host, int64_t count, DType dtype);
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace cuda
}  // namespace resnext
