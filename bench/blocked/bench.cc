// Micro-benchmark of the blocked channel layout (built and run by
// bench/blocked/run.js). In one process, interleaved (A then B, order swapped
// every repetition), for ResNeXt-50 32x4d at batch N:
//   1x1   every distinct 1x1 layer: the NCHW plan's kernel (what the registry
//         picks: gemm) vs the NCHW16c/NCHW8c blocked 1x1 kernel, both with
//         bias and ReLU (and the residual where the network adds one);
//   chain one bottleneck per stage (conv1 1x1 -> conv2 grouped 3x3 -> conv3
//         1x1 + residual, ReLU after each): NCHW plans (registry choice,
//         Winograd included) vs the blocked kernels end to end, no conversion
//         between the convs (the network would convert once at its input);
//   stage the same with conversions NCHW -> blocked before conv1 and back
//         after conv3 (an upper bound on what a per-block conversion costs);
//   body  every conv of the network but the stem (16 bottlenecks and their
//         downsamples) in order: NCHW plans vs blocked kernels converting only
//         at the body's input and output; and a hybrid that runs the grouped
//         3x3s the NCHW registry does by Winograd in NCHW between conversions.
// With a fifth argument `dense3x3`, only ResNet-50's dense 3x3 layers (bias
// and ReLU): the NCHW plan's kernel (Winograd or gemm) vs the blocked kernel
// FindBlockedConv picks (Winograd for stride 1 unless C*K >= 2^18, else
// direct).
// A sample is the mean time of enough back-to-back runs to last ~2 ms;
// output: one JSON object with per-case medians and minima over samples, the
// median over samples of the NCHW/blocked ratio of adjacent samples, and the
// blocked result's error against the NCHW one (for 1x1 + residual layers also
// the blocked kernel run in place, output aliasing the residual, against the
// same kernel run out of place).
//
// Usage: bench <N> <threads> <samples> <isa: avx512|avx2|scalar> [dense3x3]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "resnext/conv_blocked.h"
#include "resnext/conv_plan.h"
#include "resnext/thread_pool.h"
#include "../common/bench_util.h"

using namespace resnext;

namespace {

using bench::NowMs;
using bench::Random;

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.message.c_str());
    std::exit(1);
  }
}

struct Conv {
  ConvParams p;
  std::vector<float> w, b;
  std::unique_ptr<ConvPlan> plan;  // NCHW, registry choice
  const BlockedConv* blk = nullptr;
  std::vector<float> packed;
};

Conv MakeConv(int64_t C, int64_t K, int64_t R, int64_t G, int64_t stride, bool relu, Isa isa, uint32_t seed) {
  Conv c;
  c.p.C = C;
  c.p.K = K;
  c.p.R = c.p.S = R;
  c.p.G = G;
  c.p.stride_h = c.p.stride_w = stride;
  c.p.pad_top = c.p.pad_left = c.p.pad_bottom = c.p.pad_right = R / 2;
  c.p.activation = relu ? Activation::kRelu : Activation::kNone;
  c.w = Random(K * (C / G) * R * R, seed, std::sqrt(3.0f / static_cast<float>((C / G) * R * R)));
  c.b = Random(K, seed + 1, 0.1f);
  ConvPlanOptions o;
  o.has_isa = true;
  o.isa = isa;
  Check(ConvPlan::Create(c.p, c.w.data(), c.b.data(), o, &c.plan), "plan");
  c.blk = FindBlockedConv(c.p, isa);
  if (!c.blk) {
    std::fprintf(stderr, "no blocked kernel for C=%lld K=%lld R=%lld G=%lld\n", (long long)C, (long long)K, (long long)R,
                 (long long)G);
    std::exit(1);
  }
  c.packed.resize(static_cast<size_t>(c.blk->packed_size(c.p)));
  c.blk->pack(c.p, c.w.data(), c.packed.data());
  return c;
}

Status RunBlocked(const Conv& c, int64_t N, int64_t H, int64_t W, const float* in, const float* res, float* out,
                  ThreadPool& pool) {
  ConvParams p = c.p;
  p.N = N;
  p.H = H;
  p.W = W;
  ConvRunArgs a{&p, in, c.packed.data(), c.b.data(), res, out};
  return c.blk->run(a, pool);
}

struct Result {
  std::string kind, name;
  double macs;
  std::vector<double> a, b;  // per-sample ms: NCHW, blocked
  double err;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs fn until ~2 ms have passed (at least once); returns per-run ms.
double Sample(const std::function<void()>& fn, int iters) {
  const double t0 = NowMs();
  for (int i = 0; i < iters; ++i) fn();
  return (NowMs() - t0) / iters;
}

int ItersFor(const std::function<void()>& fn) {
  fn();
  const double t = Sample(fn, 1);
  return std::max(1, static_cast<int>(2.0 / std::max(t, 1e-3)));
}

double RelErr(const std::vector<float>& y, const std::vector<float>& ref) {
  double m = 0, r = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    m = std::max(m, static_cast<double>(std::fabs(y[i] - ref[i])));
    r = std::max(r, static_cast<double>(std::fabs(ref[i])));
  }
  return r > 0 ? m / r : m;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t N = argc > 1 ? std::atoll(argv[1]) : 1;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int samples = argc > 3 ? std::atoi(argv[3]) : 15;
  Isa isa = Isa::kAvx512;
  if (argc > 4 && !ParseIsa(argv[4], &isa)) return 2;
  const bool dense_only = argc > 5 && std::string(argv[5]) == "dense3x3";
  if (isa > GetCpuFeatures().best) isa = GetCpuFeatures().best;
  ThreadPool pool(threads);

  // ResNeXt-50 32x4d: per stage (width, out, H of the block input).
  struct Stage {
    int64_t width, out, in, H;
  };
  const Stage stages[] = {{128, 256, 64, 56}, {256, 512, 256, 56}, {512, 1024, 512, 28}, {1024, 2048, 1024, 14}};

  std::vector<Result> results;
  std::vector<std::function<void(bool)>> timers;  // (blocked?) -> one timed sample into results
  // Case idx: NCHW fa (ia runs per sample) vs blocked fb (ib runs per sample).
  auto addTimer = [&](size_t idx, std::function<void()> fa, int ia, std::function<void()> fb, int ib) {
    timers.push_back([=, &results](bool blocked) {
      if (blocked)
        results[idx].b.push_back(Sample(fb, ib));
      else
        results[idx].a.push_back(Sample(fa, ia));
    });
  };

  // 1x1 layers: (C, K, H, stride, residual), as in the network.
  struct L1 {
    int64_t C, K, H, stride;
    bool res, relu;
  };
  std::vector<L1> ones;
  for (int s = 0; s < (dense_only ? 0 : 4); ++s) {
    const Stage& st = stages[s];
    const int64_t Hs = s == 0 ? st.H : st.H / 2;  // output size of the stage
    ones.push_back({st.in, st.width, st.H, 1, false, true});       // first block's conv1
    ones.push_back({st.out, st.width, Hs, 1, false, true});        // later blocks' conv1
    ones.push_back({st.width, st.out, Hs, 1, true, true});         // conv3 + residual
    ones.push_back({st.in, st.out, st.H, s == 0 ? 1 : 2, false, false});  // downsample
  }

  std::vector<std::unique_ptr<Conv>> convs;
  std::vector<std::vector<float>> bufs;
  auto buf = [&](int64_t n, uint32_t seed) -> float* {
    bufs.push_back(Random(n, seed, 1.0f));
    return bufs.back().data();
  };
  const int CB = FindBlockedConv(MakeConv(16, 16, 1, 1, 1, false, isa, 1).p, isa)->cb;

  uint32_t seed = 10;
  // ResNet-50's dense 3x3s (torchvision v1.5: stride 2 in the 3x3 of each
  // stage's first block): (C = K, H of the input, stride).
  struct L3 {
    int64_t C, H, stride;
  };
  const L3 dense[] = {{64, 56, 1}, {128, 56, 2}, {128, 28, 1}, {256, 28, 2}, {256, 14, 1}, {512, 14, 2}, {512, 7, 1}};
  for (const L3& l : dense) {
    if (!dense_only) break;
    convs.push_back(std::make_unique<Conv>(MakeConv(l.C, l.C, 3, 1, l.stride, true, isa, seed++)));
    Conv* c = convs.back().get();
    const int64_t P = (l.H - 1) / l.stride + 1;
    const int64_t in_n = N * l.C * l.H * l.H, out_n = N * l.C * P * P;
    float* x = buf(in_n, seed++);
    float* y = buf(out_n, 0);
    float* xb = buf(BlockedFloats(N, l.C, l.H * l.H, CB), 0);
    float* yb = buf(BlockedFloats(N, l.C, P * P, CB), 0);
    ToBlocked(x, xb, N, l.C, l.H * l.H, CB, pool);
    Check(c->plan->Run(N, l.H, l.H, x, nullptr, y, pool), "run");
    Check(RunBlocked(*c, N, l.H, l.H, xb, nullptr, yb, pool), "blocked");
    std::vector<float> back(static_cast<size_t>(out_n)), ref(y, y + out_n);
    FromBlocked(yb, back.data(), N, l.C, P * P, CB, pool);
    char name[96];
    std::snprintf(name, sizeof name, "%lld@%lld%s (%s vs %s)", (long long)l.C, (long long)l.H, l.stride == 2 ? " s2" : "",
                  c->plan->impl().name, c->blk->name);
    results.push_back({"3x3", name, static_cast<double>(N * l.C * P * P * l.C * 9), {}, {}, RelErr(back, ref)});
    const size_t idx = results.size() - 1;
    std::function<void()> fa = [=, &pool] { c->plan->Run(N, l.H, l.H, x, nullptr, y, pool); };
    std::function<void()> fb = [=, &pool] { RunBlocked(*c, N, l.H, l.H, xb, nullptr, yb, pool); };
    addTimer(idx, fa, ItersFor(fa), fb, ItersFor(fb));
  }
  for (const L1& l : ones) {
    convs.push_back(std::make_unique<Conv>(MakeConv(l.C, l.K, 1, 1, l.stride, l.relu, isa, seed++)));
    Conv* c = convs.back().get();
    const int64_t P = (l.H - 1) / l.stride + 1;
    const int64_t in_n = N * l.C * l.H * l.H, out_n = N * l.K * P * P;
    float* x = buf(in_n, seed++);
    float* r = l.res ? buf(out_n, seed++) : nullptr;
    float* y = buf(out_n, 0);
    float* xb = buf(BlockedFloats(N, l.C, l.H * l.H, CB), 0);
    float* rb = l.res ? buf(BlockedFloats(N, l.K, P * P, CB), 0) : nullptr;
    float* yb = buf(BlockedFloats(N, l.K, P * P, CB), 0);
    ToBlocked(x, xb, N, l.C, l.H * l.H, CB, pool);
    if (r) ToBlocked(r, rb, N, l.K, P * P, CB, pool);
    // Agreement: blocked result converted back vs the NCHW plan's.
    Check(c->plan->Run(N, l.H, l.H, x, r, y, pool), "run");
    Check(RunBlocked(*c, N, l.H, l.H, xb, rb, yb, pool), "blocked");
    std::vector<float> back(static_cast<size_t>(out_n)), ref(y, y + out_n);
    FromBlocked(yb, back.data(), N, l.K, P * P, CB, pool);
    char name[96];
    std::snprintf(name, sizeof name, "%lld->%lld @%lld%s%s", (long long)l.C, (long long)l.K, (long long)l.H,
                  l.stride == 2 ? " s2" : "", l.res ? " +res" : "");
    double err = RelErr(back, ref);
    if (rb) {  // in place: the output aliasing the residual gives the same result
      const int64_t nb = BlockedFloats(N, l.K, P * P, CB);
      std::vector<float> inplace(rb, rb + nb), separate(yb, yb + nb);
      Check(RunBlocked(*c, N, l.H, l.H, xb, inplace.data(), inplace.data(), pool), "blocked in place");
      err = std::max(err, RelErr(inplace, separate));
    }
    results.push_back({"1x1", name, static_cast<double>(N * l.K * P * P * l.C), {}, {}, err});
    const size_t idx = results.size() - 1;
    std::function<void()> fa = [=, &pool] { c->plan->Run(N, l.H, l.H, x, r, y, pool); };
    std::function<void()> fb = [=, &pool] { RunBlocked(*c, N, l.H, l.H, xb, rb, yb, pool); };
    const int ia = ItersFor(fa), ib = ItersFor(fb);
    addTimer(idx, fa, ia, fb, ib);
  }

  // Bottleneck chains, one non-downsampling block per stage.
  for (int s = 0; s < (dense_only ? 0 : 4); ++s) {
    const Stage& st = stages[s];
    const int64_t H = s == 0 ? st.H : st.H / 2, HW = H * H, Wd = st.width, O = st.out;
    convs.push_back(std::make_unique<Conv>(MakeConv(O, Wd, 1, 1, 1, true, isa, seed++)));
    Conv* c1 = convs.back().get();
    convs.push_back(std::make_unique<Conv>(MakeConv(Wd, Wd, 3, 32, 1, true, isa, seed++)));
    Conv* c2 = convs.back().get();
    convs.push_back(std::make_unique<Conv>(MakeConv(Wd, O, 1, 1, 1, true, isa, seed++)));
    Conv* c3 = convs.back().get();
    float* x = buf(N * O * HW, seed++);
    float* t1 = buf(N * Wd * HW, 0);
    float* t2 = buf(N * Wd * HW, 0);
    float* y = buf(N * O * HW, 0);
    float* xb = buf(BlockedFloats(N, O, HW, CB), 0);
    float* t1b = buf(BlockedFloats(N, Wd, HW, CB), 0);
    float* t2b = buf(BlockedFloats(N, Wd, HW, CB), 0);
    float* yb = buf(BlockedFloats(N, O, HW, CB), 0);
    float* yo = buf(N * O * HW, 0);
    ToBlocked(x, xb, N, O, HW, CB, pool);
    std::function<void()> fa = [=, &pool] {
      c1->plan->Run(N, H, H, x, nullptr, t1, pool);
      c2->plan->Run(N, H, H, t1, nullptr, t2, pool);
      c3->plan->Run(N, H, H, t2, x, y, pool);
    };
    std::function<void()> fb = [=, &pool] {
      RunBlocked(*c1, N, H, H, xb, nullptr, t1b, pool);
      RunBlocked(*c2, N, H, H, t1b, nullptr, t2b, pool);
      RunBlocked(*c3, N, H, H, t2b, xb, yb, pool);
    };
    std::function<void()> fc = [=, &pool] {
      ToBlocked(x, xb, N, O, HW, CB, pool);
      fb();
      FromBlocked(yb, yo, N, O, HW, CB, pool);
    };
    fa();
    fc();
    std::vector<float> ref(y, y + N * O * HW), got(yo, yo + N * O * HW);
    const double err = RelErr(got, ref);
    const double macs = static_cast<double>(N * HW * (O * Wd * 2 + Wd * (Wd / 32) * 9));
    char name[96];
    std::snprintf(name, sizeof name, "%lld->%lld->%lld @%lld (g32 3x3 %s, %s)", (long long)O, (long long)Wd, (long long)O,
                  (long long)H, c2->plan->impl().name, c2->blk->name);
    results.push_back({"chain", name, macs, {}, {}, err});
    const size_t ic = results.size() - 1;
    results.push_back({"stage", name, macs, {}, {}, err});
    const size_t is = results.size() - 1;
    const int ia = ItersFor(fa), ib = ItersFor(fb), ic2 = ItersFor(fc);
    addTimer(ic, fa, ia, fb, ib);
    addTimer(is, fa, ia, fc, ic2);
  }

  // The whole body of ResNeXt-50 (16 bottlenecks, 4 downsamples: every conv
  // but the stem), block after block on shared buffers, in each layout; the
  // blocked one converts once at its input and once at its output.
  if (!dense_only) {
    const int nblocks[] = {3, 4, 6, 3};
    struct Block {
      Conv *c1, *c2, *c3, *ds;
      int64_t H, Ho;
    };
    std::vector<Block> body;
    double macs = 0;
    for (int s = 0; s < 4; ++s) {
      const Stage& st = stages[s];
      for (int b = 0; b < nblocks[s]; ++b) {
        const int64_t cin = b == 0 ? st.in : st.out, H = b == 0 ? st.H : (s == 0 ? st.H : st.H / 2);
        const int64_t stride = (b == 0 && s > 0) ? 2 : 1, Ho = H / stride;
        Block k;
        k.H = H;
        k.Ho = Ho;
        convs.push_back(std::make_unique<Conv>(MakeConv(cin, st.width, 1, 1, 1, true, isa, seed++)));
        k.c1 = convs.back().get();
        convs.push_back(std::make_unique<Conv>(MakeConv(st.width, st.width, 3, 32, stride, true, isa, seed++)));
        k.c2 = convs.back().get();
        convs.push_back(std::make_unique<Conv>(MakeConv(st.width, st.out, 1, 1, 1, true, isa, seed++)));
        k.c3 = convs.back().get();
        k.ds = nullptr;
        if (b == 0) {
          convs.push_back(std::make_unique<Conv>(MakeConv(cin, st.out, 1, 1, stride, false, isa, seed++)));
          k.ds = convs.back().get();
        }
        macs += static_cast<double>(N) * (H * H * cin * st.width + Ho * Ho * st.width * (st.width / 32) * 9 +
                                          Ho * Ho * st.width * st.out + (k.ds ? Ho * Ho * cin * st.out : 0));
        body.push_back(k);
      }
    }
    const int64_t big = N * 256 * 56 * 56;  // the largest activation of the body
    float* x = buf(N * 64 * 56 * 56, seed++);
    float* io[2] = {buf(big, 0), buf(big, 0)};
    float* t1 = buf(big, 0);
    float* t2 = buf(big, 0);
    float* ds = buf(big, 0);
    float* iob[2] = {buf(big, 0), buf(big, 0)};
    float* t1b = buf(big, 0);
    float* t2b = buf(big, 0);
    float* dsb = buf(big, 0);
    float* xb = buf(BlockedFloats(N, 64, 56 * 56, CB), 0);
    float* yo = buf(N * 2048 * 7 * 7, 0);
    float* ya = nullptr;
    std::function<void()> fa = [=, &pool, &ya] {
      const float* in = x;
      int w = 0;
      for (const Block& k : body) {
        k.c1->plan->Run(N, k.H, k.H, in, nullptr, t1, pool);
        k.c2->plan->Run(N, k.H, k.H, t1, nullptr, t2, pool);
        const float* res = in;
        if (k.ds) {
          k.ds->plan->Run(N, k.H, k.H, in, nullptr, ds, pool);
          res = ds;
        }
        k.c3->plan->Run(N, k.Ho, k.Ho, t2, res, io[w], pool);
        in = io[w];
        w ^= 1;
      }
      ya = const_cast<float*>(in);
    };
    std::function<void()> fb = [=, &pool] {
      ToBlocked(x, xb, N, 64, 56 * 56, CB, pool);
      const float* in = xb;
      int w = 0;
      for (const Block& k : body) {
        RunBlocked(*k.c1, N, k.H, k.H, in, nullptr, t1b, pool);
        RunBlocked(*k.c2, N, k.H, k.H, t1b, nullptr, t2b, pool);
        const float* res = in;
        if (k.ds) {
          RunBlocked(*k.ds, N, k.H, k.H, in, nullptr, dsb, pool);
          res = dsb;
        }
        RunBlocked(*k.c3, N, k.Ho, k.Ho, t2b, res, iob[w], pool);
        in = iob[w];
        w ^= 1;
      }
      FromBlocked(in, yo, N, 2048, 49, CB, pool);
    };
    // Hybrid: blocked, except that the grouped 3x3s the NCHW registry runs
    // as Winograd (14x14, 7x7) run so, between two conversions.
    float* t1n = buf(big, 0);
    float* t2n = buf(big, 0);
    float* yh = buf(N * 2048 * 7 * 7, 0);
    std::function<void()> fh = [=, &pool] {
      ToBlocked(x, xb, N, 64, 56 * 56, CB, pool);
      const float* in = xb;
      int w = 0;
      for (const Block& k : body) {
        RunBlocked(*k.c1, N, k.H, k.H, in, nullptr, t1b, pool);
        if (k.c2->plan->impl().transformed) {
          FromBlocked(t1b, t1n, N, k.c2->p.C, k.H * k.H, CB, pool);
          k.c2->plan->Run(N, k.H, k.H, t1n, nullptr, t2n, pool);
          ToBlocked(t2n, t2b, N, k.c2->p.K, k.Ho * k.Ho, CB, pool);
        } else {
          RunBlocked(*k.c2, N, k.H, k.H, t1b, nullptr, t2b, pool);
        }
        const float* res = in;
        if (k.ds) {
          RunBlocked(*k.ds, N, k.H, k.H, in, nullptr, dsb, pool);
          res = dsb;
        }
        RunBlocked(*k.c3, N, k.Ho, k.Ho, t2b, res, iob[w], pool);
        in = iob[w];
        w ^= 1;
      }
      FromBlocked(in, yh, N, 2048, 49, CB, pool);
    };
    fa();
    fb();
    fh();
    std::vector<float> ref(ya, ya + N * 2048 * 49), got(yo, yo + N * 2048 * 49), goth(yh, yh + N * 2048 * 49);
    results.push_back({"body", "ResNeXt-50 body: 16 bottlenecks + 4 downsamples (all convs but the stem)", macs, {}, {},
                       RelErr(got, ref)});
    const size_t ib = results.size() - 1;
    results.push_back({"body",
                       "ResNeXt-50 body, hybrid: blocked, with the Winograd grouped 3x3s (14x14, 7x7) in NCHW between "
                       "conversions",
                       macs,
                       {},
                       {},
                       RelErr(goth, ref)});
    const size_t ih = results.size() - 1;
    const int ia = ItersFor(fa), ibb = ItersFor(fb), ihh = ItersFor(fh);
    addTimer(ib, fa, ia, fb, ibb);
    addTimer(ih, fa, ia, fh, ihh);
  }

  for (int rep = 0; rep < samples; ++rep) {
    for (auto& t : timers) {
      const bool first = rep % 2 == 0;
      t(!first);
      t(first);
    }
  }

  std::printf("{\"N\":%lld,\"threads\":%d,\"isa\":\"%s\",\"cb\":%d,\"samples\":%d,\"cpu\":\"%s\",\"results\":[\n",
              (long long)N, threads, IsaName(isa), CB, samples, GetCpuFeatures().brand.c_str());
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    const double ma = Median(r.a), mb = Median(r.b);
    const double na = *std::min_element(r.a.begin(), r.a.end()), nb = *std::min_element(r.b.begin(), r.b.end());
    // Samples i of A and B ran back to back: their ratio cancels load that
    // changes slower than a sample (other processes on a shared machine).
    std::vector<double> ratio;
    for (size_t i = 0; i < r.a.size() && i < r.b.size(); ++i) ratio.push_back(r.a[i] / r.b[i]);
    const double mr = Median(ratio);
    std::printf(
        "{\"kind\":\"%s\",\"name\":\"%s\",\"gmac\":%.5f,\"nchw_med\":%.5f,\"blk_med\":%.5f,\"nchw_min\":%.5f,"
        "\"blk_min\":%.5f,\"ratio_med\":%.4f,\"err\":%.3g}%s\n",
        r.kind.c_str(), r.name.c_str(), r.macs / 1e9, ma, mb, na, nb, mr, r.err, i + 1 < results.size() ? "," : "");
  }
  std::printf("]}\n");
  return 0;
}
