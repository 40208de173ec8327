// The "cudnn" backend: grouped convolution through cuDNN's legacy convolution
// API, behind the same DeviceConvPlan face as our kernels. Declared without
// cudnn.h so the N-API glue does not depend on cuDNN's headers.
//
// Layouts: x [N][H][W][C], y and residual [N][P][Q][K] (NHWC); the filter is
// packed once to cuDNN's NHWC filter layout [K][R][S][C/G].
#pragma once

#include <memory>
#include <string>

#include "cuda/device_conv_plan.h"

namespace resnext {
namespace cuda {

struct CudnnProbeResult {
  bool compiled = false;  // the addon was built with cuDNN's headers
  bool loaded = false;    // libcudnn was opened and every symbol resolved
  int version = 0;        // cudnnGetVersion(), e.g. 92400
  int headerVersion = 0;  // CUDNN_VERSION the addon was built against
  std::string library;    // the path that was opened
  std::string reason;     // why cuDNN cannot be used; empty when loaded
};

// Opens libcudnn on first use (never at addon load); cached.
const CudnnProbeResult& CudnnProbe();

Status CreateCudnnConvPlan(const ConvParams& p, DType dtype, const float* oihw, const float* bias,
                           std::unique_ptr<DeviceConvPlan>* out);

}  // namespace cuda
}  // namespace resnext
