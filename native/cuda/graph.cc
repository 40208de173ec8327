// CUDA Graph capture and replay on the addon's stream (see graph.h). The
// runtime is the statically linked cudart, like every other CUDA call of the
// addon; EnsureReady() has made device 0 current and created the stream.
#include "cuda/graph.h"

#include "cuda/cuda_status.h"
#include "cuda/runtime.h"

namespace resnext {
namespace cuda {

Status BeginCapture() {
  Status s = EnsureReady();
  if (!s.ok()) return s;
  if (Capturing()) return Status::Internal("a CUDA graph capture is already in progress");
  // Work queued before the capture must not be waited on by anything inside it.
  RESNEXT_CUDA_TRY(cudaStreamSynchronize(Stream()), "cudaStreamSynchronize before capture");
  RESNEXT_CUDA_TRY(cudaStreamBeginCapture(Stream(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  SetCapturing(true);
  return Status::Ok();
}

Status EndCapture(cudaGraphExec_t* out) {
  *out = nullptr;
  if (!Capturing()) return Status::Internal("no CUDA graph capture is in progress");
  cudaGraph_t graph = nullptr;
  cudaError_t err = cudaStreamEndCapture(Stream(), &graph);
  // Only now: this runs the frees deferred during the capture on the stream.
  SetCapturing(false);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (graph) cudaGraphDestroy(graph);
    return FromCuda(err, "cudaStreamEndCapture (was an unsupported call made while capturing?)");
  }
  err = cudaGraphInstantiate(out, graph, 0);
  cudaGraphDestroy(graph);  // the executable graph is independent of it
  if (err != cudaSuccess) {
    cudaGetLastError();
    *out = nullptr;
    return FromCuda(err, "cudaGraphInstantiate");
  }
  GraphCreated();
  return Status::Ok();
}

Status LaunchGraph(cudaGraphExec_t exec) {
  if (!exec) return Status::InvalidType("expected a live CUDA graph but received a disposed one");
  RESNEXT_CUDA_TRY(cudaGraphLaunch(exec, Stream()), "cudaGraphLaunch");
  return Status::Ok();
}

void DestroyGraph(cudaGraphExec_t exec) {
  if (!exec) return;
  // cudaGraphExecDestroy does not wait for a queued replay; the shared blocks
  // it may read are freed stream-ordered after it (GraphDestroyed).
  if (cudaGraphExecDestroy(exec) != cudaSuccess) cudaGetLastError();
  GraphDestroyed();
}

}  // namespace cuda
}  // namespace resnext
