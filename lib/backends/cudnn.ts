// The 'cudnn' backend: the same device tensors and plan contract as 'cuda'
// (lib/backends/cuda.ts), computed by cuDNN with the group count set on the
// convolution descriptor, the algorithm found once per input shape and cached
// in the plan, and the workspace shared and grown on demand (native/cudnn).
// Available only when the addon was built with cuDNN's headers and the library
// loads at run time with a matching version.

import { loadCudaBinding } from '../binding';
import type { Backend, BackendStatus } from './backend';
import { makeCudaBackend } from './cuda';

export function cudnnStatus(): BackendStatus {
  const r = loadCudaBinding();
  if (!r.binding) return { available: false, reason: r.reason };
  const c = r.probe?.cudnn;
  if (!c) return { available: false, reason: 'the CUDA addon did not report on cuDNN' };
  if (c.loaded) return { available: true };
  return { available: false, reason: c.reason ?? 'cuDNN not found' };
}

export const cudnnBackend: Backend = makeCudaBackend('cudnn', 150, cudnnStatus);
