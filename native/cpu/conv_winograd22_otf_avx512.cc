// Winograd F(2x2, 3x3) for dense convolutions (groups 1, 14+ channels) and
// grouped ones (14 to 128 channels per group) at small batch, AVX-512, with
// the weights transformed during the run from the raw 3x3 weights instead of
// read pre-transformed: 3x3, stride 1, dilation 1, any padding. A dense 512@7 conv at batch 1 is one block of 8x8
// outputs per image (16 tiles of 2x2: one vector) and does 16 multiplies per (input, output channel) where gemm's
// direct path does 49 x 9 / 16 = 27.6; inside a whole network forward its weights come from memory, and F(2x2)'s packed
// weights (16 positions) are 1.8x the raw taps (9 positions: 9.4 MB at 512
// channels). Here each thread reads only its output panels' raw taps, once
// per chunk of blocks, and transforms them into an L1-sized buffer right
// before the multiplies; while one channel block multiplies, the next one's
// taps are prefetched into L2, spread over the 16 positions' GEMMs, so the
// weight stream overlaps the FMAs. With the weights in cache it only ties
// gemm_avx512 (about half of its FMA bound); from memory (48 copies, batch 1,
// 2 threads) it took 0.73 ms against gemm's 0.95 (docs/network-profile.md
// section 19).
// Registry priority 0: never picked by the cost model. A network times it
// against winograd_avx512's packed F(2x2) inside the whole forward
// (ConvImpl::alternate, `tune`), which is where the traffic it saves shows.
//
// Transform: G = D G' with G' = [1 0 0; 1 1 1; 1 -1 1; 0 0 1] and
// D = diag(1, 1/2, 1/2, 1), so (G g G^T)[a][b] = D[a] D[b] (G' g G'^T)[a][b]:
// the weights get only adds (16 output channels in the lanes), and the exact
// power-of-two scale D[a] D[b] goes once per input channel and block onto the
// transformed input V instead. The input and output transforms and the blocks
// of 8x8 outputs are winograd_grouped_avx512's (winograd_f22_blocks_avx512.inc),
// the multiply micro-kernel too (winograd_grouped_common_avx512.inc).
//
// Layouts (floats):
//   packed:  raw taps [G][ceil(Kg/16) panels][Cg][9 taps][16 output
//            channels], channels past Kg zero (WgPackRawTaps).
//   scratch: V [16 pos][Cg][nv][16] | M [16][16 pos][nv][16] (one panel) |
//            U [16 pos][kCBlock input channels + 1][16] (one panel, one channel
//            block; the extra line keeps the positions out of one L1 set).
// Task = (group, chunk of at most kMaxBlocks blocks, range of output panels): input
// transform of the chunk into V (repeated per range), then per panel and
// block of kCBlock input channels: transform its weights into U, 16 GEMMs
// M[pos] += U[pos] V[pos] (16 x 1, or 8 x nv register blocks), and after the
// last channel block the output transform with the epilogue.
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"
#include "winograd_otf.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_shuffle_f32x4 reads an uninitialized vector: its
// inline body starts from _mm512_undefined_ps(), which is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace resnext {
namespace {

#include "vec_avx512.inc"
#include "winograd_grouped_common_avx512.inc"
#include "winograd_f22_blocks_avx512.inc"

constexpr int kPos22 = 16;
// Input channels per weight transform: U is 16 x 33 x 16 floats (33 KiB, L1).
// 512@7, batch 1, 2 threads, weights from memory (48 copies), gemm_avx512's
// time over this kernel's: 16 channels 1.29, 32 1.21-1.30, 64 1.12-1.13, 128
// 1.12-1.16 (a shared machine, 7 rounds each).
constexpr int64_t kCBlock = 32;
// V of one chunk stays under this many bytes (2 MiB L2 per core): at 512
// channels two blocks (batch 2 at 7x7) share each weight transform.
constexpr int64_t kVBytes = 1280 * 1024;
constexpr int64_t kMaxBlocks = 3;
// Raw taps prefetched into L1 this many input channels ahead (9 lines each).
constexpr int64_t kTapPrefetch = 4;

int64_t MaxBlocks(const ConvParams& p) {
  const int64_t n = kVBytes / (p.Cg() * kPos22 * VL * int64_t{sizeof(float)});
  return n < 1 ? 1 : n > kMaxBlocks ? kMaxBlocks : n;
}

// o = G' (x0, x1, x2): G' = [1 0 0; 1 1 1; 1 -1 1; 0 0 1].
inline void Gp3(V x0, V x1, V x2, V o[4]) {
  const V s = VAdd(x0, x2);
  o[0] = x0;
  o[1] = VAdd(s, x1);
  o[2] = VSub(s, x1);
  o[3] = x2;
}

// U[pos][c][16] = G' g G'^T of input channels [c0, c0 + nc) of one panel's raw
// taps; the L1 prefetch runs on into the next panel's taps, up to `end`.
void TransformWeights(const float* taps, int64_t c0, int64_t nc, const float* end, float* U) {
  for (int64_t c = 0; c < nc; ++c) {
    const float* g = taps + (c0 + c) * 9 * 16;
    if (end - g > kTapPrefetch * 9 * 16) {
      const char* next = reinterpret_cast<const char*>(g + kTapPrefetch * 9 * 16);
      for (int j = 0; j < 9; ++j) _mm_prefetch(next + j * 64, _MM_HINT_T0);
    }
    V t[4][3];  // [a][s] = (G' g)[a][s]
    for (int s = 0; s < 3; ++s) {
      V o[4];
      Gp3(VLoad(g + s * 16), VLoad(g + (3 + s) * 16), VLoad(g + (6 + s) * 16), o);
      for (int a = 0; a < 4; ++a) t[a][s] = o[a];
    }
    for (int a = 0; a < 4; ++a) {
      V o[4];
      Gp3(t[a][0], t[a][1], t[a][2], o);
      for (int b = 0; b < 4; ++b) VStore(U + (a * 4 + b) * ULd(nc) + c * 16, o[b]);
    }
  }
}

// V[pos][c][v] *= D[a] D[b] (pos = 4 a + b) for the chunk's nv blocks.
void ScaleInput(int64_t C, int64_t nv, float* Vb) {
  static const float kD[4] = {1.0f, 0.5f, 0.5f, 1.0f};
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      if (kD[a] * kD[b] == 1.0f) continue;
      const V d = VSet1(kD[a] * kD[b]);
      float* x = Vb + (a * 4 + b) * C * nv * VL;
      for (int64_t i = 0; i < C * nv; ++i) VStore(x + i * VL, _mm512_mul_ps(VLoad(x + i * VL), d));
    }
  }
}

// WgMicro<16, 1> (one block, 16 output channels) that also prefetches the
// first `pf_lines` lines from `pf` into L2, one per input channel: spread
// over the FMAs, the weight stream's misses do not pile up in the fill
// buffers as a burst of prefetches does.
template <bool ACC>
void Micro16x1Pf(int64_t nc, const float* __restrict U, const float* __restrict Vp, int64_t ldv, float* __restrict M,
                 int64_t ldm, const char* pf, int64_t pf_lines) {
  V acc[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) acc[i] = ACC ? VLoad(M + i * ldm) : VZero();
  for (int64_t c = 0; c < nc; ++c) {
    if (c < pf_lines) _mm_prefetch(pf + c * 64, _MM_HINT_T1);
    const V b = VLoad(Vp + c * ldv);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = VFma(_mm512_set1_ps(U[c * 16 + i]), b, acc[i]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) VStore(M + i * ldm, acc[i]);
}

// M[pos] (+)= U[pos] V[pos] over nc input channels for the chunk's nv blocks,
// in register blocks of at most 3 blocks. ACC: add to what M holds. Each
// position's GEMM prefetches 1/16 of the lines [pf, pf_end) into L2 (the next
// channel block's raw taps: 18 KiB at 32 channels), so that stream runs under
// the FMAs instead of between them: one line per input channel inside the
// micro-kernel for one block (batch 1 at 7x7), before the GEMM for more.
// 512@7, batch 1, 2 threads, 24 copies: 1.78 ms with it, 2.14 without.
// Vc: V at the block's first input channel (position 0); V's positions are
// ld_pos floats apart.
template <bool ACC>
void PanelGemm(int64_t nc, const float* U, const float* Vc, int64_t ld_pos, int64_t nv, float* M, const char* pf,
               const char* pf_end) {
  const int64_t ld = nv * VL;            // between input channels in V, and positions in M
  const int64_t ldm = kPos22 * nv * VL;  // between output channels in M
  const int64_t lines = pf < pf_end ? (pf_end - pf) / 64 : 0;
  for (int pos = 0; pos < kPos22; ++pos) {
    const int64_t l0 = pos * lines / kPos22, l1 = (pos + 1) * lines / kPos22;
    const float* Up = U + pos * ULd(nc);
    if (nv == 1) {
      Micro16x1Pf<ACC>(nc, Up, Vc + pos * ld_pos, ld, M + pos * ld, ldm, pf + l0 * 64, l1 - l0);
      continue;
    }
    for (int64_t l = l0; l < l1; ++l) _mm_prefetch(pf + l * 64, _MM_HINT_T1);
    for (int64_t v0 = 0; v0 < nv; v0 += 3) {
      const int64_t n = nv - v0 < 3 ? nv - v0 : 3;
      const float* Vp = Vc + pos * ld_pos + v0 * VL;
      float* Mp = M + pos * ld + v0 * VL;
      WgPanel<false, ACC>(nc, Up, Vp, ld, VL, Mp, ldm, n);
    }
  }
}

Status Otf22Run(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  const int64_t Cg = p.Cg(), Kg = p.Kg(), np = WgPanels(p);
  const int64_t bw = CeilDiv(p.Q(), 8), nb = CeilDiv(p.P(), 8) * bw, nall = p.N * nb;
  const int64_t max_nv = MaxBlocks(p), n_chunks = CeilDiv(nall, max_nv);
  // One range of output panels per thread and (group, chunk) (each range
  // repeats the chunk's input transform), as in winograd43_otf_avx512.
  const int64_t want = CeilDiv(int64_t{pool.NumThreads()}, p.G * n_chunks);
  const int64_t nsplit = want < np ? want : np;
  const int64_t v_floats = Cg * max_nv * kPos22 * VL, m_floats = 16 * max_nv * kPos22 * VL;
  const int64_t u_floats = kPos22 * ULd(kCBlock);
  const int64_t group_taps = np * Cg * 9 * 16;
  const float* taps_end = a.packed_weights + p.G * group_taps;
  std::atomic<bool> oom{false};
  pool.Run(p.G * n_chunks * nsplit, [&](int64_t task, int thread) {
    float* scratch = pool.Scratch(thread, v_floats + m_floats + u_floats);
    if (scratch == nullptr) {
      oom = true;
      return;
    }
    // Tasks: group-major, then chunk, then panel range (WgTaskOf).
    const WgTask t = WgTaskOf(task, nsplit, n_chunks, nall, np);
    const int64_t grp = t.rest / n_chunks, b0 = t.b0, nv = t.nv, pan0 = t.pan0, pan1 = t.pan1;
    Block blocks[kMaxBlocks];
    for (int64_t v = 0; v < nv; ++v) blocks[v] = MakeBlock(p, bw, nb, b0 + v);
    float* Vb = scratch;
    float* Mb = scratch + v_floats;
    float* U = Mb + m_floats;
    const int64_t ld_pos = Cg * nv * VL;  // V [16 pos][Cg][nv][16]
    F22Input(p, a.input, grp, blocks, nv, Vb, ld_pos, VL);
    ScaleInput(Cg, nv, Vb);
    const float* group_base = a.packed_weights + grp * group_taps;
    // This range's taps are contiguous: [pan0, pan1) panels of Cg x 9 x 16.
    const char* range_end = reinterpret_cast<const char*>(group_base + pan1 * Cg * 9 * 16);
    for (int64_t pan = pan0; pan < pan1; ++pan) {
      const float* taps = group_base + pan * Cg * 9 * 16;
      for (int64_t c0 = 0; c0 < Cg; c0 += kCBlock) {
        const int64_t nc = Cg - c0 < kCBlock ? Cg - c0 : kCBlock;
        TransformWeights(taps, c0, nc, taps_end, U);
        const char* pf = reinterpret_cast<const char*>(taps + (c0 + nc) * 9 * 16);
        const char* pf_end = pf + kCBlock * 9 * 64 < range_end ? pf + kCBlock * 9 * 64 : range_end;
        const float* Vc = Vb + c0 * nv * VL;
        if (c0 == 0) {
          PanelGemm<false>(nc, U, Vc, ld_pos, nv, Mb, pf, pf_end);
        } else {
          PanelGemm<true>(nc, U, Vc, ld_pos, nv, Mb, pf, pf_end);
        }
      }
      const int64_t k0 = pan * 16, k1 = k0 + 16 < Kg ? k0 + 16 : Kg;
      F22Output(p, a, grp, blocks, nv, Mb, k0, k1, nv * VL, VL);  // M [16 k][16 pos][nv][16]
    }
  });
  if (oom) return Status::OutOfMemory("conv winograd22_otf_avx512: out of memory for the per-thread scratch");
  return Status::Ok();
}

}  // namespace

// Also the F(2x2) half of winograd43_otf_avx512 (same raw taps), which hands it outputs of at most 8x8.
Status WinogradOtf22Run(const ConvRunArgs& a, ThreadPool& pool) { return Otf22Run(a, pool); }

// Never the registry's pick (priority 0): forced by name, or a network's rival to winograd_avx512.
extern const ConvImpl kConvWinograd22OtfAvx512 = {
    "winograd22_otf_avx512", 0, Isa::kAvx512, WgOtfUnsupported, WgRawTapsSize, WgPackRawTaps, Otf22Run,
    /*transformed=*/true,
};
}  // namespace resnext
#pragma GCC pop_options
