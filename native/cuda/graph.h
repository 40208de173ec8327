// CUDA Graph capture of work enqueued on the addon's stream (batch-1 model
// inference: about 60 kernel launches replayed as one graph launch). Capture
// records; it runs nothing. Everything enqueued between BeginCapture and
// EndCapture must read and write device memory that outlives the graph, and
// must not allocate (Alloc refuses while capturing, with a clear reason), so
// the caller runs the same work once uncaptured first to size its scratch.
// The shared scratch and cuDNN workspace a graph bakes in are not freed while
// any graph is alive (runtime.h, FreeShared), even when later work outgrows them.
#pragma once

#include <cuda_runtime_api.h>

#include "resnext/status.h"

namespace resnext {
namespace cuda {

// Waits for queued work, then starts capturing the stream (thread-local mode:
// other threads waiting on earlier events are not affected).
Status BeginCapture();

// Ends the capture and instantiates it. On failure the capture is still ended.
Status EndCapture(cudaGraphExec_t* out);

// Enqueues one replay on the stream.
Status LaunchGraph(cudaGraphExec_t exec);

void DestroyGraph(cudaGraphExec_t exec);

}  // namespace cuda
}  // namespace resnext
