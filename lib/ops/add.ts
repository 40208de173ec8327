// Residual add: y = a + b (same shapes), optionally followed by ReLU (the end
// of a bottleneck). Elementwise; the reference adds in float64 and rounds once
// (identical to float32 addition, which is exactly rounded), the CPU backend
// is a float32 typed-array loop. Models fuse it into the last conv instead.

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
  resolveHostBackend(o.backend, 'add');
  const out = bindOut(o.out, [...at.shape], []);
  const ad = at.dataSync(),
    bd = bt.dataSync(),
    od = out.dataSync();
  if (act === 'relu') {
    for (let i = 0; i < ad.length; i++) {
      const v = ad[i] + bd[i];
      od[i] = v > 0 || v !== v ? v : 0;
    }
  } else {
    for (let i = 0; i < ad.length; i++) od[i] = ad[i] + bd[i];
  }
  return out;
}
