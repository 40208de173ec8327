// Machine limits for "% of peak": fp32 FMA throughput (AVX-512 zmm and AVX2
// ymm, 1 and N threads) and stream copy bandwidth. Built by bench/peak/build.js
// with g++ -O3 at bench time; ISA code uses per-function target attributes, so
// the binary runs on any x86-64 and skips what the CPU lacks.
//
// Output: one JSON object on stdout {fma: [{isa, threads, gflops_best,
// gflops_median}], copy: [{threads, gbps_best, gbps_median}]}.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Independent accumulator chains (more than latency x ports) keep both FMA
// pipes busy; without -ffast-math the compiler cannot fold the chains away.
__attribute__((target("avx512f"))) float FmaZmm(long iters) {
  __m512 a[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  }
  __m512 s = a[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) float FmaYmm(long iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

template <typename Fn>
std::vector<double> Repeat(int threads, int reps, Fn body) {
  std::vector<double> secs;
  for (int r = 0; r < reps; ++r) {
    std::vector<std::thread> ts;
    const double t0 = Now();
    for (int t = 1; t < threads; ++t) ts.emplace_back([&body, t] { body(t); });
    body(0);
    for (auto& t : ts) t.join();
    secs.push_back(Now() - t0);
  }
  return secs;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

volatile float g_sink;

}  // namespace

int main(int argc, char** argv) {
  const int max_threads = argc > 1 ? std::atoi(argv[1]) : 2;
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f");
  const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  std::string json = "{\"fma\":[";
  bool first = true;
  const long iters = 40000000;  // about 0.2 s per thread at 200 GFLOP/s
  for (int isa = 0; isa < 2; ++isa) {
    if ((isa == 0 && !has512) || (isa == 1 && !has2)) continue;
    const int lanes = isa == 0 ? 16 : 8, chains = isa == 0 ? 16 : 12;
    for (int threads = 1; threads <= max_threads; ++threads) {
      auto secs = Repeat(threads, 7, [&](int) { g_sink = isa == 0 ? FmaZmm(iters / 2) : FmaYmm(iters / 2); });
      const double flops = 2.0 * lanes * chains * (iters / 2) * threads;
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s{\"isa\":\"%s\",\"threads\":%d,\"gflops_best\":%.1f,\"gflops_median\":%.1f}",
                    first ? "" : ",", isa == 0 ? "avx512" : "avx2", threads, flops / *std::min_element(secs.begin(), secs.end()) / 1e9,
                    flops / Median(secs) / 1e9);
      json += buf;
      first = false;
    }
  }
  json += "],\"copy\":[";
  // 128 MiB per array per thread: far beyond the 32 MiB L3.
  const size_t n = size_t{32} << 20;
  std::vector<std::vector<float>> src(max_threads, std::vector<float>(n, 1.0f)), dst(max_threads, std::vector<float>(n, 0.0f));
  for (int threads = 1; threads <= max_threads; ++threads) {
    auto secs = Repeat(threads, 7, [&](int t) { std::memcpy(dst[t].data(), src[t].data(), n * sizeof(float)); });
    const double bytes = 2.0 * n * sizeof(float) * threads;  // read + write
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s{\"threads\":%d,\"gbps_best\":%.1f,\"gbps_median\":%.1f}", threads == 1 ? "" : ",", threads,
                  bytes / *std::min_element(secs.begin(), secs.end()) / 1e9, bytes / Median(secs) / 1e9);
    json += buf;
  }
  json += "]}";
  std::puts(json.c_str());
  return 0;
}
