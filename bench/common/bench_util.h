// Helpers shared by the C++ micro-benchmarks (bench/*/bench.cc): uniform
// random data with a fixed seed, and a monotonic clock in milliseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace bench {

inline std::vector<float> Random(int64_t n, uint32_t seed, float scale) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(g);
  return v;
}

inline double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace bench
