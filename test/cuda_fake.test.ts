// The GPU suite of test/cuda.test.ts, run against a CPU stand-in of the CUDA
// addon (test/helpers/fake_cuda_addon.js, same exports and semantics) so that
// the TS layer of the GPU backends (loader, device tensors with their NHWC
// layout and reshaped views, float16/bfloat16 rounding, conv2d plumbing through
// the cuda and cudnn backends, memory accounting, async, and the whole-model
// forward with its buffer views and CUDA graph capture/replay, which the fake
// records and replays) is checked on every machine. The CUDA kernels themselves are checked by cuda_emulate.test.ts
// (CPU emulation) and by cuda.test.ts on a GPU.
// Import order matters: the first import sets RESNEXT_CUDA_ADDON.
import './helpers/use_fake_cuda_addon';
import './cuda.test';
