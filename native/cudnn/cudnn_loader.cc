// Finds and opens libcudnn.so.9 (see cudnn_loader.h). Search order: the folder
// CMake found at build time, CUDNN_ROOT/CUDNN_PATH, then the loader's own path.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include "cudnn/cudnn_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "cudnn/cudnn_conv.h"

#ifndef RESNEXT_CUDNN_LIBDIR
#define RESNEXT_CUDNN_LIBDIR ""
#endif

namespace resnext {
namespace cuda {
namespace {

std::once_flag g_once;
CudnnProbeResult g_probe;
CudnnApi g_api;
bool g_ok = false;

std::string LibName() { return "libcudnn.so." + std::to_string(CUDNN_MAJOR); }

void Load() {
  g_probe.compiled = true;
  g_probe.headerVersion = CUDNN_VERSION;
  std::vector<std::string> candidates;
  if (RESNEXT_CUDNN_LIBDIR[0]) candidates.push_back(std::string(RESNEXT_CUDNN_LIBDIR) + "/" + LibName());
  for (const char* var : {"CUDNN_ROOT", "CUDNN_PATH"}) {
    const char* v = std::getenv(var);
    if (v && *v) {
      candidates.push_back(std::string(v) + "/lib/" + LibName());
      candidates.push_back(std::string(v) + "/lib64/" + LibName());
    }
  }
  candidates.push_back(LibName());
  void* h = nullptr;
  std::string errors;
  for (const std::string& c : candidates) {
    h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) {
      g_probe.library = c;
      break;
    }
    const char* e = dlerror();
    if (!errors.empty()) errors += "; ";
    errors += e ? e : c;
  }
  if (!h) {
    g_probe.reason = "cuDNN not found: " + errors;
    return;
  }
  std::string missing;
#define RESNEXT_CUDNN_RESOLVE(name)                                  \
  g_api.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name)); \
  if (!g_api.name) missing += std::string(missing.empty() ? "" : ", ") + #name;
  RESNEXT_CUDNN_FUNCTIONS(RESNEXT_CUDNN_RESOLVE)
#undef RESNEXT_CUDNN_RESOLVE
  if (!missing.empty()) {
    g_probe.reason = "version mismatch: " + g_probe.library + " lacks " + missing;
    return;
  }
  g_probe.version = static_cast<int>(g_api.cudnnGetVersion());
  const int major = g_probe.version / 10000;
  if (major != CUDNN_MAJOR) {
    g_probe.reason = "version mismatch: found cuDNN " + std::to_string(g_probe.version) + " at " + g_probe.library +
                     " but the addon was built against cuDNN " + std::to_string(CUDNN_VERSION);
    return;
  }
  const int cudart = static_cast<int>(g_api.cudnnGetCudartVersion());
  int ours = 0;
  cudaRuntimeGetVersion(&ours);
  if (cudart / 1000 != ours / 1000) {
    g_probe.reason = "version mismatch: cuDNN at " + g_probe.library + " was built for CUDA " +
                     std::to_string(cudart / 1000) + " but the addon uses CUDA " + std::to_string(ours / 1000);
    return;
  }
  g_probe.loaded = true;
  g_ok = true;
}

}  // namespace

const CudnnProbeResult& CudnnProbe() {
  std::call_once(g_once, Load);
  return g_probe;
}

const CudnnApi* Cudnn() {
  CudnnProbe();
  return g_ok ? &g_api : nullptr;
}

}  // namespace cuda
}  // namespace resnext
