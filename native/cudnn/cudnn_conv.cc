// cuDNN grouped convolution plan (see cudnn_conv.h): RAII descriptors, the
// group count set on the convolution descriptor, the algorithm found once per
// input shape (cudnnFindConvolutionForwardAlgorithm, cached per plan and
// shape), one shared workspace grown on demand, and the epilogue (bias,
// residual add, ReLU) fused into cuDNN's call:
// cudnnConvolutionBiasActivationForward computes
//   y = act(conv(x) + alpha2 * z + bias)   (z = the residual, may alias y).
// Its limits: the activation is ReLU or identity, and identity only with the
// IMPLICIT_PRECOMP_GEMM algorithm; the bias has y's data type. Where the
// chosen algorithm cannot take the fused call (identity with another
// algorithm, or cuDNN answers NOT_SUPPORTED for the shape), the plan runs
// cudnnConvolutionForward and our epilogue kernel instead, remembers that per
// shape and says why in Detail(). cuDNN pads symmetrically, so asymmetric
// padding goes through a zero-padded copy of the input.
//
// Host cost per call: after the first run of a shape, Run() creates no
// descriptor and searches no algorithm (a map lookup, then the cuDNN call).
// Detail() counts both, and the runs, so tests and benchmarks can check that
// a forward of a known shape stays on the cached path.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include "cudnn/cudnn_conv.h"

#include <map>
#include <tuple>
#include <vector>

#include "cuda/conv_grouped.h"
#include "cuda/convert.h"
#include "cuda/cuda_status.h"
#include "cuda/runtime.h"
#include "cudnn/cudnn_loader.h"
#include "resnext/validate.h"

namespace resnext {
namespace cuda {
namespace {

Status FromCudnn(cudnnStatus_t st, const char* what) {
  if (st == CUDNN_STATUS_SUCCESS) return Status::Ok();
  const CudnnApi* api = Cudnn();
  std::string msg =
      std::string(what) + ": " + (api ? api->cudnnGetErrorString(st) : "cuDNN error") + " (" + std::to_string(st) + ")";
  if (st == CUDNN_STATUS_NOT_SUPPORTED) return Status::Unsupported(msg);
  if (st == CUDNN_STATUS_ALLOC_FAILED) return Status::OutOfMemory(msg);
  return Status::Internal(msg);
}

#define RESNEXT_CUDNN_TRY(expr, what)      \
  do {                                     \
    Status _s = FromCudnn((expr), (what)); \
    if (!_s.ok()) return _s;               \
  } while (0)

// Descriptor owners: one destroy call each, whatever path leaves the scope.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  ~TensorDesc() {
    if (d) Cudnn()->cudnnDestroyTensorDescriptor(d);
  }
};
struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  ~FilterDesc() {
    if (d) Cudnn()->cudnnDestroyFilterDescriptor(d);
  }
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ~ConvDesc() {
    if (d) Cudnn()->cudnnDestroyConvolutionDescriptor(d);
  }
};
struct ActivationDesc {
  cudnnActivationDescriptor_t d = nullptr;
  ~ActivationDesc() {
    if (d) Cudnn()->cudnnDestroyActivationDescriptor(d);
  }
};

cudnnHandle_t g_handle = nullptr;
void* g_workspace = nullptr;
size_t g_workspace_bytes = 0;

Status Handle(cudnnHandle_t* out) {
  if (!g_handle) {
    RESNEXT_CUDNN_TRY(Cudnn()->cudnnCreate(&g_handle), "cudnnCreate");
    RESNEXT_CUDNN_TRY(Cudnn()->cudnnSetStream(g_handle, Stream()), "cudnnSetStream");
  }
  *out = g_handle;
  return Status::Ok();
}

Status Workspace(size_t bytes, void** out) {
  if (bytes > g_workspace_bytes) {
    // A captured CUDA graph may hold the old workspace: FreeShared keeps it while one is alive.
    FreeShared(g_workspace, g_workspace_bytes);
    g_workspace = nullptr;
    g_workspace_bytes = 0;
    Status s = Alloc(bytes, &g_workspace);
    if (!s.ok()) return s;
    g_workspace_bytes = bytes;
  }
  *out = g_workspace;
  return Status::Ok();
}

cudnnDataType_t CudnnType(DType t) {
  switch (t) {
    case DType::kF16:
      return CUDNN_DATA_HALF;
    case DType::kBF16:
      return CUDNN_DATA_BFLOAT16;
    default:
      return CUDNN_DATA_FLOAT;
  }
}

class CudnnConvPlan final : public DeviceConvPlan {
 public:
  CudnnConvPlan(const ConvParams& p, DType dtype) : p_(p), dtype_(dtype) {
    symmetric_ = p.pad_top == p.pad_bottom && p.pad_left == p.pad_right;
  }

  Status Init(const float* oihw, const float* bias) {
    const CudnnApi* api = Cudnn();
    RESNEXT_CUDNN_TRY(api->cudnnCreateFilterDescriptor(&filter_.d), "cudnnCreateFilterDescriptor");
    RESNEXT_CUDNN_TRY(
        api->cudnnSetFilter4dDescriptor(filter_.d, CudnnType(dtype_), CUDNN_TENSOR_NHWC, static_cast<int>(p_.K),
                                        static_cast<int>(p_.Cg()), static_cast<int>(p_.R), static_cast<int>(p_.S)),
        "cudnnSetFilter4dDescriptor");
    RESNEXT_CUDNN_TRY(api->cudnnCreateConvolutionDescriptor(&conv_.d), "cudnnCreateConvolutionDescriptor");
    const int pad_h = symmetric_ ? static_cast<int>(p_.pad_top) : 0,
              pad_w = symmetric_ ? static_cast<int>(p_.pad_left) : 0;
    RESNEXT_CUDNN_TRY(
        api->cudnnSetConvolution2dDescriptor(conv_.d, pad_h, pad_w, static_cast<int>(p_.stride_h),
                                             static_cast<int>(p_.stride_w), static_cast<int>(p_.dil_h),
                                             static_cast<int>(p_.dil_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
    RESNEXT_CUDNN_TRY(api->cudnnSetConvolutionGroupCount(conv_.d, static_cast<int>(p_.G)),
                      "cudnnSetConvolutionGroupCount");
    // float32 stays exact float32 (no TF32) so results match the reference;
    // half types use tensor cores with float32 accumulation.
    base_math_ = math_ = dtype_ == DType::kF32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    RESNEXT_CUDNN_TRY(api->cudnnSetConvolutionMathType(conv_.d, math_), "cudnnSetConvolutionMathType");
    std::vector<float> packed(static_cast<size_t>(p_.WeightSize()));
    PackWeightsKRSC(oihw, p_, packed.data());
    Status s = w_.Upload(packed.data(), p_.WeightSize(), dtype_);
    if (!s.ok()) return s;
    if (bias) s = bias_.Upload(bias, p_.K, DType::kF32);
    if (!s.ok()) return s;
    // The fused call needs a bias (zeros when the conv has none) in y's type.
    std::vector<float> fused_bias(static_cast<size_t>(p_.K), 0.f);
    if (bias) fused_bias.assign(bias, bias + p_.K);
    s = fused_bias_.Upload(fused_bias.data(), p_.K, dtype_);
    if (!s.ok()) return s;
    RESNEXT_CUDNN_TRY(api->cudnnCreateTensorDescriptor(&bias_desc_.d), "cudnnCreateTensorDescriptor(bias)");
    RESNEXT_CUDNN_TRY(api->cudnnSetTensor4dDescriptor(bias_desc_.d, CUDNN_TENSOR_NCHW, CudnnType(dtype_), 1,
                                                      static_cast<int>(p_.K), 1, 1),
                      "cudnnSetTensor4dDescriptor(bias)");
    RESNEXT_CUDNN_TRY(api->cudnnCreateActivationDescriptor(&act_.d), "cudnnCreateActivationDescriptor");
    const bool relu = p_.activation == Activation::kRelu;
    RESNEXT_CUDNN_TRY(
        api->cudnnSetActivationDescriptor(act_.d, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                          CUDNN_NOT_PROPAGATE_NAN, 0.0),
        "cudnnSetActivationDescriptor");
    return Status::Ok();
  }

  Status Run(const DeviceConvRun& r) override {
    runs_++;
    ConvParams full = p_;
    full.N = r.N;
    full.H = r.H;
    full.W = r.W;
    Status s = ValidateConvParams(full);
    if (!s.ok()) return s;
    const CudnnApi* api = Cudnn();
    cudnnHandle_t handle;
    s = Handle(&handle);
    if (!s.ok()) return s;

    const int64_t Hp = symmetric_ ? r.H : r.H + p_.pad_top + p_.pad_bottom;
    const int64_t Wp = symmetric_ ? r.W : r.W + p_.pad_left + p_.pad_right;
    Shape* sh = nullptr;
    s = ShapeFor(r.N, Hp, Wp, &sh);
    if (!s.ok()) return s;
    if (sh->P != full.P() || sh->Q != full.Q())
      return Status::Internal("cudnn: output " + std::to_string(sh->P) + "x" + std::to_string(sh->Q) +
                              " differs from the expected " + std::to_string(full.P()) + "x" +
                              std::to_string(full.Q()));

    const void* x = r.x;
    if (!symmetric_) {
      void* padded = nullptr;
      const size_t bytes = static_cast<size_t>(r.N * Hp * Wp * p_.C) * DTypeSize(dtype_);
      s = Scratch(bytes, &padded);
      if (!s.ok()) return s;
      s = PadNhwc(r.x, padded, dtype_, r.N, r.H, r.W, p_.C, p_.pad_top, p_.pad_left, p_.pad_bottom, p_.pad_right,
                  Stream());
      if (!s.ok()) return s;
      x = padded;
    }
    void* ws = nullptr;
    s = Workspace(sh->workspace, &ws);
    if (!s.ok()) return s;
    if (sh->math != math_) {
      RESNEXT_CUDNN_TRY(api->cudnnSetConvolutionMathType(conv_.d, sh->math), "cudnnSetConvolutionMathType");
      math_ = sh->math;
    }
    const bool relu = p_.activation == Activation::kRelu;
    const bool epilogue = bias_.get() != nullptr || r.residual != nullptr || relu;
    if (epilogue && sh->fused != Fused::kNo) {
      if (!relu && sh->algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) {
        sh->fused = Fused::kNo;
        sh->unfused_reason = "identity activation needs IMPLICIT_PRECOMP_GEMM, cuDNN chose algo " +
                             std::to_string(static_cast<int>(sh->algo));
      } else {
        const float one = 1.f, alpha2 = r.residual ? 1.f : 0.f;
        const void* z = r.residual ? r.residual : r.y;  // read only when alpha2 != 0
        const cudnnStatus_t st = api->cudnnConvolutionBiasActivationForward(
            handle, &one, sh->x.d, x, filter_.d, w_.get(), conv_.d, sh->algo, ws, sh->workspace, &alpha2, sh->y.d, z,
            bias_desc_.d, fused_bias_.get(), act_.d, sh->y.d, r.y);
        if (st == CUDNN_STATUS_SUCCESS) {
          sh->fused = Fused::kYes;
          return Status::Ok();
        }
        if (st != CUDNN_STATUS_NOT_SUPPORTED) return FromCudnn(st, "cudnnConvolutionBiasActivationForward");
        sh->fused = Fused::kNo;  // nothing was launched: run the unfused path below from now on
        sh->unfused_reason = "cudnnConvolutionBiasActivationForward: NOT_SUPPORTED for algo " +
                             std::to_string(static_cast<int>(sh->algo));
      }
    }
    // Unfused: y = conv + beta * y: when the residual is the output buffer itself
    // (an in-place residual add), cuDNN adds it, since our epilogue would
    // read it after cuDNN has overwritten it.
    const bool residual_in_y = r.residual != nullptr && r.residual == r.y;
    const float one = 1.f, beta = residual_in_y ? 1.f : 0.f;
    RESNEXT_CUDNN_TRY(api->cudnnConvolutionForward(handle, &one, sh->x.d, x, filter_.d, w_.get(), conv_.d, sh->algo, ws,
                                                   sh->workspace, &beta, sh->y.d, r.y),
                      "cudnnConvolutionForward");
    return LaunchEpilogue(r.y, dtype_, r.N * full.P() * full.Q(), p_.K, static_cast<const float*>(bias_.get()),
                          residual_in_y ? nullptr : r.residual, p_.activation, Stream());
  }

  const ConvParams& params() const override { return p_; }
  DType dtype() const override { return dtype_; }
  std::string Name() const override { return "cudnn"; }
  std::string Detail() const override {
    std::string d = "groupCount=" + std::to_string(p_.G) + (symmetric_ ? "" : ", asymmetric padding via a padded copy");
    d += "; runs " + std::to_string(runs_) + ", shapes " + std::to_string(shapes_.size()) +
         ", shape descriptors created " + std::to_string(descriptors_created_) + ", algorithm searches " +
         std::to_string(algorithm_searches_);
    for (const auto& kv : shapes_) {
      d += "; N,H,W=" + std::to_string(std::get<0>(kv.first)) + "," + std::to_string(std::get<1>(kv.first)) + "," +
           std::to_string(std::get<2>(kv.first)) + ": algo " + std::to_string(static_cast<int>(kv.second.algo)) +
           ", math " + std::to_string(static_cast<int>(kv.second.math)) + ", workspace " +
           std::to_string(kv.second.workspace) + " B" +
           (kv.second.fused == Fused::kYes  ? ", epilogue fused in cudnnConvolutionBiasActivationForward"
            : kv.second.fused == Fused::kNo ? ", epilogue kernel after cuDNN (" + kv.second.unfused_reason + ")"
                                            : "");
    }
    return d;
  }
  int64_t PackedBytes() const override {
    return static_cast<int64_t>(w_.bytes() + bias_.bytes() + fused_bias_.bytes());
  }

 private:
  enum class Fused { kUntried, kYes, kNo };
  struct Shape {
    TensorDesc x, y;
    Fused fused = Fused::kUntried;
    std::string unfused_reason;
    int64_t P = 0, Q = 0;
    cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    cudnnMathType_t math = CUDNN_FMA_MATH;
    size_t workspace = 0;
  };

  // Descriptors and the algorithm for one input shape, made on first sight.
  Status ShapeFor(int64_t N, int64_t H, int64_t W, Shape** out) {
    auto key = std::make_tuple(N, H, W);
    auto it = shapes_.find(key);
    if (it != shapes_.end()) {
      *out = &it->second;
      return Status::Ok();
    }
    const CudnnApi* api = Cudnn();
    Shape& sh = shapes_[key];
    sh.math = base_math_;  // the plan's, unless the search says otherwise
    Status s = [&]() -> Status {
      // Every shape's search starts from the plan's math type, whatever the previous shape's run left set.
      if (math_ != base_math_) {
        RESNEXT_CUDNN_TRY(api->cudnnSetConvolutionMathType(conv_.d, base_math_), "cudnnSetConvolutionMathType");
        math_ = base_math_;
      }
      descriptors_created_ += 2;  // x and y
      RESNEXT_CUDNN_TRY(api->cudnnCreateTensorDescriptor(&sh.x.d), "cudnnCreateTensorDescriptor");
      RESNEXT_CUDNN_TRY(
          api->cudnnSetTensor4dDescriptor(sh.x.d, CUDNN_TENSOR_NHWC, CudnnType(dtype_), static_cast<int>(N),
                                          static_cast<int>(p_.C), static_cast<int>(H), static_cast<int>(W)),
          "cudnnSetTensor4dDescriptor(x)");
      int n = 0, c = 0, h = 0, w = 0;
      RESNEXT_CUDNN_TRY(api->cudnnGetConvolution2dForwardOutputDim(conv_.d, sh.x.d, filter_.d, &n, &c, &h, &w),
                        "cudnnGetConvolution2dForwardOutputDim");
      sh.P = h;
      sh.Q = w;
      RESNEXT_CUDNN_TRY(api->cudnnCreateTensorDescriptor(&sh.y.d), "cudnnCreateTensorDescriptor");
      RESNEXT_CUDNN_TRY(api->cudnnSetTensor4dDescriptor(sh.y.d, CUDNN_TENSOR_NHWC, CudnnType(dtype_), n, c, h, w),
                        "cudnnSetTensor4dDescriptor(y)");
      cudnnHandle_t handle;
      Status hs = Handle(&handle);
      if (!hs.ok()) return hs;
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      int returned = 0;
      algorithm_searches_++;
      RESNEXT_CUDNN_TRY(api->cudnnFindConvolutionForwardAlgorithm(handle, sh.x.d, filter_.d, conv_.d, sh.y.d,
                                                                  CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
                        "cudnnFindConvolutionForwardAlgorithm");
      for (int i = 0; i < returned; i++) {
        if (perf[i].status == CUDNN_STATUS_SUCCESS) {
          sh.algo = perf[i].algo;
          sh.workspace = perf[i].memory;
          // Half types: run the algorithm with the math type it was timed
          // with (the search may report another than the descriptor's, and
          // the algorithm then runs a different kernel). float32 keeps
          // CUDNN_FMA_MATH, so it stays exact float32 whatever was timed.
          if (dtype_ != DType::kF32) sh.math = perf[i].mathType;
          return Status::Ok();
        }
      }
      return Status::Unsupported("cudnn: no forward algorithm supports this convolution");
    }();
    if (!s.ok()) {
      shapes_.erase(key);
      return s;
    }
    *out = &sh;
    return Status::Ok();
  }

  ConvParams p_;
  DType dtype_;
  bool symmetric_ = true;
  FilterDesc filter_;
  ConvDesc conv_;
  DeviceArray w_, bias_;
  DeviceArray fused_bias_;  // the bias (or zeros) in the data type, for the fused call
  TensorDesc bias_desc_;
  ActivationDesc act_;
  cudnnMathType_t base_math_ = CUDNN_FMA_MATH;  // float32: FMA (exact); half types: tensor cores
  cudnnMathType_t math_ = CUDNN_FMA_MATH;       // conv_'s math type now
  std::map<std::tuple<int64_t, int64_t, int64_t>, Shape> shapes_;
  int64_t runs_ = 0, descriptors_created_ = 0, algorithm_searches_ = 0;
};

}  // namespace

Status CreateCudnnConvPlan(const ConvParams& p, DType dtype, const float* oihw, const float* bias,
                           std::unique_ptr<DeviceConvPlan>* out) {
  Status s = ValidateConvPlanParams(p);
  if (!s.ok()) return s;
  if (!Cudnn()) return Status::Unsupported(CudnnProbe().reason);
  s = EnsureReady();
  if (!s.ok()) return s;
  auto plan = std::make_unique<CudnnConvPlan>(p, dtype);
  s = plan->Init(oihw, bias);
  if (!s.ok()) return s;
  *out = std::move(plan);
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
