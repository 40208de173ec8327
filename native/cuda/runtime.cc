// Probe, stream and accounted device memory (see runtime.h). The driver is
// looked for with dlopen first so that "no driver" and "no device" get their
// own reasons; cudart_static opens libcuda.so.1 itself on the first CUDA call.
#include "cuda/runtime.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>

#include "cuda/cuda_status.h"

namespace resnext {
namespace cuda {
namespace {

std::once_flag g_probe_once;
ProbeResult g_probe;

std::mutex g_ready_mu;
bool g_ready = false;
Status g_ready_status;
cudaStream_t g_stream = nullptr;

std::atomic<int64_t> g_in_use{0}, g_peak{0}, g_live{0};
std::atomic<bool> g_capturing{false};
// Frees requested while capturing (a finalizer may run then): done after it,
// since a cudaFreeAsync inside the capture would become a node of the graph.
std::mutex g_deferred_mu;
std::vector<std::pair<void*, size_t>> g_deferred_frees;
// Shared blocks outgrown while graphs that may use them are alive.
int g_live_graphs = 0;
std::vector<std::pair<void*, size_t>> g_retired;

void* g_scratch = nullptr;
size_t g_scratch_bytes = 0;

std::string VersionString(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

void RunProbe(ProbeResult* r) {
  cudaRuntimeGetVersion(&r->runtimeVersion);
  void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    r->driverError = e ? e : "libcuda.so.1 not found";
    r->reason = "no NVIDIA driver: libcuda.so.1 could not be loaded (" + r->driverError + ")";
    return;
  }
  r->driverFound = true;  // the handle stays open: cudart uses the same library
  cudaDriverGetVersion(&r->driverVersion);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorInsufficientDriver || (r->driverVersion > 0 && r->driverVersion < r->runtimeVersion)) {
    r->reason = "version mismatch: the NVIDIA driver supports CUDA " + VersionString(r->driverVersion) +
                " but the addon was built with CUDA " + VersionString(r->runtimeVersion) +
                " (update the driver or rebuild with an older toolkit)";
    cudaGetLastError();
    return;
  }
  if (err == cudaErrorNoDevice || (err == cudaSuccess && count == 0)) {
    r->reason = "no CUDA device: the driver is installed but sees no GPU";
    cudaGetLastError();
    return;
  }
  if (err != cudaSuccess) {
    r->reason = std::string("the CUDA runtime could not start: ") + cudaGetErrorName(err) + " (" +
                cudaGetErrorString(err) + ")";
    cudaGetLastError();
    return;
  }
  r->deviceCount = count;
  for (int i = 0; i < count; i++) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.name = prop.name;
    d.major = prop.major;
    d.minor = prop.minor;
    d.multiprocessors = prop.multiProcessorCount;
    d.totalMemory = prop.totalGlobalMem;
    r->devices.push_back(d);
  }
  if (!r->devices.empty() && r->devices[0].major < 8) {
    r->reason = "device 0 (" + r->devices[0].name + ") has compute capability " + std::to_string(r->devices[0].major) +
                "." + std::to_string(r->devices[0].minor) + "; the addon is built for 8.0 and newer";
    return;
  }
  r->ok = true;
}

}  // namespace

const ProbeResult& Probe() {
  std::call_once(g_probe_once, [] { RunProbe(&g_probe); });
  return g_probe;
}

Status EnsureReady() {
  std::lock_guard<std::mutex> lock(g_ready_mu);
  if (g_ready) return g_ready_status;
  g_ready = true;
  const ProbeResult& p = Probe();
  if (!p.ok) {
    g_ready_status = Status::Unsupported(p.reason);
    return g_ready_status;
  }
  g_ready_status = [&]() -> Status {
    RESNEXT_CUDA_TRY(cudaSetDevice(0), "cudaSetDevice(0)");
    RESNEXT_CUDA_TRY(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    // Keep freed blocks in the pool: tensors come and go every layer, and
    // returning memory to the driver at each sync would cost a page-table
    // update per allocation.
    cudaMemPool_t pool;
    if (cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess) {
      uint64_t threshold = UINT64_MAX;
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
    }
    return Status::Ok();
  }();
  return g_ready_status;
}

cudaStream_t Stream() { return g_stream; }

int MultiprocessorCount() {
  const ProbeResult& p = Probe();
  return p.devices.empty() ? 1 : p.devices[0].multiprocessors;
}

Status Alloc(size_t bytes, void** out) {
  Status s = EnsureReady();
  if (!s.ok()) return s;
  *out = nullptr;
  if (g_capturing.load())
    return Status::Unsupported(
        "device allocation of " + std::to_string(bytes) +
        " bytes while a CUDA graph is being captured (run the work once uncaptured first so its buffers exist)");
  if (bytes == 0) bytes = 1;  // a valid, unique pointer for empty tensors
  cudaError_t err = cudaMallocAsync(out, bytes, g_stream);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return Status::OutOfMemory("device allocation of " + std::to_string(bytes) +
                               " bytes failed: " + cudaGetErrorString(err));
  }
  int64_t now = g_in_use.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
  g_live.fetch_add(1);
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return Status::Ok();
}

void Free(void* p, size_t bytes) {
  if (!p) return;
  if (bytes == 0) bytes = 1;
  if (g_capturing.load()) {
    std::lock_guard<std::mutex> lock(g_deferred_mu);
    g_deferred_frees.emplace_back(p, bytes);
    return;
  }
  // Errors here only happen at process exit (runtime already unloaded).
  if (cudaFreeAsync(p, g_stream) != cudaSuccess) cudaGetLastError();
  g_in_use.fetch_sub(static_cast<int64_t>(bytes));
  g_live.fetch_sub(1);
}

MemoryStats Memory() {
  MemoryStats m;
  m.bytesInUse = g_in_use.load();
  m.peakBytes = g_peak.load();
  m.allocations = g_live.load();
  return m;
}

void FreeShared(void* p, size_t bytes) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> lock(g_deferred_mu);
    if (g_live_graphs > 0) {
      g_retired.emplace_back(p, bytes);
      return;
    }
  }
  Free(p, bytes);
}

void GraphCreated() {
  std::lock_guard<std::mutex> lock(g_deferred_mu);
  g_live_graphs++;
}

void GraphDestroyed() {
  std::vector<std::pair<void*, size_t>> frees;
  {
    std::lock_guard<std::mutex> lock(g_deferred_mu);
    if (--g_live_graphs > 0) return;
    frees.swap(g_retired);
  }
  // Stream-ordered: a replay already queued finishes before the blocks are reused.
  for (auto& f : frees) Free(f.first, f.second);
}

bool Capturing() { return g_capturing.load(); }
void SetCapturing(bool on) {
  g_capturing.store(on);
  if (on) return;
  std::vector<std::pair<void*, size_t>> frees;
  {
    std::lock_guard<std::mutex> lock(g_deferred_mu);
    frees.swap(g_deferred_frees);
  }
  for (auto& f : frees) Free(f.first, f.second);
}

void ResetPeak() { g_peak.store(g_in_use.load()); }

Status Synchronize() {
  Status s = EnsureReady();
  if (!s.ok()) return s;
  RESNEXT_CUDA_TRY(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize");
  return Status::Ok();
}

Status Scratch(size_t bytes, void** out) {
  Status s = EnsureReady();
  if (!s.ok()) return s;
  if (bytes > g_scratch_bytes) {
    if (g_capturing.load())
      return Status::Unsupported("scratch growth to " + std::to_string(bytes) +
                                 " bytes while a CUDA graph is being captured (run the work once uncaptured first)");
    if (g_scratch) FreeShared(g_scratch, g_scratch_bytes);
    g_scratch = nullptr;
    g_scratch_bytes = 0;
    size_t grown = bytes + bytes / 4;
    s = Alloc(grown, &g_scratch);
    if (!s.ok()) return s;
    g_scratch_bytes = grown;
  }
  *out = g_scratch;
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
