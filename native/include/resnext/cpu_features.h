// CPU feature detection, done once per process (dispatch is data: the table is
// built on first use and never changes, except that tests may cap the ISA).
#pragma once

#include <string>

namespace resnext {

// Ordered: a kernel for ISA x runs on any CPU whose level is >= x.
enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* out);

struct CpuFeatures {
  bool sse2 = false, avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool os_avx = false, os_avx512 = false;  // the OS saves ymm / zmm state (XGETBV)
  Isa best = Isa::kScalar;                 // highest ISA both the CPU and the OS support
  std::string brand;                       // CPU model string
  // CPUID leaf 0 vendor and leaf 1 signature, as /proc/cpuinfo shows them
  // ("cpu family", "model"): the brand string alone does not tell two
  // generations apart (a VM may report just "AMD EPYC"), and benchmark
  // figures name the machine they were measured on. 0 where unknown.
  std::string vendor;
  int family = 0, model = 0, stepping = 0;
  // 512-bit FMAs run as two halves on 256-bit units (AMD family 25 with
  // AVX-512: Zen 4), so a 256-bit FMA does half the work at twice the rate
  // and kernels whose natural vector is 8 floats lose nothing there. From the
  // CPUID signature: other CPUs (Intel, Zen 5 servers) run them at full width
  // (a Zen 5 laptop part that splits them too reads as full width).
  bool avx512_double_pumped = false;
};

// Detected on first call; thread-safe.
const CpuFeatures& GetCpuFeatures();

// The ISA cap applied to new plans: the detected best, lowered by
// RESNEXT_CPU_ISA=scalar|avx2|avx512 in the environment or by SetIsaCap.
Isa GetIsaCap();
// Caps the ISA used by plans created afterwards. A cap above what the CPU
// supports is clamped to the CPU's best. Returns the cap now in force.
Isa SetIsaCap(Isa cap);

}  // namespace resnext
