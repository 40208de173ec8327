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

constexpr int kPos = 36;

// Blocks per task: three share input lines and fill 8 x 3 register blocks,
// but V and M of three blocks must stay in the 1 MB L2 at 64+ channels.
int64_t MaxBlocksPerTask(const ConvParams& p) { return p.Cg() > 48 || p.Kg() > 48 ? 1 : 3; }

// Where one block of tiles sits in the batch, and its edge masks.
struct Block {
  int64_t n, oh0, ow0;  // image, first output row and column (16 of each)
  int64_t ih0, iw0;     // input row and column of the first padded row and column read
  __mmask16 lo_cols;    // lanes l with input column iw0 + l inside the row
  __mmask16 mid_cols;   // lanes l < 14 with input column iw0 + 4 + l inside the row
  __mmask16 out_cols;   // output columns ow0 + l < Q
};

Block MakeBlock(const ConvParams& p, int64_t bw, int64_t nb, int64_t b) {
  Block k;
  k.n = b / nb;
  const int64_t lb = b % nb, bi = lb / bw, bj = lb % bw;
  k.oh0 = 16 * bi;
  k.ow0 = 16 * bj;
  k.ih0 = k.oh0 - p.pad_top;
  k.iw0 = k.ow0 - p.pad_left;
  unsigned lo = 0, mid = 0;
  for (int l = 0; l < 16; ++l) {
    if (k.iw0 + l >= 0 && k.iw0 + l < p.W) lo |= 1u << l;
    if (l < 14 && k.iw0 + 4 + l >= 0 && k.iw0 + 4 + l < p.W) mid |= 1u << l;
  }
  k.lo_cols = static_cast<__mmask16>(lo);
  k.mid_cols = static_cast<__mmask16>(mid);
  const int64_t nc = p.Q() - k.ow0 < 16 ? p.Q() - k.ow0 : 16;
  k.out_cols = static_cast<__mmask16>((1u << nc) - 1u);
  return k;
}

// V[c][v][pos] for input channels [0, Cg) of the group and the task's blocks.
void F43Input(const ConvParams& p, const float* input, int64_t grp, const Block* blocks, int64_t nv, float* Vb) {
  const int64_t Cg = p.Cg(), H = p.H, W = p.W;
  // Lane (x, jj) = 4 x + jj takes column 4 jj + x of columns 0-15 ...
  const __m512i sel_a = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  // ... and lane 4 (x - 4) + jj, x = 4, 5, column 4 jj + x of columns 4-19, in both halves.
  const __m512i sel_b = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 4, 8, 12, 1, 5, 9, 13);
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    bool row_in[18];
    for (int r = 0; r < 18; ++r) row_in[r] = bk.ih0 + r >= 0 && bk.ih0 + r < H;
    for (int64_t c = 0; c < Cg; ++c) {
      const float* chan = input + (bk.n * p.C + grp * Cg + c) * H * W + bk.ih0 * W + bk.iw0;
      if (c + 1 < Cg) {
        const char* nx = reinterpret_cast<const char*>(chan + H * W);
        for (int r = 0; r < 18; ++r) _mm_prefetch(nx + r * W * 4, _MM_HINT_T0);
      }
      auto row_a = [&](int r) {
        return row_in[r] ? _mm512_permutexvar_ps(sel_a, _mm512_maskz_loadu_ps(bk.lo_cols, chan + r * W)) : VZero();
      };
      auto mid = [&](int r) { return row_in[r] ? _mm512_maskz_loadu_ps(bk.mid_cols, chan + r * W + 4) : VZero(); };
      // z[a][i]: vertical transform of tile row i (columns x < 4), and of tile
      // rows 2h, 2h + 1 (x = 4, 5) for i = 4 + h.
      alignas(64) float z[6][6][VL];
      for (int ii = 0; ii < 4; ++ii) {
        V t[6];
        Bt6(row_a(4 * ii), row_a(4 * ii + 1), row_a(4 * ii + 2), row_a(4 * ii + 3), row_a(4 * ii + 4),
            row_a(4 * ii + 5), t);
        for (int a = 0; a < 6; ++a) VStore(z[a][ii], t[a]);
      }
      for (int h = 0; h < 2; ++h) {
        V d[6];
        for (int r = 0; r < 6; ++r) {
          d[r] = _mm512_mask_permutexvar_ps(_mm512_permutexvar_ps(sel_b, mid(8 * h + r)), 0xFF00, sel_b,
                                            mid(8 * h + 4 + r));
        }
        V t[6];
        Bt6(d[0], d[1], d[2], d[3], d[4], d[5], t);
        for (int a = 0; a < 6; ++a) VStore(z[a][4 + h], t[a]);
      }
      float* dst = Vb + (c * nv + v) * kPos * VL;
      for (int a = 0; a < 6; ++a) {
        V x0 = VLoad(z[a][0]), x1 = VLoad(z[a][1]), x2 = VLoad(z[a][2]), x3 = VLoad(z[a][3]);
        Transpose4x4Chunks(x0, x1, x2, x3);  // [x], lanes (tile row, tile column)
        const V b0 = VLoad(z[a][4]), b1 = VLoad(z[a][5]);
        const V x4 = _mm512_shuffle_f32x4(b0, b1, 0x88), x5 = _mm512_shuffle_f32x4(b0, b1, 0xDD);
        V t[6];
        Bt6(x0, x1, x2, x3, x4, x5, t);
        for (int b = 0; b < 6; ++b) VStore(dst + (a * 6 + b) * VL, t[b]);
      }
    }
  }
}

// y = A^T m A for output channels [k0, k1) of the group and the task's blocks,
// with the epilogue.
void F43Output(const ConvParams& p, const ConvRunArgs& a, int64_t grp, const Block* blocks, int64_t nv, const float* Mb,
               int64_t k0, int64_t k1) {
  const int64_t Kg = p.Kg(), P = p.P(), Q = p.Q();
  const bool relu = p.activation == Activation::kRelu;
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    int64_t nrows = P - bk.oh0 < 16 ? P - bk.oh0 : 16;
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t ko = grp * Kg + k;
      const float* m = Mb + (k * nv + v) * kPos * VL;
      V t[4][6];  // [r][b]: vertical transform of column b, with the bias
      Wg43OutVertical(m, a.bias ? a.bias + ko : nullptr, t);
      float* out = a.output + (bk.n * p.K + ko) * P * Q + bk.oh0 * Q + bk.ow0;
      const float* res = a.residual ? a.residual + (bk.n * p.K + ko) * P * Q + bk.oh0 * Q + bk.ow0 : nullptr;
      for (int r = 0; r < 4; ++r) {
        V y[4];  // [s], lanes (tile row, tile column): output row 4 ii + r, column 4 jj + s
        At6(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5], y);
        const V u0 = _mm512_unpacklo_ps(y[0], y[1]), u1 = _mm512_unpackhi_ps(y[0], y[1]);
        const V u2 = _mm512_unpacklo_ps(y[2], y[3]), u3 = _mm512_unpackhi_ps(y[2], y[3]);
        // o[jj]: chunk ii holds row 4 ii + r, columns 4 jj .. 4 jj + 3.
        V o0 = Lo64(u0, u2), o1 = Hi64(u0, u2), o2 = Lo64(u1, u3), o3 = Hi64(u1, u3);
        Transpose4x4Chunks(o0, o1, o2, o3);  // o[ii]: row 4 ii + r, 16 columns
        const V rows[4] = {o0, o1, o2, o3};
        for (int ii = 0; ii < 4; ++ii) {
          const int64_t row = 4 * ii + r;
          if (row >= nrows) break;
          V x = rows[ii];
          if (res) x = VAdd(x, _mm512_maskz_loadu_ps(bk.out_cols, res + row * Q));
          if (relu) x = VRelu(x);
          _mm512_mask_storeu_ps(out + row * Q, bk.out_cols, x);
        }
      }
    }
  }
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
