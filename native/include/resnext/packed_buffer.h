// The allocator behind a plan's packed weights (std::vector<float, PackedAllocator<float>>):
// 64-byte aligned storage.
//
// Why: the kernels read packed weights as whole 64-byte vectors (a zmm load,
// a prefetch per line). std::vector<float> memory is only 16-byte aligned, so
// every such load spanned two cache lines; 64-byte alignment made ResNeXt-50's
// blocked grouped 3x3 at 56x56 1.07-1.15x faster inside the network
// (docs/network-profile.md section 26, which also measures 2 MiB huge pages for
// the large weight buffers: no gain beyond the noise, not kept).
#pragma once

#include <cstddef>
#include <new>

namespace resnext {

// `bytes` bytes (at least 1), 64-byte aligned; nullptr when out of memory. Free with FreePacked.
void* AllocatePacked(size_t bytes);
void FreePacked(void* p);

template <class T>
struct PackedAllocator {
  using value_type = T;
  PackedAllocator() = default;
  template <class U>
  PackedAllocator(const PackedAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) {
    void* p = AllocatePacked(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { FreePacked(p); }
  template <class U>
  bool operator==(const PackedAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const PackedAllocator<U>&) const {
    return false;
  }
};

}  // namespace resnext
