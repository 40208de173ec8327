// Winograd for grouped convolutions with 14 to 128 channels per group
// (ResNeXt's stage-3 and stage-4 3x3 layers: 16 and 32), AVX-512: 3x3,
// stride 1, dilation 1, any padding. The plan packs the weights for two tile
// sizes and each run picks one from the output size (WgPrefersF43): F(4x4,
// 3x3) (conv_winograd_grouped_f43_avx512.cc) wherever its 16x16 blocks of
// outputs waste no more lanes than F(2x2)'s 8x8 ones (14x14: 0.157 vs 0.244
// ms, one thread), F(2x2, 3x3), in this file, on 7x7 and 8x8 outputs, except
// at batch 3 and more, where F(4x4) with four images' 2x2 tiles in one vector
// (conv_winograd_grouped_f43x4_avx512.cc) fills the lanes. The
// dense kernel (conv_winograd.inc)
// goes through phase planes and transformed tiles in memory; at 16-32
// channels per group that traffic cost as much as the multiplies saved. Here
// both transforms stay in registers: one zmm holds a 4x4 block of tiles.
//
// A tile is a 2x2 block of outputs; its 4x4 input patch d gives
//   y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A.
// Tiles are grouped in 4x4 blocks (tile rows 4bi.., tile columns 4bj..), and a
// block's 16 tiles fill the lanes of one vector, lane = 4 * (tile row in the
// block) + (tile column in the block). A block reads 10 padded input rows of
// 10 columns. Input transform, per channel and block: each padded row is
// loaded once (masked: padding and the image edge read as zeros) and one
// permute deinterleaves it into lanes (x, jj) = column 2jj + x; the vertical
// transform combines rows lane-wise into Z[a][ii]; a 4x4 transpose of 128-bit
// chunks turns Z[a][0..3] into d[a][x] with the tiles in the lanes, and the
// horizontal transform is lane-wise too. The output transform is lane-wise in
// both directions; an in-chunk unpack and one two-source permute then form
// two 8-column output rows per vector, stored masked with bias, residual and
// ReLU applied on the way.
//
// Layouts (floats; nv = blocks in the task, one vector each):
//   packed U: the F(2x2) weights, then the F(4x4) ones. F(2x2): [G][16 pos][ceil(Kg/16) panels][Cg][16]: 16 output
//   channels
//             interleaved per input channel (broadcast by the micro-kernel),
//             channels past Kg zero; packed once by the plan (in double).
//   scratch:  V [Cg][nv][16 pos][16] | M [ceil16(Kg)][nv][16 pos][16]: the 16
//             positions of a channel and block adjacent, so the transforms
//             address them by constant offsets.
// Task = (group, chunk of at most 3 blocks, range of output panels), chunks
// of one group consecutive (neighbouring blocks share input lines): input
// transform into V, 16 GEMMs M[pos] = U[pos] V[pos] (16 x 1 or 8 x nv register
// blocks) for the range's panels, output transform. The panels are split only
// when there are fewer than two (group, chunk) tasks per thread (WgPanelSplit).
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"
#include "winograd_grouped_f43.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_shuffle_f32x4 reads an uninitialized vector: its
// inline body starts from _mm512_undefined_ps(), which is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace resnext {
namespace {

#include "vec_avx512.inc"
#include "winograd_grouped_common_avx512.inc"

constexpr int64_t kMinPerGroup = 14;
constexpr int64_t kMaxPerGroup = 128;
constexpr int64_t kMaxDense = 256;

const char* WgUnsupported(const ConvParams& p) {
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != 1 || p.stride_w != 1) return "needs stride 1";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  // Dense convs (G = 1) with 14 to 256 channels run here too, as one group:
  // F(4x4) does 36 multiplies per 4x4 outputs where winograd_avx512's F(2x2)
  // does 64. Inside a batch-1 ResNet-50 forward (2 threads, Xeon family 6
  // model 207, per-step medians, alternating processes) its 64@56 3x3s took
  // 0.44-0.69 ms against 0.67-0.93 with winograd_avx512, the 128@28 ones
  // 0.64-0.79 against 0.70-0.94; alone, 256@14 took 0.76 ms against 1.47
  // (a loaded machine). Wider dense convs keep winograd_avx512: the error of
  // F(4x4) grows with the channels summed (1.3e-5 normwise at 256).
  // Below 14 channels per group the transforms outweigh the multiplies saved
  // and grouped3x3s1_* (4 and 8 per group in registers) is faster. Measured
  // (ms, 2 threads, batch 1, this kernel vs grouped3x3s1_avx512) at 56x56 with
  // 8 groups / 28x28 with 32 groups: 12 per group 0.33 vs 0.34 / 0.40 vs 0.33;
  // 14 per group 0.38 vs 0.47 / 0.45 vs 0.48; 9 per group 0.26 vs 0.23 / 0.32 vs 0.22.
  if (p.Cg() < kMinPerGroup || p.Kg() < kMinPerGroup)
    return "fewer than 14 channels per group (grouped3x3s1_* is faster there)";
  if (p.G == 1 && (p.Cg() > kMaxDense || p.Kg() > kMaxDense)) return "dense with more than 256 channels";
  if (p.G > 1 && (p.Cg() > kMaxPerGroup || p.Kg() > kMaxPerGroup)) return "more than 128 channels per group";
  return nullptr;
}

int64_t WgF22PackedSize(const ConvParams& p) { return p.G * 16 * WgPanels(p) * 16 * p.Cg(); }
// Both tile sizes' weights: F(2x2) first, then F(4x4) (conv_winograd_grouped_f43_avx512.cc).
int64_t WgPackedSize(const ConvParams& p) { return WgF22PackedSize(p) + WinogradGroupedF43PackedSize(p); }

// Outputs of at most 8x8 are one F(2x2) block (16 tiles) per image but only
// 4 F(4x4) tiles: F(4x4) with four images per vector then needs a block per
// four images against one per image: by the same rule, from batch 3 on
// (1024@7, 32 groups, 2 threads, alone: 1.45x F(2x2) at batch 4 and 8; docs/network-profile.md section 15).
bool WgPrefersF43x4(const ConvParams& p) { return WinogradGroupedF43x4Fits(p) && 11 * CeilDiv(p.N, 4) < 4 * p.N; }

void WgPack(const ConvParams& p, const float* weight, float* packed) {
  const int64_t Cg = p.Cg(), np = WgPanels(p);
  WinogradGroupedF43Pack(p, weight, packed + WgF22PackedSize(p));
  // As in the F(4x4) pack: a panel's 16 output channels transformed together
  // (vectorised lane loops), each position's line written whole, lanes past
  // Kg from zero weights. u = G w G^T, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
  const int64_t pos_stride = np * Cg * 16;
  alignas(64) double w16[9][16];
  alignas(64) double t[4][3][16];
  for (int64_t g = 0; g < p.G; ++g) {
    for (int64_t kp = 0; kp < np; ++kp) {
      for (int64_t c = 0; c < Cg; ++c) {
        WgGatherPanel(p, weight, g, kp, c, w16);
        for (int s = 0; s < 3; ++s) {
          for (int kk = 0; kk < 16; ++kk) {
            const double w0 = w16[s][kk], w1 = w16[3 + s][kk], w2 = w16[6 + s][kk];
            t[0][s][kk] = w0;
            t[1][s][kk] = 0.5 * (w0 + w1 + w2);
            t[2][s][kk] = 0.5 * (w0 - w1 + w2);
            t[3][s][kk] = w2;
          }
        }
        float* dst = packed + ((g * 16 * np + kp) * Cg + c) * 16;
        for (int a = 0; a < 4; ++a) {
          float* l0 = dst + (a * 4 + 0) * pos_stride;
          float* l1 = dst + (a * 4 + 1) * pos_stride;
          float* l2 = dst + (a * 4 + 2) * pos_stride;
          float* l3 = dst + (a * 4 + 3) * pos_stride;
          for (int kk = 0; kk < 16; ++kk) {
            const double t0 = t[a][0][kk], t1 = t[a][1][kk], t2 = t[a][2][kk];
            l0[kk] = static_cast<float>(t0);
            l1[kk] = static_cast<float>(0.5 * (t0 + t1 + t2));
            l2[kk] = static_cast<float>(0.5 * (t0 - t1 + t2));
            l3[kk] = static_cast<float>(t2);
          }
        }
      }
    }
  }
}

#include "winograd_f22_blocks_avx512.inc"

void WgInput(const ConvParams& p, const float* input, int64_t grp, const Block* blocks, int64_t nv, float* Vb) {
  F22Input(p, input, grp, blocks, nv, Vb);
}

void WgOutput(const ConvParams& p, const ConvRunArgs& a, int64_t grp, const Block* blocks, int64_t nv, const float* Mb,
              int64_t k0, int64_t k1) {
  F22Output(p, a, grp, blocks, nv, Mb + k0 * nv * 16 * VL, k0, k1);
}

Status WgRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  const bool x4 = WgPrefersF43x4(p);
  if (x4 || WgPrefersF43(p)) {
    ConvRunArgs a43 = a;
    a43.packed_weights = a.packed_weights + WgF22PackedSize(p);
    return x4 ? WinogradGroupedF43x4Run(a43, pool) : WinogradGroupedF43Run(a43, pool);
  }
  // Blocks of 4x4 tiles of 2x2 outputs.
  return WgRunBlocks<16, Block, MakeBlock, WgInput, WgOutput>(
      a, pool, 8, kWgMaxBlocksPerTask, "conv winograd_grouped: out of memory for the per-thread scratch");
}

// Convs whose F(4x4) weights pass 1 MiB (WgGemm's bound for streaming them:
// dense ones of 128+ channels, ResNeXt-50's grouped layer3 and layer4 3x3s)
// are timed inside a network against winograd43_otf_avx512, which reads the
// raw 3x3 weights (a quarter of the F(4x4) bytes) and transforms them per run:
// at batch 1 the packed weights come from memory and bound the run
// (conv_winograd43_otf_avx512.cc; grouped: docs/network-profile.md section
// 28). The direct plan is no candidate there: gemm_avx512 lost to F(4x4) by
// 2x at batches 1 and 8 (ResNet-50's layer3, section 17). A plan does not know
// the output size, so 7x7 outputs (where this kernel runs F(2x2) or four
// images per vector, and the per-run F(4x4) fills 4 of 16 lanes) are timed
// against it too.
const char* WgAlternate(const ConvParams& p) {
  if (WinogradGroupedF43PackedSize(p) * int64_t{sizeof(float)} <= (int64_t{1} << 20)) return nullptr;
  return "winograd43_otf_avx512";
}

}  // namespace

extern const ConvImpl kConvWinogradGroupedAvx512 = {
    "winograd_grouped_avx512", 82, Isa::kAvx512, WgUnsupported, WgPackedSize, WgPack, WgRun,
    /*transformed=*/true,
    /*per_run=*/
    "F(4x4,3x3) tiles; F(2x2,3x3) when 16x16 blocks of outputs waste many more lanes than 8x8 ones "
    "(outputs of at most 8 rows or columns), except outputs of at most 8x8 at batch 3 and more: F(4x4,3x3) with four "
    "images per vector",
    /*residual_in_place=*/nullptr, WgAlternate};
}  // namespace resnext
#pragma GCC pop_options
