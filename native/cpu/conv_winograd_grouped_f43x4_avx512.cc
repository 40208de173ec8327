// Winograd F(4x4, 3x3) for grouped convolutions on small outputs (at most 8x8:
// ResNeXt's 7x7 stage) at batch 3 and more, AVX-512: four images share one
// vector. An 8x8 output is 2x2 tiles of 4x4 outputs, so one image fills only
// 4 of a vector's 16 lanes (why a single 7x7 image runs F(2x2)); four images
// fill all 16, and the transformed GEMM streams each weight panel once for
// them at 36 multiplies per 4x4 outputs instead of F(2x2)'s 64. Reached
// through winograd_grouped_avx512, which picks the tile size per run; it
// reads the F(4x4) weights that conv_winograd_grouped_f43_avx512.cc packs.
//
// Block = images n0 .. n0 + 3 (fewer at the end of the batch: missing images
// are zero lanes), lane = 4 i + 2 ti + tj for image i, tile row ti and tile
// column tj. Each image reads padded rows 0-9 and columns 0-9 (input row
// -pad_top + r, column -pad_left + l).
// Input transform, per channel and block: each padded row is loaded once
// (masked: padding and the image edge read as zeros) and one permute puts
// column 4 tj + x in lane 2 x + tj (x < 6); the vertical transform of tile
// rows 0 and 1 (padded rows 0-5 and 4-9) is lane-wise, giving per (image,
// tile row) a vector whose 64-bit element x holds both tile columns; an 8x8
// transpose of 64-bit elements across the 8 (image, tile row) vectors puts
// them in the lanes, and the horizontal transform is lane-wise too.
// Output transform: lane-wise in both directions; in-chunk unpacks and a
// chunk transpose give per image one vector holding output rows r (lower
// half) and 4 + r (upper half), stored masked with the bias (added at the
// transformed position whose A^T column is all ones), residual and ReLU.
//
// Layouts (floats; nv = blocks in the task, one vector each):
//   packed U: WinogradGroupedF43Pack's [G][36 pos][ceil(Kg/16) panels][Cg][16].
//   scratch:  V [Cg][nv][36 pos][16] | M [ceil16(Kg)][nv][36 pos][16].
// Task = (group, chunk of blocks, range of output panels), as in
// winograd_grouped_common_avx512.inc.
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"
#include "winograd_grouped_f43.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_shuffle_f32x4 and _mm512_shuffle_f64x2 read an
// uninitialized vector: their inline bodies start from _mm512_undefined_ps()
// or _pd(), which is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace resnext {
namespace {

#include "vec_avx512.inc"
#include "winograd_grouped_common_avx512.inc"

constexpr int kPos = 36;
constexpr int64_t kImages = 4;

// Blocks per task, as for F(4x4) on large images: V and M of three blocks
// stay in L2 up to 48 channels per group.
int64_t MaxBlocksPerTask(const ConvParams& p) { return p.Cg() > 48 || p.Kg() > 48 ? 1 : 3; }

// Where the 10x10 padded input patch of an output of at most 8x8 (2x2 F(4x4)
// tiles) sits: input row ih0 + r, column iw0 + l for r, l < 10.
struct Wg43Patch {
  int64_t ih0, iw0, W;
  __mmask16 in_cols;  // lanes l < 10 with input column iw0 + l inside the row
  unsigned rows_in;   // bit r: input row ih0 + r inside the image
};

inline Wg43Patch MakeWg43Patch(const ConvParams& p) {
  Wg43Patch k;
  k.ih0 = -p.pad_top;
  k.iw0 = -p.pad_left;
  k.W = p.W;
  unsigned m = 0, rows = 0;
  for (int l = 0; l < 10; ++l) {
    if (k.iw0 + l >= 0 && k.iw0 + l < p.W) m |= 1u << l;
    if (k.ih0 + l >= 0 && k.ih0 + l < p.H) rows |= 1u << l;
  }
  k.in_cols = static_cast<__mmask16>(m);
  k.rows_in = rows;
  return k;
}

inline __m512d WgAsPd(V x) { return _mm512_castps_pd(x); }
inline V WgAsPs(__m512d x) { return _mm512_castpd_ps(x); }

// The F(4x4) input transform of four small planes (here: one channel of four images) (src[i]: plane i's input
// row 0, column 0; null: a zero plane) at once: dst[(a * 6 + b) * 16 + 4 i +
// 2 ti + tj] = (B^T d B)[a][b] of plane i's tile (ti, tj). Each padded row is
// loaded once (masked) and one permute puts column 4 tj + x in lane 2 x + tj
// (x < 6); the vertical transform of tile rows 0 and 1 (padded rows 0-5 and
// 4-9) is lane-wise, giving per (plane, tile row) a vector whose 64-bit
// element x holds both tile columns; an 8x8 transpose of 64-bit elements
// across the 8 (plane, tile row) vectors puts them in the lanes, and the
// horizontal transform is lane-wise too.
inline void Wg43Input4(const float* const src[4], const Wg43Patch& pt, float* dst) {
  const __m512i sel = _mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 4, 8, 5, 9, 0, 0, 0, 0);  // lanes 12-15 unread
  V z[6][8];                                                                              // [a][2 i + ti]
  for (int i = 0; i < 4; ++i) {
    if (src[i] == nullptr) {
      for (int a = 0; a < 6; ++a) z[a][2 * i] = z[a][2 * i + 1] = VZero();
      continue;
    }
    const float* row0 = src[i] + pt.ih0 * pt.W + pt.iw0;
    V d[10];
    for (int r = 0; r < 10; ++r) {
      d[r] = (pt.rows_in >> r) & 1u ? _mm512_permutexvar_ps(sel, _mm512_maskz_loadu_ps(pt.in_cols, row0 + r * pt.W))
                                    : VZero();
    }
    V t[6];
    Bt6(d[0], d[1], d[2], d[3], d[4], d[5], t);
    for (int a = 0; a < 6; ++a) z[a][2 * i] = t[a];
    Bt6(d[4], d[5], d[6], d[7], d[8], d[9], t);
    for (int a = 0; a < 6; ++a) z[a][2 * i + 1] = t[a];
  }
  for (int a = 0; a < 6; ++a) {
    // 8x8 transpose of 64-bit elements: z[a][k] element x -> xx element k.
    __m512d u[8];
    for (int h = 0; h < 4; ++h) {
      u[2 * h] = _mm512_unpacklo_pd(WgAsPd(z[a][2 * h]), WgAsPd(z[a][2 * h + 1]));      // x = 0, 2, 4, 6
      u[2 * h + 1] = _mm512_unpackhi_pd(WgAsPd(z[a][2 * h]), WgAsPd(z[a][2 * h + 1]));  // x = 1, 3, 5, 7
    }
    // w: planes 0-1 and 2-3 (w0-w3) or 4-7, chunks (x = e, e + 4).
    const __m512d w0 = _mm512_shuffle_f64x2(u[0], u[2], 0x88), w1 = _mm512_shuffle_f64x2(u[0], u[2], 0xDD);
    const __m512d w2 = _mm512_shuffle_f64x2(u[1], u[3], 0x88), w3 = _mm512_shuffle_f64x2(u[1], u[3], 0xDD);
    const __m512d w4 = _mm512_shuffle_f64x2(u[4], u[6], 0x88), w5 = _mm512_shuffle_f64x2(u[4], u[6], 0xDD);
    const __m512d w6 = _mm512_shuffle_f64x2(u[5], u[7], 0x88), w7 = _mm512_shuffle_f64x2(u[5], u[7], 0xDD);
    const V x0 = WgAsPs(_mm512_shuffle_f64x2(w0, w4, 0x88)), x4 = WgAsPs(_mm512_shuffle_f64x2(w0, w4, 0xDD));
    const V x2 = WgAsPs(_mm512_shuffle_f64x2(w1, w5, 0x88));
    const V x1 = WgAsPs(_mm512_shuffle_f64x2(w2, w6, 0x88)), x5 = WgAsPs(_mm512_shuffle_f64x2(w2, w6, 0xDD));
    const V x3 = WgAsPs(_mm512_shuffle_f64x2(w3, w7, 0x88));
    V t[6];
    Bt6(x0, x1, x2, x3, x4, x5, t);
    for (int b = 0; b < 6; ++b) VStore(dst + (a * 6 + b) * VL, t[b]);
  }
}

// Four images of the batch and the edge masks they share.
struct Block {
  int64_t n0, nimg;    // first image, images in the block (1..4)
  Wg43Patch patch;     // the padded input patch every image reads
  __mmask16 out_cols;  // output columns l < Q
};

Block MakeBlock(const ConvParams& p, int64_t /*bw*/, int64_t /*nb*/, int64_t b) {
  Block k;
  k.n0 = b * kImages;
  k.nimg = p.N - k.n0 < kImages ? p.N - k.n0 : kImages;
  k.patch = MakeWg43Patch(p);
  k.out_cols = static_cast<__mmask16>((1u << p.Q()) - 1u);
  return k;
}

// V[c][v][pos] for input channels [0, Cg) of the group and the task's blocks:
// Wg43Input4 on the block's images.
void F43x4Input(const ConvParams& p, const float* input, int64_t grp, const Block* blocks, int64_t nv, float* Vb) {
  const int64_t Cg = p.Cg(), HW = p.H * p.W;
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    for (int64_t c = 0; c < Cg; ++c) {
      const float* src[4] = {nullptr, nullptr, nullptr, nullptr};
      for (int64_t i = 0; i < bk.nimg; ++i) {
        src[i] = input + ((bk.n0 + i) * p.C + grp * Cg + c) * HW;
        if (c + 1 < Cg) {
          const char* nx = reinterpret_cast<const char*>(src[i] + HW);
          for (int64_t off = 0; off < HW * 4; off += 64) _mm_prefetch(nx + off, _MM_HINT_T0);
        }
      }
      Wg43Input4(src, bk.patch, Vb + (c * nv + v) * kPos * VL);
    }
  }
}

// y = A^T m A for output channels [k0, k1) of the group and the task's blocks,
// with the epilogue.
void F43x4Output(const ConvParams& p, const ConvRunArgs& a, int64_t grp, const Block* blocks, int64_t nv,
                 const float* Mb, int64_t k0, int64_t k1) {
  const int64_t Kg = p.Kg(), P = p.P(), Q = p.Q(), PQ = P * Q;
  const bool relu = p.activation == Activation::kRelu;
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    const __mmask16 lo = bk.out_cols, hi = static_cast<__mmask16>(bk.out_cols << 8);
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t ko = grp * Kg + k;
      const float* m = Mb + (k * nv + v) * kPos * VL;
      V t[4][6];  // [r][b]: vertical transform of column b, with the bias
      Wg43OutVertical(m, a.bias ? a.bias + ko : nullptr, t);
      for (int r = 0; r < 4; ++r) {
        if (r >= P) break;
        V y[4];  // [s], lane 4 i + 2 ti + tj: image i, output row 4 ti + r, column 4 tj + s
        At6(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5], y);
        const V u0 = _mm512_unpacklo_ps(y[0], y[1]), u1 = _mm512_unpackhi_ps(y[0], y[1]);
        const V u2 = _mm512_unpacklo_ps(y[2], y[3]), u3 = _mm512_unpackhi_ps(y[2], y[3]);
        // Chunk i of o0 / o1: image i, row r, columns 0-3 / 4-7; of o2 / o3: row 4 + r.
        V o0 = Lo64(u0, u2), o1 = Hi64(u0, u2), o2 = Lo64(u1, u3), o3 = Hi64(u1, u3);
        Transpose4x4Chunks(o0, o1, o2, o3);  // o[i]: image i, row r (lower half) and row 4 + r (upper half)
        const V rows[4] = {o0, o1, o2, o3};
        const bool upper = 4 + r < P;
        for (int64_t i = 0; i < bk.nimg; ++i) {
          const int64_t base = ((bk.n0 + i) * p.K + ko) * PQ + r * Q;
          V x = rows[i];
          if (a.residual) {
            const float* res = a.residual + base;
            const __m256 r0 = _mm256_maskz_loadu_ps(static_cast<__mmask8>(lo), res);
            const __m256 r1 =
                upper ? _mm256_maskz_loadu_ps(static_cast<__mmask8>(lo), res + 4 * Q) : _mm256_setzero_ps();
            x = VAdd(x, _mm512_insertf32x8(_mm512_castps256_ps512(r0), r1, 1));
          }
          if (relu) x = VRelu(x);
          float* out = a.output + base;
          _mm512_mask_storeu_ps(out, lo, x);
          if (upper) _mm512_mask_storeu_ps(out + 4 * Q - 8, hi, x);
        }
      }
    }
  }
}

}  // namespace

bool WinogradGroupedF43x4Fits(const ConvParams& p) { return p.P() <= 8 && p.Q() <= 8; }

Status WinogradGroupedF43x4Run(const ConvRunArgs& a, ThreadPool& pool) {
  return WgRunBlocks<kPos, Block, MakeBlock, F43x4Input, F43x4Output>(
      a, pool, 8, MaxBlocksPerTask(*a.p),
      "conv winograd_grouped (F(4x4,3x3), four images per vector): out of memory for the per-thread scratch", kImages);
}

}  // namespace resnext
#pragma GCC pop_options
