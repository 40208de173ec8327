// The process's glibc malloc thresholds, set once when the CPU addon loads.
//
// Why: a one-shot op returns a fresh output (a Float32Array, allocated by V8
// through calloc). glibc serves blocks of 128 KiB and more with a fresh mmap
// until it sees one freed, then from the heap, but it returns the top of the
// heap to the kernel whenever more than twice the largest freed block is free
// there. V8 frees ArrayBuffers in batches at garbage collection, so the heap
// top is trimmed again and again, and each output of a one-shot conv2d() page
// faults its memory back in: about 150-300 faults per 1.6 MB output, half of a
// ResNeXt-50 128@56 layer's one-shot time on a VM. PyTorch frees each tensor at
// once and reuses the same heap memory.
//
// The policy fixes the mmap threshold at 2 MiB (blocks up to 2 MiB, e.g. every
// ResNeXt-50 grouped layer's batch-1 output, come from the heap; bigger ones
// always get their own mappings and go back to the kernel when freed)
// and the trim threshold at 64 MiB (the most glibc's own adjustment would
// reach), so freed outputs stay mapped for the next call. Measured
// (bench/networks/memory.js, batch-1 resnext50_32x4d): peak RSS unchanged and
// the RSS after a forward too; a 4 MiB threshold kept about 30 MB more after
// loadSafetensors() + forward (freed weight tensors leave holes in the heap).
// It changes nothing when the process chose its thresholds itself
// (GLIBC_TUNABLES or MALLOC_*_ variables), when RESNEXT_MALLOC_TUNING=0, or
// outside glibc.
#pragma once

#include <cstdint>

namespace resnext {

struct MallocPolicy {
  bool tuned = false;          // whether the thresholds were set
  const char* reason = "";     // why not, when not
  int64_t mmap_threshold = 0;  // bytes (0 when not tuned)
  int64_t trim_threshold = 0;
};

// Applies the policy on the first call (thread-safe) and returns what it did.
const MallocPolicy& ApplyMallocPolicy();

}  // namespace resnext
