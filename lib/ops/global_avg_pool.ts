// Global average pooling: [N, C, H, W] -> [N, C, 1, 1] (torch's
// AdaptiveAvgPool2d(1)), the mean of each channel plane. The reference sums
// in float64; the CPU backend runs the addon's kernel
// (native/cpu/global_avg_pool.cc), on a worker thread in globalAvgPoolAsync.

import { cpuBinding } from '../binding';
import { rethrowNative } from '../errors';
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

function loop(b: Bound): void {
  const [N, C, H, W] = b.x.shape;
  const hw = H * W;
  const xd = b.x.dataSync(),
    od = b.out.dataSync();
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    for (let i = nc * hw; i < (nc + 1) * hw; i++) s += xd[i];
    od[nc] = s / hw;
  }
}

export function globalAvgPool(x: Tensor, options?: LayerOptions): Tensor {
  const b = bind(x, options);
  // An empty batch has nothing to compute: no native call.
  const nb = b.backend === 'cpu' && b.out.size > 0 ? cpuBinding() : null;
  if (nb?.globalAvgPool) {
    try {
      nb.globalAvgPool(b.x.dataSync(), [...b.x.shape], b.out.dataSync());
    } catch (err) {
      rethrowNative(err, 'globalAvgPool (cpu)');
    }
  } else loop(b);
  return b.out;
}

/** globalAvgPool off the event loop on the CPU backend; x must not be written until it settles. */
export async function globalAvgPoolAsync(x: Tensor, options?: LayerOptions): Promise<Tensor> {
  const b = bind(x, options);
  const nb = b.backend === 'cpu' && b.out.size > 0 ? cpuBinding() : null;
  if (nb?.globalAvgPoolAsync) await nb.globalAvgPoolAsync(b.x.dataSync(), [...b.x.shape], b.out.dataSync());
  else loop(b);
  return b.out;
}
