// Global average pooling: [N, C, H, W] -> [N, C, 1, 1] (torch's
// AdaptiveAvgPool2d(1)), the mean of each channel plane. The reference sums
// in float64; kernels per backend in lib/backends/layer_kernels.ts (the CPU
// backend runs the addon's, on a worker thread in globalAvgPoolAsync).

import { runLayer, runLayerAsync } from '../backends/layer_kernels';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';

interface Bound {
  x: Tensor;
  out: Tensor;
  backend: 'reference' | 'cpu';
}

function bind(x: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, ['backend', 'out']);
  const backend = resolveHostBackend(o.backend, 'globalAvgPool');
  const out = bindOut(o.out, [xt.shape[0], xt.shape[1], 1, 1], [xt]);
  return { x: xt, out, backend };
}

export function globalAvgPool(x: Tensor, options?: LayerOptions): Tensor {
  const b = bind(x, options);
  runLayer('globalAvgPool', b.backend, b);
  return b.out;
}

/** globalAvgPool off the event loop on the CPU backend; x must not be written until it settles. */
export async function globalAvgPoolAsync(x: Tensor, options?: LayerOptions): Promise<Tensor> {
  const b = bind(x, options);
  await runLayerAsync('globalAvgPool', b.backend, b);
  return b.out;
}
