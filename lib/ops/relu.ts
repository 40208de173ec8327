// ReLU: y = max(x, 0), elementwise over any shape. Kernels per backend in
// lib/backends/layer_kernels.ts (exact, so the host backends agree bit for
// bit); in models it is fused into the conv epilogue instead. NaN propagates,
// as in torch.

import { runLayer } from '../backends/layer_kernels';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, type LayerOptions, resolveHostBackend } from './op_backend';

export function relu(x: Tensor, options?: LayerOptions): Tensor {
  const xt = checkTensor(x, 'x');
  const o = checkLayerOptions(options, ['backend', 'out']);
  const backend = resolveHostBackend(o.backend, 'relu');
  const out = bindOut(o.out, [...xt.shape], []);
  runLayer('relu', backend, { x: xt, out });
  return out;
}
