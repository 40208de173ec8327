// AllocatePacked / FreePacked (resnext/packed_buffer.h): posix_memalign with a
// 64-byte alignment. Plain memory, no Node.
#include "resnext/packed_buffer.h"

#include <cstdlib>

namespace resnext {

void* AllocatePacked(size_t bytes) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, bytes == 0 ? 64 : bytes) != 0) return nullptr;
  return p;
}

void FreePacked(void* p) { std::free(p); }

}  // namespace resnext
