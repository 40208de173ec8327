// cuDNN opened with dlopen: a table of the functions the cudnn backend calls,
// resolved once. Linking libcudnn directly would make the whole CUDA addon fail
// to load on a machine without it (and hide the reason); resolving at run time
// lets probe() say "cuDNN not found" or "version mismatch" instead.
#pragma once

#include <cudnn.h>

namespace resnext {
namespace cuda {

#define RESNEXT_CUDNN_FUNCTIONS(X)           \
  X(cudnnGetVersion)                         \
  X(cudnnGetCudartVersion)                   \
  X(cudnnGetErrorString)                     \
  X(cudnnCreate)                             \
  X(cudnnDestroy)                            \
  X(cudnnSetStream)                          \
  X(cudnnCreateTensorDescriptor)             \
  X(cudnnSetTensor4dDescriptor)              \
  X(cudnnDestroyTensorDescriptor)            \
  X(cudnnCreateFilterDescriptor)             \
  X(cudnnSetFilter4dDescriptor)              \
  X(cudnnDestroyFilterDescriptor)            \
  X(cudnnCreateConvolutionDescriptor)        \
  X(cudnnSetConvolution2dDescriptor)         \
  X(cudnnSetConvolutionGroupCount)           \
  X(cudnnSetConvolutionMathType)             \
  X(cudnnDestroyConvolutionDescriptor)       \
  X(cudnnGetConvolution2dForwardOutputDim)   \
  X(cudnnFindConvolutionForwardAlgorithm)    \
  X(cudnnGetConvolutionForwardWorkspaceSize) \
  X(cudnnConvolutionForward)                 \
  X(cudnnConvolutionBiasActivationForward)   \
  X(cudnnCreateActivationDescriptor)         \
  X(cudnnSetActivationDescriptor)            \
  X(cudnnDestroyActivationDescriptor)

struct CudnnApi {
#define RESNEXT_CUDNN_MEMBER(name) decltype(&::name) name = nullptr;
  RESNEXT_CUDNN_FUNCTIONS(RESNEXT_CUDNN_MEMBER)
#undef RESNEXT_CUDNN_MEMBER
};

// Null when cuDNN is unusable; CudnnProbe() has the reason.
const CudnnApi* Cudnn();

}  // namespace cuda
}  // namespace resnext
