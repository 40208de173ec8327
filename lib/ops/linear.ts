// Fully connected layer: y[n][o] = bias[o] + sum_i x[n][i] * weight[o][i]
// (torch's nn.Linear layout: weight [out, in]). x [N, in], y [N, out]. The
// reference accumulates in float64; the CPU backend runs the addon's kernel
// (native/cpu/linear.cc), on a worker thread in linearAsync.

import { cpuBinding } from '../binding';
import { invalidValue, rethrowNative } from '../errors';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';

interface Bound {
  x: Tensor;
  w: Tensor;
  bias: Tensor | null;
  out: Tensor;
  backend: 'reference' | 'cpu';
}

function bind(x: unknown, weight: unknown, bias: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 2, 'x', '[N, in]');
  const wt = checkTensor(weight, 'weight');
  checkRank(wt, 2, 'weight', '[out, in]');
  if (wt.shape[1] !== xt.shape[1]) throw invalidValue('weight.shape', `[out, ${xt.shape[1]}] (x.shape[1] inputs)`, wt.shape);
  let bt: Tensor | null = null;
  if (bias !== null && bias !== undefined) {
    bt = checkTensor(bias, 'bias');
    if (bt.shape.length !== 1 || bt.shape[0] !== wt.shape[0])
      throw invalidValue('bias.shape', `[${wt.shape[0]}] (one per output)`, bt.shape);
  }
  const o = checkLayerOptions(options, ['backend', 'out']);
  const backend = resolveHostBackend(o.backend, 'linear');
  const out = bindOut(o.out, [xt.shape[0], wt.shape[0]], bt ? [xt, wt, bt] : [xt, wt]);
  return { x: xt, w: wt, bias: bt, out, backend };
}

function loop(b: Bound): void {
  const [N, IN] = b.x.shape;
  const OUT = b.w.shape[0];
  const xd = b.x.dataSync(),
    wd = b.w.dataSync(),
    bd = b.bias ? b.bias.dataSync() : null,
    od = b.out.dataSync();
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let s = bd ? bd[o] : 0;
      for (let i = 0; i < IN; i++) s += xd[n * IN + i] * wd[o * IN + i];
      od[n * OUT + o] = s;
    }
  }
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, options?: LayerOptions): Tensor {
  const b = bind(x, weight, bias, options);
  // An empty batch (or no outputs) has nothing to compute: no native call.
  const nb = b.backend === 'cpu' && b.out.size > 0 ? cpuBinding() : null;
  if (nb?.linear) {
    try {
      nb.linear(b.x.dataSync(), [...b.x.shape], b.w.dataSync(), [...b.w.shape], b.bias ? b.bias.dataSync() : null, b.out.dataSync());
    } catch (err) {
      rethrowNative(err, 'linear (cpu)');
    }
  } else loop(b);
  return b.out;
}

/** linear off the event loop on the CPU backend; inputs must not be written until it settles. */
export async function linearAsync(x: Tensor, weight: Tensor, bias: Tensor | null, options?: LayerOptions): Promise<Tensor> {
  const b = bind(x, weight, bias, options);
  const nb = b.backend === 'cpu' && b.out.size > 0 ? cpuBinding() : null;
  if (nb?.linearAsync) {
    await nb.linearAsync(
      b.x.dataSync(),
      [...b.x.shape],
      b.w.dataSync(),
      [...b.w.shape],
      b.bias ? b.bias.dataSync() : null,
      b.out.dataSync(),
    );
  } else loop(b);
  return b.out;
}
