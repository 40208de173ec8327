// Winograd F(4x4, 3x3) for dense convolutions (groups 1, 14 to 256 channels)
// and grouped ones (14 to 128 channels per group) at small batch, AVX-512,
// with the weights transformed during the run from the raw 3x3 weights
// instead of read pre-transformed: 3x3, stride 1, dilation 1, any padding. At batch 1 a dense 256@14 conv is one block
// of 16x16 outputs and its run is bound by reading the weights: 36 transformed positions per filter (9.4 MB at 256
// channels, from memory inside a whole network forward, where every layer's weights evict the others') against 9 raw
// taps (2.4 MB). Here each thread reads only its output panels' raw taps and transforms them into an L1/L2-sized buffer
// right before the multiplies, so every weight is read and transformed exactly once per run (when the batch's blocks
// fit one chunk: at 256 channels, batches 1 and 2 at 14x14). ResNeXt-50's grouped layer3 3x3s (512@14, 32 groups of 16)
// likewise read 288 KiB of raw taps instead of 1.1 MiB of F(4x4) weights. Registry priority 0: never picked by the cost
// model. A network times it against winograd_grouped_avx512's packed F(4x4) inside the whole forward
// (ConvImpl::alternate, `tune`), which is where the traffic it saves shows.
//
// Transform: G = D G' with G' = [1 0 0; 1 1 1; 1 -1 1; 1 2 4; 1 -2 4; 0 0 1]
// and D = diag(1/4, -1/6, -1/6, 1/24, 1/24, 1), so (G g G^T)[a][b] =
// D[a] D[b] (G' g G'^T)[a][b]: the weights get only adds and doublings (16
// output channels in the lanes), and the scale D[a] D[b] goes once per input
// channel and block onto the transformed input V instead of onto every panel's
// weights. The input and output transforms, the blocks of 16x16 outputs and
// the multiply micro-kernel are the grouped F(4x4) kernel's
// (winograd_f43_blocks_avx512.inc, winograd_grouped_common_avx512.inc).
//
// Layouts (floats):
//   packed:  raw taps [G][ceil(Kg/16) panels][Cg][9 taps][16 output
//            channels], channels past Kg zero.
//   scratch: V [Cg][nv][36 pos][16] | M [16][nv][36 pos][16] (one panel) |
//            U [36 pos][kCBlock input channels + 1][16] (one panel, one channel
//            block; the extra line keeps the positions out of one L1 set).
// Task = (group, chunk of at most MaxBlocks blocks, range of output panels): input
// transform of the chunk into V (repeated per range), then per panel and
// block of kCBlock input channels: transform its weights into U, 36 GEMMs
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
#include "winograd_f43_blocks_avx512.inc"

constexpr int64_t kMaxChannels = 256;
// Input channels per weight transform: U is 36 x 65 x 16 floats (146 KiB, L2),
// and M's accumulators are reloaded once per 64 channels (256@14, batch 1, 2
// threads, weights in L2: 16 channels 0.347 ms, 32 0.326, 64 0.314, 128 0.312).
constexpr int64_t kCBlock = 64;
// V of one chunk stays under this many bytes (2 MiB L2 per core), so that at
// 256 channels two blocks (batch 2 at 14x14) share each weight transform.
constexpr int64_t kVBytes = 1280 * 1024;
constexpr int64_t kMaxBlocks = 6;
// Raw taps prefetched this many input channels ahead (9 lines each).
constexpr int64_t kTapPrefetch = 4;

const char* OtfUnsupported(const ConvParams& p) {
  if (const char* why = WgOtfUnsupported(p)) return why;
  // F(4x4)'s rounding error grows with the channels summed (as in winograd_grouped_avx512).
  if (p.G == 1 && (p.C > kMaxChannels || p.K > kMaxChannels)) return "needs at most 256 input and output channels";
  return nullptr;
}

int64_t MaxBlocks(const ConvParams& p) {
  const int64_t n = kVBytes / (p.Cg() * kPos * VL * int64_t{sizeof(float)});
  return n < 1 ? 1 : n > kMaxBlocks ? kMaxBlocks : n;
}

// o = G' (x0, x1, x2): G' = [1 0 0; 1 1 1; 1 -1 1; 1 2 4; 1 -2 4; 0 0 1].
inline void Gp3(V x0, V x1, V x2, V o[6]) {
  const V s = VAdd(x0, x2), a = VFma(VSet1(4.0f), x2, x0), b = VAdd(x1, x1);
  o[0] = x0;
  o[1] = VAdd(s, x1);
  o[2] = VSub(s, x1);
  o[3] = VAdd(a, b);
  o[4] = VSub(a, b);
  o[5] = x2;
}

// U[pos][c][16] = G' g G'^T of input channels [c0, c0 + nc) of one panel's raw
// taps; the prefetch runs on into the next panel's taps, up to `end`.
void TransformWeights(const float* taps, int64_t c0, int64_t nc, const float* end, float* U) {
  for (int64_t c = 0; c < nc; ++c) {
    const float* g = taps + (c0 + c) * 9 * 16;
    if (end - g > kTapPrefetch * 9 * 16) {
      const char* next = reinterpret_cast<const char*>(g + kTapPrefetch * 9 * 16);
      for (int j = 0; j < 9; ++j) _mm_prefetch(next + j * 64, _MM_HINT_T0);
    }
    V t[6][3];  // [a][s] = (G' g)[a][s]
    for (int s = 0; s < 3; ++s) {
      V o[6];
      Gp3(VLoad(g + s * 16), VLoad(g + (3 + s) * 16), VLoad(g + (6 + s) * 16), o);
      for (int a = 0; a < 6; ++a) t[a][s] = o[a];
    }
    for (int a = 0; a < 6; ++a) {
      V o[6];
      Gp3(t[a][0], t[a][1], t[a][2], o);
      for (int b = 0; b < 6; ++b) VStore(U + (a * 6 + b) * ULd(nc) + c * 16, o[b]);
    }
  }
}

// V[c][v][pos] *= D[a] D[b] (pos = 6 a + b) for the chunk's nv blocks.
void ScaleInput(int64_t C, int64_t nv, float* Vb) {
  static const float kD[6] = {1.0f / 4, -1.0f / 6, -1.0f / 6, 1.0f / 24, 1.0f / 24, 1.0f};
  V d[kPos];
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 6; ++b) d[a * 6 + b] = VSet1(kD[a] * kD[b]);
  for (int64_t i = 0; i < C * nv; ++i) {
    float* x = Vb + i * kPos * VL;
    for (int pos = 0; pos < kPos; ++pos) VStore(x + pos * VL, _mm512_mul_ps(VLoad(x + pos * VL), d[pos]));
  }
}

// M[pos] (+)= U[pos] V[pos] over nc input channels for the chunk's nv blocks,
// in register blocks of at most 3 blocks. ACC: add to what M holds.
template <bool ACC>
void PanelGemm(int64_t nc, const float* U, const float* Vc, int64_t nv, float* M) {
  const int64_t ldb = kPos * VL, ld = nv * ldb;  // between input channels in V, output channels in M
  for (int pos = 0; pos < kPos; ++pos) {
    const float* Up = U + pos * ULd(nc);
    for (int64_t v0 = 0; v0 < nv; v0 += 3) {
      const int64_t n = nv - v0 < 3 ? nv - v0 : 3;
      const float* Vp = Vc + v0 * ldb + pos * VL;
      float* Mp = M + v0 * ldb + pos * VL;
      WgPanel<false, ACC>(nc, Up, Vp, ld, ldb, Mp, ld, n);
    }
  }
}

Status OtfRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  // Outputs of at most 8x8: one 16x16 block fills 4 of its 16 tiles, so the
  // same raw taps go through F(2x2)'s 8x8 blocks instead (ResNeXt-50's layer4
  // at batch 1: 0.19 ms per-run F(4x4) against 0.10 for the packed F(2x2),
  // weights warm; docs/network-profile.md section 28).
  if (!WgPrefersF43(p)) return WinogradOtf22Run(a, pool);
  const int64_t Cg = p.Cg(), Kg = p.Kg(), np = WgPanels(p);
  const int64_t bw = CeilDiv(p.Q(), 16), nb = CeilDiv(p.P(), 16) * bw, nall = p.N * nb;
  const int64_t max_nv = MaxBlocks(p), n_chunks = CeilDiv(nall, max_nv);
  // One range of output panels per thread and (group, chunk) (each range
  // repeats the chunk's input transform; 256@14 at batch 1 and 2, 2 threads,
  // weights from memory: 1.53x and 1.52x the packed F(4x4) against 1.38x and
  // 1.37x with two ranges per thread). Grouped convs have a task per group
  // and chunk, so their panels are split only when those are fewer than the threads.
  const int64_t want = CeilDiv(int64_t{pool.NumThreads()}, p.G * n_chunks);
  const int64_t nsplit = want < np ? want : np;
  const int64_t v_floats = Cg * max_nv * kPos * VL, m_floats = 16 * max_nv * kPos * VL;
  const int64_t u_floats = kPos * ULd(kCBlock);
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
    F43Input(p, a.input, grp, blocks, nv, Vb);
    ScaleInput(Cg, nv, Vb);
    for (int64_t pan = pan0; pan < pan1; ++pan) {
      const float* taps = a.packed_weights + grp * group_taps + pan * Cg * 9 * 16;
      for (int64_t c0 = 0; c0 < Cg; c0 += kCBlock) {
        const int64_t nc = Cg - c0 < kCBlock ? Cg - c0 : kCBlock;
        TransformWeights(taps, c0, nc, taps_end, U);
        const float* Vc = Vb + c0 * nv * kPos * VL;
        if (c0 == 0) {
          PanelGemm<false>(nc, U, Vc, nv, Mb);
        } else {
          PanelGemm<true>(nc, U, Vc, nv, Mb);
        }
      }
      const int64_t k0 = pan * 16, k1 = k0 + 16 < Kg ? k0 + 16 : Kg;
      F43OutputRows(p, a, grp, blocks, nv, Mb, k0, k1);
    }
  });
  if (oom) return Status::OutOfMemory("conv winograd43_otf_avx512: out of memory for the per-thread scratch");
  return Status::Ok();
}

}  // namespace

// Never the registry's pick (priority 0): forced by name, or a network's rival to winograd_grouped_avx512.
extern const ConvImpl kConvWinograd43OtfAvx512 = {
    "winograd43_otf_avx512",
    0,
    Isa::kAvx512,
    OtfUnsupported,
    WgRawTapsSize,
    WgPackRawTaps,
    OtfRun,
    /*transformed=*/true,
    /*per_run=*/"F(4x4,3x3) tiles; F(2x2,3x3) on outputs of at most 8 rows or columns (the same raw weights)",
};
}  // namespace resnext
#pragma GCC pop_options
