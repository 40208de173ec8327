// Residual add: y = a + b (same shapes), optionally followed by ReLU (the end
// of a bottleneck). Elementwise; kernels per backend in
// lib/backends/layer_kernels.ts (float64 addition rounded once is float32
// addition, so the host backends agree). Models fuse it into the last conv.

import { runLayer } from '../backends/layer_kernels';
import { invalidValue } from '../errors';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, type LayerOptions, resolveHostBackend } from './op_backend';

export interface AddOptions extends LayerOptions {
  /** Applied after the sum. Default 'none'. */
  activation?: 'none' | 'relu';
}

export function add(a: Tensor, b: Tensor, options?: AddOptions): Tensor {
  const at = checkTensor(a, 'a');
  const bt = checkTensor(b, 'b');
  const o = checkLayerOptions(options, ['backend', 'out', 'activation']);
  if (at.shape.length !== bt.shape.length || at.shape.some((d, i) => d !== bt.shape[i])) {
    throw invalidValue('b.shape', `a's shape [${at.shape.join(', ')}]`, bt.shape);
  }
  const act = o.activation ?? 'none';
  if (act !== 'none' && act !== 'relu') throw invalidValue('activation', "'none' or 'relu'", act);
  const backend = resolveHostBackend(o.backend, 'add');
  const out = bindOut(o.out, [...at.shape], []);
  runLayer('add', backend, { a: at, b: bt, out, activation: act });
  return out;
}
