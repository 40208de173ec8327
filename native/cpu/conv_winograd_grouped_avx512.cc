// Winograd F(2x2, 3x3) for grouped convolutions with 16 to 128 channels per
// group (ResNeXt's stage-3 and stage-4 3x3 layers: 16 and 32), AVX-512: 3x3,
// stride 1, dilation 1, any padding. The dense kernel (conv_winograd.inc)
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
// loaded once (masked: padding and the image edge read as zeros) and
// transformed along x with two permutes and an FMA into lanes (b, jj) (b the
// transformed column); the vertical transform combines rows into Z[a][ii];
// a 4x4 transpose of 128-bit chunks turns Z[a][0..3] (lanes (b, jj)) into
// the 4 positions (a, b) with tiles in the lanes. The output transform runs
// the same steps backwards and writes two output rows of 8 columns per tile
// row with masked 256-bit stores, bias, residual and ReLU applied on the way.
//
// Layouts (floats; nv = blocks in the task, one vector each):
//   packed U: [G][16 pos][ceil(Kg/16) panels][Cg][16]: 16 output channels
//             interleaved per input channel (broadcast by the micro-kernel),
//             channels past Kg zero; packed once by the plan (in double).
//   scratch:  V [16 pos][Cg][nv][16] | M [ceil16(Kg)][16 pos][nv][16].
// Task = (group, chunk of at most 3 blocks): input transform into V, 16 GEMMs
// M[pos] = U[pos] V[pos] (16 x 1 or 8 x nv register blocks), output transform.
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_shuffle_f32x4 reads an uninitialized vector: its
// inline body starts from _mm512_undefined_ps(), which is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace resnext {
namespace {

#include "vec_avx512.inc"

constexpr int64_t kMinPerGroup = 16;
constexpr int64_t kMaxPerGroup = 128;
constexpr int64_t kMaxBlocksPerTask = 3;

int64_t CeilDiv(int64_t x, int64_t m) { return (x + m - 1) / m; }

const char* WgUnsupported(const ConvParams& p) {
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != 1 || p.stride_w != 1) return "needs stride 1";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  if (p.G == 1) return "dense (winograd_* handles it)";
  // Below 16 channels per group the transforms outweigh the multiplies saved
  // (grouped3x3s1_* keeps 4 and 8 per group in registers).
  if (p.Cg() < kMinPerGroup || p.Kg() < kMinPerGroup) return "fewer than 16 channels per group";
  if (p.Cg() > kMaxPerGroup || p.Kg() > kMaxPerGroup) return "more than 128 channels per group";
  return nullptr;
}

int64_t WgPanels(const ConvParams& p) { return CeilDiv(p.Kg(), 16); }
int64_t WgPackedSize(const ConvParams& p) { return p.G * 16 * WgPanels(p) * 16 * p.Cg(); }

void WgPack(const ConvParams& p, const float* weight, float* packed) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), np = WgPanels(p);
  for (int64_t i = 0; i < WgPackedSize(p); ++i) packed[i] = 0.0f;
  for (int64_t g = 0; g < p.G; ++g) {
    for (int64_t k = 0; k < Kg; ++k) {
      for (int64_t c = 0; c < Cg; ++c) {
        const float* w = weight + ((g * Kg + k) * Cg + c) * 9;
        // u = G w G^T, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
        double t[4][3];
        for (int s = 0; s < 3; ++s) {
          const double w0 = w[s], w1 = w[3 + s], w2 = w[6 + s];
          t[0][s] = w0;
          t[1][s] = 0.5 * (w0 + w1 + w2);
          t[2][s] = 0.5 * (w0 - w1 + w2);
          t[3][s] = w2;
        }
        for (int a = 0; a < 4; ++a) {
          const double u[4] = {t[a][0], 0.5 * (t[a][0] + t[a][1] + t[a][2]), 0.5 * (t[a][0] - t[a][1] + t[a][2]), t[a][2]};
          for (int b = 0; b < 4; ++b) {
            packed[(((g * 16 + a * 4 + b) * np + k / 16) * Cg + c) * 16 + k % 16] = static_cast<float>(u[b]);
          }
        }
      }
    }
  }
}

// Rows ii of four vectors with 128-bit chunks b become rows b with chunks ii.
inline void Transpose4x4Chunks(V& r0, V& r1, V& r2, V& r3) {
  const V t0 = _mm512_shuffle_f32x4(r0, r1, 0x44), t1 = _mm512_shuffle_f32x4(r0, r1, 0xEE);
  const V t2 = _mm512_shuffle_f32x4(r2, r3, 0x44), t3 = _mm512_shuffle_f32x4(r2, r3, 0xEE);
  r0 = _mm512_shuffle_f32x4(t0, t2, 0x88);
  r1 = _mm512_shuffle_f32x4(t0, t2, 0xDD);
  r2 = _mm512_shuffle_f32x4(t1, t3, 0x88);
  r3 = _mm512_shuffle_f32x4(t1, t3, 0xDD);
}

// Where one block of tiles sits in the batch, and its edge masks.
struct Block {
  int64_t n, oh0, ow0;  // image, first output row and column (8 of each)
  int64_t ih0, iw0;     // input row and column of the first padded row and column read
  __mmask16 in_cols;    // lanes l < 10 with input column iw0 + l inside the row
  __mmask8 out_cols;    // output columns ow0 + l < Q
};

Block MakeBlock(const ConvParams& p, int64_t bw, int64_t nb, int64_t b) {
  Block k;
  k.n = b / nb;
  const int64_t lb = b % nb, bi = lb / bw, bj = lb % bw;
  k.oh0 = 8 * bi;
  k.ow0 = 8 * bj;
  k.ih0 = k.oh0 - p.pad_top;
  k.iw0 = k.ow0 - p.pad_left;
  unsigned m = 0;
  for (int l = 0; l < 10; ++l) {
    if (k.iw0 + l >= 0 && k.iw0 + l < p.W) m |= 1u << l;
  }
  k.in_cols = static_cast<__mmask16>(m);
  const int64_t nc = p.Q() - k.ow0 < 8 ? p.Q() - k.ow0 : 8;
  k.out_cols = static_cast<__mmask8>((1u << nc) - 1u);
  return k;
}

// V[pos][c][v] for input channels [0, Cg) of the group and the task's blocks.
void WgInput(const ConvParams& p, const float* input, int64_t grp, const Block* blocks, int64_t nv, float* Vb) {
  const int64_t Cg = p.Cg(), H = p.H, W = p.W;
  // Row transform along x, lanes (b, jj): b0 = d0 - d2, b1 = d1 + d2,
  // b2 = d2 - d1, b3 = d1 - d3 of the columns 2jj + 0..3.
  const __m512i ia = _mm512_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7, 2, 4, 6, 8, 1, 3, 5, 7);
  const __m512i ib = _mm512_setr_epi32(2, 4, 6, 8, 2, 4, 6, 8, 1, 3, 5, 7, 3, 5, 7, 9);
  const V sg = _mm512_setr_ps(-1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    bool row_in[10];
    for (int r = 0; r < 10; ++r) row_in[r] = bk.ih0 + r >= 0 && bk.ih0 + r < H;
    for (int64_t c = 0; c < Cg; ++c) {
      const float* chan = input + (bk.n * p.C + grp * Cg + c) * H * W + bk.ih0 * W + bk.iw0;
      V rt[10];
      for (int r = 0; r < 10; ++r) {
        const V row = row_in[r] ? _mm512_maskz_loadu_ps(bk.in_cols, chan + r * W) : VZero();
        rt[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(ib, row), sg, _mm512_permutexvar_ps(ia, row));
      }
      V z[4][4];  // [a][ii], lanes (b, jj)
      for (int ii = 0; ii < 4; ++ii) {
        const V d0 = rt[2 * ii], d1 = rt[2 * ii + 1], d2 = rt[2 * ii + 2], d3 = rt[2 * ii + 3];
        z[0][ii] = VSub(d0, d2);
        z[1][ii] = VAdd(d1, d2);
        z[2][ii] = VSub(d2, d1);
        z[3][ii] = VSub(d1, d3);
      }
      float* dst = Vb + (c * nv + v) * VL;
      const int64_t pos_stride = Cg * nv * VL;
      for (int a = 0; a < 4; ++a) {
        Transpose4x4Chunks(z[a][0], z[a][1], z[a][2], z[a][3]);
        for (int b = 0; b < 4; ++b) VStore(dst + (a * 4 + b) * pos_stride, z[a][b]);
      }
    }
  }
}

// M rows [k0, k0 + MRT) of one position (ldm floats between rows) over the NV
// vectors of V (rows of NV vectors per input channel) = U[c][k0..] x V[c].
template <int MRT, int NV>
void WgMicro(int64_t Cg, const float* __restrict U, const float* __restrict Vp, float* __restrict M, int64_t ldm) {
  V acc[MRT][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MRT; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = VZero();
#pragma GCC unroll 2
  for (int64_t c = 0; c < Cg; ++c) {
    V b[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) b[v] = VLoad(Vp + (c * NV + v) * VL);
#pragma GCC unroll 16
    for (int i = 0; i < MRT; ++i) {
      const V a = _mm512_set1_ps(U[c * 16 + i]);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = VFma(a, b[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MRT; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) VStore(M + i * ldm + v * VL, acc[i][v]);
}

// The 16 GEMMs of the task: M[k][pos][v] = sum_c U[pos][k][c] V[pos][c][v].
void WgGemm(const ConvParams& p, const float* Ug, const float* Vb, int64_t nv, float* Mb) {
  const int64_t Cg = p.Cg(), np = WgPanels(p);
  const int64_t ldm = 16 * nv * VL;  // between output channels in M
  for (int pos = 0; pos < 16; ++pos) {
    const float* Vp = Vb + pos * Cg * nv * VL;
    for (int64_t pan = 0; pan < np; ++pan) {
      const float* U = Ug + (pos * np + pan) * Cg * 16;
      float* M = Mb + (pan * 16 * 16 + pos) * nv * VL;
      switch (nv) {
        case 1: WgMicro<16, 1>(Cg, U, Vp, M, ldm); break;
        case 2:
          WgMicro<8, 2>(Cg, U, Vp, M, ldm);
          WgMicro<8, 2>(Cg, U + 8, Vp, M + 8 * ldm, ldm);
          break;
        default:
          WgMicro<8, 3>(Cg, U, Vp, M, ldm);
          WgMicro<8, 3>(Cg, U + 8, Vp, M + 8 * ldm, ldm);
          break;
      }
    }
  }
}

// y = A^T m A (A^T = [1 1 1 0; 0 1 -1 -1]) for output channels [0, Kg) of the
// group and the task's blocks, with the epilogue.
void WgOutput(const ConvParams& p, const ConvRunArgs& a, int64_t grp, const Block* blocks, int64_t nv, const float* Mb) {
  const int64_t Kg = p.Kg(), P = p.P(), Q = p.Q();
  const bool relu = p.activation == Activation::kRelu;
  // Lane r * 8 + 2jj + s of a tile row's two output rows (r) from the
  // vectors X[r] (lanes (b, jj)): s = 0: x0 + x1 + x2, s = 1: x1 - x2 - x3.
  const __m512i i1 = _mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 16, 20, 17, 21, 18, 22, 19, 23);
  const __m512i i2 = _mm512_setr_epi32(4, 8, 5, 9, 6, 10, 7, 11, 20, 24, 21, 25, 22, 26, 23, 27);
  const __m512i i3 = _mm512_setr_epi32(8, 12, 9, 13, 10, 14, 11, 15, 24, 28, 25, 29, 26, 30, 27, 31);
  const V sg = _mm512_setr_ps(1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1);
  for (int64_t v = 0; v < nv; ++v) {
    const Block& bk = blocks[v];
    for (int64_t k = 0; k < Kg; ++k) {
      const int64_t ko = grp * Kg + k;
      const float* m = Mb + (k * 16 * nv + v) * VL;
      const int64_t ld = nv * VL;  // between positions
      V t[2][4];                   // [r][b], lanes (ii, jj)
      for (int b = 0; b < 4; ++b) {
        const V m0 = VLoad(m + (0 + b) * ld), m1 = VLoad(m + (4 + b) * ld);
        const V m2 = VLoad(m + (8 + b) * ld), m3 = VLoad(m + (12 + b) * ld);
        t[0][b] = VAdd(VAdd(m0, m1), m2);
        t[1][b] = VSub(VSub(m1, m2), m3);
      }
      Transpose4x4Chunks(t[0][0], t[0][1], t[0][2], t[0][3]);  // now [r][ii], lanes (b, jj)
      Transpose4x4Chunks(t[1][0], t[1][1], t[1][2], t[1][3]);
      const V bv = VSet1(a.bias ? a.bias[ko] : 0.0f);
      float* out = a.output + (bk.n * p.K + ko) * P * Q;
      const float* res = a.residual ? a.residual + (bk.n * p.K + ko) * P * Q : nullptr;
      for (int ii = 0; ii < 4; ++ii) {
        const int64_t oh = bk.oh0 + 2 * ii;
        if (oh >= P) break;
        const V x0 = t[0][ii], x1 = t[1][ii];
        const V s23 = VAdd(_mm512_permutex2var_ps(x0, i2, x1), _mm512_permutex2var_ps(x0, i3, x1));
        V y = VAdd(VFma(s23, sg, _mm512_permutex2var_ps(x0, i1, x1)), bv);
        __m256 lo = _mm512_castps512_ps256(y), hi = _mm512_extractf32x8_ps(y, 1);
        const int64_t off = oh * Q + bk.ow0;
        const bool two = oh + 1 < P;
        if (res) {
          lo = _mm256_add_ps(lo, _mm256_maskz_loadu_ps(bk.out_cols, res + off));
          if (two) hi = _mm256_add_ps(hi, _mm256_maskz_loadu_ps(bk.out_cols, res + off + Q));
        }
        if (relu) {
          lo = _mm256_max_ps(lo, _mm256_setzero_ps());
          hi = _mm256_max_ps(hi, _mm256_setzero_ps());
        }
        _mm256_mask_storeu_ps(out + off, bk.out_cols, lo);
        if (two) _mm256_mask_storeu_ps(out + off + Q, bk.out_cols, hi);
      }
    }
  }
}

Status WgRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  const int64_t th = CeilDiv(p.P(), 2), tw = CeilDiv(p.Q(), 2);
  const int64_t bh = CeilDiv(th, 4), bw = CeilDiv(tw, 4), nb = bh * bw, nall = p.N * nb;
  // Chunks of at most 3 blocks, as even as possible.
  const int64_t n_chunks = CeilDiv(nall, kMaxBlocksPerTask);
  const int64_t Cg = p.Cg(), np = WgPanels(p);
  const int64_t v_floats = 16 * Cg * kMaxBlocksPerTask * VL;
  const int64_t m_floats = np * 16 * 16 * kMaxBlocksPerTask * VL;
  std::atomic<bool> oom{false};
  pool.Run(n_chunks * p.G, [&](int64_t task, int thread) {
    float* scratch = pool.Scratch(thread, v_floats + m_floats);
    if (scratch == nullptr) {
      oom = true;
      return;
    }
    const int64_t grp = task % p.G, chunk = task / p.G;
    const int64_t b0 = chunk * nall / n_chunks, b1 = (chunk + 1) * nall / n_chunks;
    const int64_t nv = b1 - b0;
    Block blocks[kMaxBlocksPerTask];
    for (int64_t v = 0; v < nv; ++v) blocks[v] = MakeBlock(p, bw, nb, b0 + v);
    float* Vb = scratch;
    float* Mb = scratch + v_floats;
    WgInput(p, a.input, grp, blocks, nv, Vb);
    WgGemm(p, a.packed_weights + grp * 16 * np * Cg * 16, Vb, nv, Mb);
    WgOutput(p, a, grp, blocks, nv, Mb);
  });
  if (oom) return Status::OutOfMemory("conv winograd_grouped: out of memory for the per-thread scratch");
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvWinogradGroupedAvx512 = {"winograd_grouped_avx512", 62, Isa::kAvx512, WgUnsupported, WgPackedSize, WgPack,
                                                    WgRun, /*transformed=*/true};
}  // namespace resnext
#pragma GCC pop_options
