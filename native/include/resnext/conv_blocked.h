// Convolution kernels on the blocked channel layout NCHW[cb]c, for a network
// lowering that keeps activations blocked from conv to conv (no repacking
// between layers) and converts only at the network's input and output.
//
// Blocked layout (float32, dense): x[n][c / cb][h][w][c % cb], the channel
// count rounded up to whole blocks of cb = 16 (AVX-512) or 8 (AVX2, scalar)
// channels. Channels past C in the last block are zero in every tensor that
// ToBlocked or a blocked kernel writes, and kernels keep them zero (packed
// weights and bias are zero there) as long as a residual's are.
//
// A BlockedConv is used like a ConvImpl (native/include/resnext/conv_kernel.h):
// pack once, then run with ConvRunArgs whose input, residual and output are
// blocked with the kernel's cb (bias stays [K]; p holds the NCHW sizes). The
// registry (native/cpu/registry.cc) also lists every variant as a ConvImpl on
// NCHW tensors (converting per image around the blocked kernel, priority 0, so
// only a forced `impl` picks it): the path the tests take.
#pragma once

#include <cstdint>

#include "resnext/conv_kernel.h"

namespace resnext {

struct BlockedConv {
  const char* name;  // e.g. "conv1x1_nchw16c_avx512"
  Isa isa;           // minimum ISA
  int cb;            // channels per block of input, residual and output
  const char* (*unsupported)(const ConvParams& p);
  int64_t (*packed_size)(const ConvParams& p);
  void (*pack)(const ConvParams& p, const float* weight, float* packed);
  // Runs on the pool; no heap allocation. Input [N][ceil(C/cb)][H][W][cb],
  // residual and output [N][ceil(K/cb)][P][Q][cb]. Output must not alias the
  // input; it may alias the residual.
  Status (*run)(const ConvRunArgs& args, ThreadPool& pool);
  // Winograd (as ConvImpl::transformed): skipped under algorithm 'direct'.
  bool transformed = false;
  // run() may be given output == residual (as ConvImpl::residual_in_place,
  // for every p the kernel supports).
  bool residual_in_place = false;
  // Non-null when the kernel can also write its output in NCHW ([N][K][P][Q]:
  // input and residual still blocked; the output never aliases them), so that
  // a network skips the reorder of an output nothing else reads
  // (native/napi/network_wrap.cc). The 1x1 kernels.
  Status (*run_nchw_out)(const ConvRunArgs& args, ThreadPool& pool) = nullptr;
};

// Floats of an [N][ceil(C/cb)][HW][cb] tensor.
inline int64_t BlockedFloats(int64_t N, int64_t C, int64_t HW, int cb) { return N * ((C + cb - 1) / cb) * cb * HW; }

// NCHW [N][C][HW] -> [N][ceil(C/cb)][HW][cb] (padding channels zero), and back.
void ToBlocked(const float* src, float* dst, int64_t N, int64_t C, int64_t HW, int cb, ThreadPool& pool);
void FromBlocked(const float* src, float* dst, int64_t N, int64_t C, int64_t HW, int cb, ThreadPool& pool);
// One image [C][HW] <-> [ceil(C/cb)][HW][cb] on the calling thread.
void ToBlockedImage(const float* src, float* dst, int64_t C, int64_t HW, int cb);
void FromBlockedImage(const float* src, float* dst, int64_t C, int64_t HW, int cb);

// Runs a blocked kernel on NCHW tensors (the registry rows' forced path):
// per image on one thread, input and residual converted into that thread's
// scratch, `image` run on them (args for one image, blocked, N = 1; `extra`
// is extra_floats of further scratch), the output converted back.
using BlockedImageFn = void (*)(const ConvRunArgs& one_image, float* extra);
Status RunBlockedOnNchw(const ConvRunArgs& args, ThreadPool& pool, int cb, int64_t extra_floats, BlockedImageFn image);

// The blocked kernels for 1x1 convolutions (any stride, no padding, groups 1),
// grouped 3x3 convolutions (pad 1, stride 1 or 2, channels per group dividing
// cb or a multiple of it, as many outputs as inputs per group) and dense 3x3
// convolutions (groups 1, pad 1, stride 1 or 2: Winograd at stride 1,
// F(4x4, 3x3) with C*K < 2^16, F(2x2, 3x3) with C*K < 2^18, else direct):
// the fastest variant whose ISA is <= cap, or
// null when none runs p. direct_only skips the transformed (Winograd) ones.
const BlockedConv* FindBlockedConv(const ConvParams& p, Isa cap, bool direct_only = false);

extern const BlockedConv kBlockedConv1x1Avx512;
extern const BlockedConv kBlockedConv1x1Avx2;
extern const BlockedConv kBlockedConv1x1Scalar;
extern const BlockedConv kBlockedConvGrouped3x3Avx512;
extern const BlockedConv kBlockedConvGrouped3x3Avx2;
extern const BlockedConv kBlockedConvGrouped3x3Scalar;
extern const BlockedConv kBlockedConvDense3x3Avx512;
extern const BlockedConv kBlockedConvDense3x3Avx2;
extern const BlockedConv kBlockedConvDense3x3Scalar;
extern const BlockedConv kBlockedConvWinograd3x3Avx512;
extern const BlockedConv kBlockedConvWinograd3x3Avx2;
extern const BlockedConv kBlockedConvWinograd3x3Scalar;
extern const BlockedConv kBlockedConvWinograd43Avx512;
extern const BlockedConv kBlockedConvWinograd43Avx2;
extern const BlockedConv kBlockedConvWinograd43Scalar;

}  // namespace resnext
