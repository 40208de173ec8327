// cudaError_t -> resnext::Status, so kernels and plans report CUDA failures the
// same way as every other native error (the N-API layer turns them into JS).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "resnext/status.h"

namespace resnext {
namespace cuda {

inline Status FromCuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  std::string msg = std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  if (err == cudaErrorMemoryAllocation) return Status::OutOfMemory(msg);
  return Status::Internal(msg);
}

}  // namespace cuda
}  // namespace resnext

#define RESNEXT_CUDA_TRY(expr, what)                                  \
  do {                                                                \
    ::resnext::Status _s = ::resnext::cuda::FromCuda((expr), (what)); \
    if (!_s.ok()) return _s;                                          \
  } while (0)
