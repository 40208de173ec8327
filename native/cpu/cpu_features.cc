// x86-64 feature detection with CPUID + XGETBV (both the CPU and the OS must
// support a register width before any kernel may use it). Non-x86 builds report
// the scalar ISA only.
#include "resnext/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define RESNEXT_X86 1
#include <cpuid.h>
#endif

namespace resnext {
namespace {

#if RESNEXT_X86
unsigned long long ReadXcr0() {
  unsigned int eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#if RESNEXT_X86
  unsigned int a = 0, b = 0, c = 0, d = 0;
  unsigned int max_leaf = __get_cpuid_max(0, nullptr);
  {  // leaf 0 always exists: the highest leaf and the vendor
    char vendor[13] = {0};
    __cpuid_count(0, 0, a, b, c, d);
    std::memcpy(vendor + 0, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    f.vendor = vendor;
  }
  if (max_leaf >= 1) {
    __cpuid_count(1, 0, a, b, c, d);
    // Display family and model (Intel SDM / AMD APM): the extended fields
    // count only for base family 15 (and, for the model, family 6).
    const int base_family = (a >> 8) & 0xF, base_model = (a >> 4) & 0xF;
    f.family = base_family == 0xF ? base_family + static_cast<int>((a >> 20) & 0xFF) : base_family;
    f.model =
        base_family == 0x6 || base_family == 0xF ? base_model + static_cast<int>(((a >> 16) & 0xF) << 4) : base_model;
    f.stepping = a & 0xF;
    f.sse2 = (d >> 26) & 1;
    f.fma = (c >> 12) & 1;
    const bool osxsave = (c >> 27) & 1;
    f.avx = (c >> 28) & 1;
    if (osxsave) {
      const unsigned long long xcr0 = ReadXcr0();
      f.os_avx = (xcr0 & 0x6) == 0x6;       // xmm + ymm state
      f.os_avx512 = (xcr0 & 0xE6) == 0xE6;  // + opmask, zmm_hi256, hi16_zmm
    }
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
  }
  unsigned int ext = __get_cpuid_max(0x80000000, nullptr);
  if (ext >= 0x80000004) {
    char brand[49] = {0};
    for (unsigned int i = 0; i < 3; ++i) {
      __cpuid_count(0x80000002 + i, 0, a, b, c, d);
      std::memcpy(brand + 16 * i + 0, &a, 4);
      std::memcpy(brand + 16 * i + 4, &b, 4);
      std::memcpy(brand + 16 * i + 8, &c, 4);
      std::memcpy(brand + 16 * i + 12, &d, 4);
    }
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
    size_t start = f.brand.find_first_not_of(' ');
    f.brand = start == std::string::npos ? std::string() : f.brand.substr(start);
  }
  if (f.avx && f.avx2 && f.fma && f.os_avx) f.best = Isa::kAvx2;
  if (f.best == Isa::kAvx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.os_avx512) f.best = Isa::kAvx512;
  f.avx512_double_pumped = f.best == Isa::kAvx512 && f.vendor == "AuthenticAMD" && f.family == 25;
#endif
  return f;
}

Isa InitialCap() {
  Isa best = GetCpuFeatures().best;
  const char* env = std::getenv("RESNEXT_CPU_ISA");
  Isa req;
  if (env != nullptr && ParseIsa(env, &req) && req < best) return req;
  return best;
}

std::atomic<int>& CapStorage() {
  static std::atomic<int> cap{static_cast<int>(InitialCap())};
  return cap;
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool ParseIsa(const std::string& name, Isa* out) {
  if (name == "scalar") {
    *out = Isa::kScalar;
    return true;
  }
  if (name == "avx2") {
    *out = Isa::kAvx2;
    return true;
  }
  if (name == "avx512") {
    *out = Isa::kAvx512;
    return true;
  }
  return false;
}

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

Isa GetIsaCap() { return static_cast<Isa>(CapStorage().load()); }

Isa SetIsaCap(Isa cap) {
  Isa best = GetCpuFeatures().best;
  if (cap > best) cap = best;
  CapStorage().store(static_cast<int>(cap));
  return cap;
}

}  // namespace resnext
