// ReLU: y = max(x, 0), elementwise over any shape. A typed-array loop on both
// host backends (exact, so they agree bit for bit); in models it is fused into
// the conv epilogue instead. NaN propagates, as in torch.

import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, type LayerOptions, resolveHostBackend } from './op_backend';

export function relu(x: Tensor, options?: LayerOptions): Tensor {
  const xt = checkTensor(x, 'x');
  const o = checkLayerOptions(options, ['backend', 'out']);
  resolveHostBackend(o.backend, 'relu');
  const out = bindOut(o.out, [...xt.shape], []);
  const xd = xt.dataSync(),
    od = out.dataSync();
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i];
    od[i] = v > 0 || v !== v ? v : 0;
  }
  return out;
}
