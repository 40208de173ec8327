// Fully connected layer: y[n][o] = bias[o] + sum_i x[n][i] * weight[o][i]
// (torch's nn.Linear layout: weight [out, in]). x [N, in], y [N, out]. The
// reference accumulates in float64; kernels per backend in
// lib/backends/layer_kernels.ts (the CPU backend runs the addon's, on a
// worker thread in linearAsync).

import { runLayer, runLayerAsync } from '../backends/layer_kernels';
import { invalidValue } from '../errors';
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

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, options?: LayerOptions): Tensor {
  const b = bind(x, weight, bias, options);
  runLayer('linear', b.backend, b);
  return b.out;
}

/** linear off the event loop on the CPU backend; inputs must not be written until it settles. */
export async function linearAsync(x: Tensor, weight: Tensor, bias: Tensor | null, options?: LayerOptions): Promise<Tensor> {
  const b = bind(x, weight, bias, options);
  await runLayerAsync('linear', b.backend, b);
  return b.out;
}
