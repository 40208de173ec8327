// Keeps the prebuilt CPU addon loadable on glibc older than the build
// machine's. libstdc++ is linked statically (binding.gyp), and its
// std::random_device object references arc4random, which glibc only has since
// 2.36; the addon never creates a random_device, but the reference alone would
// make the dynamic loader refuse glibc < 2.36. This hidden definition satisfies
// it inside the addon, so no GLIBC_2.36 version is recorded.
#include <cstdint>  // defines __GLIBC__ (via features.h) where glibc is the libc

#if defined(__linux__) && defined(__GLIBC__)
#include <sys/random.h>  // getentropy (glibc 2.25); not <stdlib.h>, which declares arc4random

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) noexcept {
  uint32_t v = 0;
  if (getentropy(&v, sizeof v) != 0) __builtin_trap();
  return v;
}
#endif
