// Winograd F(4x4, 3x3) for grouped convolutions with 14 to 128 channels per
// group, AVX-512: 3x3, stride 1, dilation 1, any padding. 36 multiplies per
// 4x4 outputs instead of F(2x2)'s 64, so on outputs of 9x9 and more (where a
// 16x16 block wastes no more lanes than F(2x2)'s 8x8 blocks) it does 1.8x
// fewer multiplies for about the same transform work. Reached through
// winograd_grouped_avx512, which picks the tile size per run.
//
// A tile is a 4x4 block of outputs; its 6x6 input patch d gives
//   y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A   (Lavin and Gray's matrices).
// Tiles are grouped in 4x4 blocks (16x16 outputs, 18x18 padded inputs), and a
// block's 16 tiles fill the lanes of one vector, lane = 4 * (tile row) + (tile
// column). Input transform, per channel and block: each padded row is loaded
// as columns 0-15 and 4-19 (masked: padding and the image edge read as
// zeros); one permute puts columns 4 jj + x, x < 4, in lanes (x, jj), and one
// more puts x = 4, 5 in half a vector, two tile rows paired per vector. The
// vertical transform is lane-wise; 128-bit chunk shuffles turn its rows
// (x, jj) x [tile row] into [x] x (tile row, tile column), and the horizontal
// transform is lane-wise too. The output transform is lane-wise in both
// directions; an in-chunk 4x4 transpose and a chunk transpose give 16-column
// output rows, stored masked with the bias (added at the one transformed
// position whose A^T column is all ones), residual and ReLU.
//
// Layouts (floats; nv = blocks in the task, one vector each):
//   packed U: [G][36 pos][ceil(Kg/16) panels][Cg][16], packed in double.
//   scratch:  V [Cg][nv][36 pos][16] | M [ceil16(Kg)][nv][36 pos][16].
// Task = (group, chunk of blocks); chunks of one group consecutive.
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

// Blocks per task: three share input lines and fill 8 x 3 register blocks,
// but V and M of three blocks must stay in the 1 MB L2 at 64+ channels.
int64_t MaxBlocksPerTask(const ConvParams& p) { return p.Cg() > 48 || p.Kg() > 48 ? 1 : 3; }

#include "winograd_f43_blocks_avx512.inc"

// F43OutputRows with M's row 0 at Mb (WgRunBlocks' convention).
void F43Output(const ConvParams& p, const ConvRunArgs& a, int64_t grp, const Block* blocks, int64_t nv, const float* Mb,
               int64_t k0, int64_t k1) {
  F43OutputRows(p, a, grp, blocks, nv, Mb + k0 * nv * kPos * VL, k0, k1);
}

}  // namespace

int64_t WinogradGroupedF43PackedSize(const ConvParams& p) { return p.G * kPos * WgPanels(p) * 16 * p.Cg(); }

void WinogradGroupedF43Pack(const ConvParams& p, const float* weight, float* packed) {
  const int64_t Cg = p.Cg(), np = WgPanels(p);
  // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
  static const double kG[6][3] = {{0.25, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
  // The 16 output channels of a panel are the 16 lanes of a packed line:
  // transform them together (the lane loops vectorise), and write each of
  // the 36 positions' lines whole. Lanes past Kg transform zero weights to 0.
  const int64_t pos_stride = np * Cg * 16;
  alignas(64) double w16[9][16];
  alignas(64) double t[6][3][16];  // G w
  for (int64_t g = 0; g < p.G; ++g) {
    for (int64_t kp = 0; kp < np; ++kp) {
      for (int64_t c = 0; c < Cg; ++c) {
        WgGatherPanel(p, weight, g, kp, c, w16);
        for (int a = 0; a < 6; ++a) {
          for (int s = 0; s < 3; ++s) {
            for (int kk = 0; kk < 16; ++kk)
              t[a][s][kk] = kG[a][0] * w16[s][kk] + kG[a][1] * w16[3 + s][kk] + kG[a][2] * w16[6 + s][kk];
          }
        }
        float* dst = packed + ((g * kPos * np + kp) * Cg + c) * 16;
        for (int a = 0; a < 6; ++a) {
          for (int b = 0; b < 6; ++b) {
            float* line = dst + (a * 6 + b) * pos_stride;
            for (int kk = 0; kk < 16; ++kk)
              line[kk] = static_cast<float>(t[a][0][kk] * kG[b][0] + t[a][1][kk] * kG[b][1] + t[a][2][kk] * kG[b][2]);
          }
        }
      }
    }
  }
}

Status WinogradGroupedF43Run(const ConvRunArgs& a, ThreadPool& pool) {
  // Blocks of 4x4 tiles of 4x4 outputs.
  return WgRunBlocks<kPos, Block, MakeBlock, F43Input, F43Output>(
      a, pool, 16, MaxBlocksPerTask(*a.p),
      "conv winograd_grouped (F(4x4,3x3)): out of memory for the per-thread scratch");
}

}  // namespace resnext
#pragma GCC pop_options
