// Micro-benchmark of the GEMM conv kernel (native/cpu/conv_gemm*.{inc,cc}) on
// ResNet-50's and ResNeXt-50's 1x1 layers (built and run by bench/gemm/run.js).
// Two builds of the kernel in one process: "old" is conv_gemm_<isa>.cc of a
// base commit (its ConvImpl renamed by a -D at compile time; everything else
// in it has internal linkage) and "new" is the working tree's. Per layer, in
// one process, interleaved (old then new, order swapped every sample):
//   alone  the same call back to back (weights stay in L2: the per-layer
//          benchmark setting);
//   chain  calls that cycle over enough copies of the layer's packed weights
//          (>= 24 MiB, at least 4) that every call finds its weights in L3 or
//          DRAM, as in a network forward where each weight set is touched
//          once; input and residual stay warm (the previous layer wrote them).
//          BENCH_CHAIN_MIB=N sets the copies' total (N MiB).
// BENCH_INPLACE=1: +residual layers write over their residual (out == res).
// A sample is the mean time of enough back-to-back calls to last ~2 ms. Output:
// one JSON object per line (layer, mode, per-sample ms of both builds), and the
// max relative difference of the two builds' outputs.
//
// With kernel "blocked1x1" (7th argument) the two builds are those of the
// blocked 1x1 kernel (conv_blocked1x1_<isa>.cc) on NCHW16c / NCHW8c tensors
// (every layer's C and K are whole blocks, so the sizes are the NCHW ones);
// 1x1 layers only.
//
// Usage: bench <N> <threads> <samples> <isa: avx512|avx2> <set: small|large|all> [layer index|-1]
//        [kernel: gemm|blocked1x1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "resnext/conv_blocked.h"
#include "resnext/conv_kernel.h"
#include "resnext/thread_pool.h"
#include "../common/bench_util.h"

namespace resnext {
extern const ConvImpl kConvGemmAvx512;
extern const ConvImpl kConvGemmAvx512Old;
extern const ConvImpl kConvGemmAvx2;
extern const ConvImpl kConvGemmAvx2Old;
extern const BlockedConv kBlockedConv1x1Avx512;
extern const BlockedConv kBlockedConv1x1Avx512Old;
extern const BlockedConv kBlockedConv1x1Avx2;
extern const BlockedConv kBlockedConv1x1Avx2Old;
// The blocked 1x1 files also define their NCHW wrappers (for forced tests),
// which call this; the benchmark never runs them, so it does not link
// conv_blocked_layout.cc (and the whole blocked registry) for it.
Status RunBlockedOnNchw(const ConvRunArgs&, ThreadPool&, int, int64_t, BlockedImageFn) {
  return Status::InvalidArgument("not linked into the benchmark");
}
}  // namespace resnext

using namespace resnext;

namespace {

using bench::NowMs;
using bench::Random;

struct Layer {
  const char* net;
  int64_t C, K, H, R, stride;
  bool res, relu;
};

// The 1x1s at 14x14 and 7x7 (and the stride-2 downsamples into them) of both
// networks, then the larger-image ones and the stem (regression checks).
const Layer kSmall[] = {
    {"resnext50", 512, 1024, 14, 1, 1, true, true},    {"resnext50", 1024, 512, 14, 1, 1, false, true},
    {"resnext50", 1024, 1024, 14, 1, 1, false, true},  {"resnext50", 1024, 2048, 7, 1, 1, true, true},
    {"resnext50", 2048, 1024, 7, 1, 1, false, true},   {"resnext50", 512, 1024, 28, 1, 2, false, false},
    {"resnext50", 1024, 2048, 14, 1, 2, false, false}, {"resnet50", 256, 1024, 14, 1, 1, true, true},
    {"resnet50", 1024, 256, 14, 1, 1, false, true},    {"resnet50", 512, 2048, 7, 1, 1, true, true},
    {"resnet50", 2048, 512, 7, 1, 1, false, true},
};
const Layer kLarge[] = {
    {"resnext50", 64, 128, 56, 1, 1, false, true},   {"resnext50", 256, 128, 56, 1, 1, false, true},
    {"resnext50", 128, 256, 56, 1, 1, true, true},   {"resnext50", 256, 512, 56, 1, 2, false, false},
    {"resnext50", 512, 256, 28, 1, 1, false, true},  {"resnext50", 256, 512, 28, 1, 1, true, true},
    {"resnext50", 512, 512, 28, 1, 1, false, true},  {"resnet50", 256, 64, 56, 1, 1, false, true},
    {"resnet50", 64, 256, 56, 1, 1, true, true},
    {"resnet50", 128, 512, 28, 1, 1, true, true},    {"resnet50", 512, 128, 28, 1, 1, false, true},
    {"stem", 3, 64, 224, 7, 2, false, true},
};

// What the benchmark calls of a kernel (a ConvImpl's or a BlockedConv's).
struct Kernel {
  int64_t (*packed_size)(const ConvParams& p);
  void (*pack)(const ConvParams& p, const float* weight, float* packed);
  Status (*run)(const ConvRunArgs& args, ThreadPool& pool);
};
template <typename T>
Kernel KernelOf(const T& k) {
  return {k.packed_size, k.pack, k.run};
}

struct Run {
  const Kernel* impl;
  std::vector<std::vector<float>> packed;  // copies
  size_t next = 0;
};

double Sample(const std::function<void()>& fn, int iters) {
  const double t0 = NowMs();
  for (int i = 0; i < iters; ++i) fn();
  return (NowMs() - t0) / iters;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t N = argc > 1 ? std::atoll(argv[1]) : 1;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int samples = argc > 3 ? std::atoi(argv[3]) : 11;
  const std::string isa = argc > 4 ? argv[4] : "avx512";
  const std::string set = argc > 5 ? argv[5] : "small";
  const int only = argc > 6 ? std::atoi(argv[6]) : -1;  // one layer of the set (profiling)
  const bool blocked = argc > 7 && std::string(argv[7]) == "blocked1x1";
  const Kernel k_new = blocked ? KernelOf(isa == "avx2" ? kBlockedConv1x1Avx2 : kBlockedConv1x1Avx512)
                               : KernelOf(isa == "avx2" ? kConvGemmAvx2 : kConvGemmAvx512);
  const Kernel k_old = blocked ? KernelOf(isa == "avx2" ? kBlockedConv1x1Avx2Old : kBlockedConv1x1Avx512Old)
                               : KernelOf(isa == "avx2" ? kConvGemmAvx2Old : kConvGemmAvx512Old);
  const Kernel* impl_new = &k_new;
  const Kernel* impl_old = &k_old;
  ThreadPool pool(threads);
  std::vector<Layer> layers;
  if (set != "large") layers.insert(layers.end(), std::begin(kSmall), std::end(kSmall));
  if (set != "small") layers.insert(layers.end(), std::begin(kLarge), std::end(kLarge));

  // BENCH_CHAIN_MIB: the chain's total size of weight copies (default 24 MiB:
  // L3; a few hundred MiB pass this machine's L3, as a whole network's do).
  const char* chain_env = std::getenv("BENCH_CHAIN_MIB");
  const int64_t chain_mib = chain_env && std::atoll(chain_env) > 0 ? std::atoll(chain_env) : 24;
  uint32_t seed = 1;
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    if ((only >= 0 && static_cast<size_t>(only) != li) || (blocked && l.R != 1)) {
      seed += 4;
      continue;
    }
    ConvParams p;
    p.N = N;
    p.C = l.C;
    p.K = l.K;
    p.H = p.W = l.H;
    p.R = p.S = l.R;
    p.stride_h = p.stride_w = l.stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = l.R / 2;
    p.activation = l.relu ? Activation::kRelu : Activation::kNone;
    const int64_t P = p.P();
    const std::vector<float> w = Random(p.WeightSize(), seed++, std::sqrt(3.0f / static_cast<float>(l.C * l.R * l.R)));
    const std::vector<float> b = Random(l.K, seed++, 0.1f);
    const std::vector<float> x = Random(p.InputSize(), seed++, 1.0f);
    const std::vector<float> r = Random(p.OutputSize(), seed++, 1.0f);
    // BENCH_INPLACE=1: a +residual layer writes over its residual (as the
    // network's in-place conv3s do; each call adds to the last one's output).
    const bool in_place = l.res && std::getenv("BENCH_INPLACE") && std::atoi(std::getenv("BENCH_INPLACE")) > 0;
    std::vector<float> y_old = in_place ? r : std::vector<float>(static_cast<size_t>(p.OutputSize()));
    std::vector<float> y_new = y_old;
    const int64_t wbytes = impl_new->packed_size(p) * 4;
    const int copies = static_cast<int>(std::max<int64_t>(4, (chain_mib << 20) / std::max<int64_t>(wbytes, 1) + 1));
    Run runs[2] = {{impl_old, {}, 0}, {impl_new, {}, 0}};
    for (Run& run : runs) {
      for (int c = 0; c < copies; ++c) {
        run.packed.emplace_back(static_cast<size_t>(run.impl->packed_size(p)));
        run.impl->pack(p, w.data(), run.packed.back().data());
      }
    }
    float* ys[2] = {y_old.data(), y_new.data()};
    auto call = [&](int v, bool chain) {
      Run& run = runs[v];
      const std::vector<float>& pk = run.packed[chain ? run.next++ % run.packed.size() : 0];
      ConvRunArgs a{&p, x.data(), pk.data(), b.data(), l.res ? (in_place ? ys[v] : r.data()) : nullptr, ys[v]};
      const Status s = run.impl->run(a, pool);
      if (!s.ok()) {
        std::fprintf(stderr, "run: %s\n", s.message.c_str());
        std::exit(1);
      }
    };
    call(0, false);
    call(1, false);
    double m = 0, ref = 0;
    for (size_t i = 0; i < y_old.size(); ++i) {
      m = std::max(m, static_cast<double>(std::fabs(y_old[i] - y_new[i])));
      ref = std::max(ref, static_cast<double>(std::fabs(y_old[i])));
    }
    for (int chain = 0; chain < 2; ++chain) {
      int iters[2];
      for (int v = 0; v < 2; ++v) {
        call(v, chain);
        const double t = Sample([&] { call(v, chain); }, 1);
        iters[v] = std::max(1, static_cast<int>(2.0 / std::max(t, 1e-3)));
      }
      std::vector<double> ms[2];
      for (int s = 0; s < samples; ++s) {
        for (int o = 0; o < 2; ++o) {
          const int v = (s % 2) ? 1 - o : o;
          ms[v].push_back(Sample([&] { call(v, chain); }, iters[v]));
        }
      }
      std::printf("{\"net\":\"%s\",\"C\":%lld,\"K\":%lld,\"H\":%lld,\"R\":%lld,\"stride\":%lld,\"res\":%s,\"P\":%lld,"
                  "\"mode\":\"%s\",\"macs\":%lld,\"err\":%.3g,\"old\":[",
                  l.net, (long long)l.C, (long long)l.K, (long long)l.H, (long long)l.R, (long long)l.stride,
                  l.res ? "true" : "false", (long long)P, chain ? "chain" : "alone", (long long)p.Macs(),
                  ref > 0 ? m / ref : m);
      for (int v = 0; v < 2; ++v) {
        for (size_t i = 0; i < ms[v].size(); ++i) std::printf("%s%.5f", i ? "," : "", ms[v][i]);
        std::printf(v == 0 ? "],\"new\":[" : "]}\n");
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
