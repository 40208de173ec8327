// The CUDA runtime as the addon sees it: a probe that never fails (it reports
// whether the driver, a device and a matching runtime are there), one
// non-blocking stream that every op is enqueued on, and device memory through
// the stream-ordered allocator with byte accounting for memory().
//
// Nothing here touches CUDA until the first call: loading the addon on a
// machine without the driver is silent; probe() then says why it cannot run.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resnext/status.h"

namespace resnext {
namespace cuda {

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  int multiprocessors = 0;
  size_t totalMemory = 0;
};

struct ProbeResult {
  bool driverFound = false;  // libcuda.so.1 could be opened
  std::string driverError;   // dlerror() when it could not
  int driverVersion = 0;     // e.g. 13000; 0 without a driver
  int runtimeVersion = 0;    // the CUDA runtime linked into the addon
  int deviceCount = 0;
  std::vector<DeviceInfo> devices;
  bool ok = false;
  std::string reason;  // why the GPU cannot be used; empty when ok
};

// Cached after the first call; safe on any machine.
const ProbeResult& Probe();

// Makes device 0 current, creates the stream and sets up the memory pool.
// Returns Unsupported with the probe's reason when there is no usable GPU.
Status EnsureReady();

cudaStream_t Stream();

// Multiprocessors of device 0 (from the probe; 1 when there is no device).
int MultiprocessorCount();

struct MemoryStats {
  int64_t bytesInUse = 0;
  int64_t peakBytes = 0;
  int64_t allocations = 0;  // live allocations
};

// Stream-ordered: freeing memory that queued work still reads is safe.
// Refused while a CUDA graph is being captured (graph.h): an allocation there
// would become part of the graph and be replayed.
Status Alloc(size_t bytes, void** out);
void Free(void* p, size_t bytes);
MemoryStats Memory();
void ResetPeak();

// Blocks the calling thread until all queued work is done.
Status Synchronize();

// Whether the stream is being captured into a CUDA graph (set by graph.cc).
bool Capturing();
void SetCapturing(bool on);

// Frees memory that a captured CUDA graph may have baked in (the shared
// scratch below, cuDNN's workspace) when they grow: while any graph is alive
// the old block is kept, and freed once the last graph is destroyed.
void FreeShared(void* p, size_t bytes);
void GraphCreated();
void GraphDestroyed();

// A growable device scratch area, used in stream order only (one stream).
Status Scratch(size_t bytes, void** out);

}  // namespace cuda
}  // namespace resnext
