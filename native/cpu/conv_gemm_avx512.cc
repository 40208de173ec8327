// Convolution as GEMM (dense convs; grouped with >= 16 channels per group),
// AVX-512: an 8 x 48 micro-kernel (24 zmm accumulators, 16 pixels per zmm) and
// for small images a transposed 8 pixels x 32 channels one (16 zmm),
// mask registers for the last pixels. Algorithm and layouts: conv_gemm.inc.
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

constexpr int VL = 16;
constexpr int MR = 8;
constexpr int NVMAX = 3;
constexpr int NVT = 2;  // transposed micro-kernel: 2 vectors of channels x MPT pixels
constexpr int MPT = 8;
using V = __m512;
inline V VZero() { return _mm512_setzero_ps(); }
inline V VLoad(const float* p) { return _mm512_loadu_ps(p); }
inline __mmask16 Mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline V VLoadN(const float* p, int n) { return _mm512_maskz_loadu_ps(Mask(n), p); }
inline void VStore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline void VStoreN(float* p, V v, int n) { _mm512_mask_storeu_ps(p, Mask(n), v); }
inline V VBcast(const float* p) { return _mm512_set1_ps(*p); }
inline V VSet1(float x) { return _mm512_set1_ps(x); }
inline V VFma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V VAdd(V a, V b) { return _mm512_add_ps(a, b); }
inline V VRelu(V a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }

#include "conv_gemm.inc"
}  // namespace

extern const ConvImpl kConvGemmAvx512 = {"gemm_avx512", 35, Isa::kAvx512, GemmUnsupported, GemmPackedSize, GemmPack, GemmRun};
}  // namespace resnext
#pragma GCC pop_options
