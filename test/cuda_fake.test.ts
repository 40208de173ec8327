// The GPU suite of test/cuda.test.ts, run against a CPU stand-in of the CUDA
// addon (test/helpers/fake_cuda_addon.js, same exports and semantics) so that
// the TS layer of the GPU backends (loader, device tensors with their NHWC
// layout and reshaped views, float16/bfloat16 rounding, conv2d plumbing through
// the cuda and cudnn backends, memory accounting, async) is checked on every
// machine. The CUDA kernels themselves are checked by cuda_emulate.test.ts
// (CPU emulation) and by cuda.test.ts on a GPU.
import * as path from 'node:path';

process.env.RESNEXT_CUDA_ADDON = path.join(__dirname, 'helpers', 'fake_cuda_addon.js');
process.env.FAKE_CUDNN = '1';
await import('./cuda.test');
