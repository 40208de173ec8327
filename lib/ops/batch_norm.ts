// Inference BatchNorm over channels: y = (x - mean) / sqrt(var + eps) * weight + bias
// with the running statistics (eps 1e-5 as torchvision). Layout x [N, C, ...]
// (NCHW or [N, C]); parameters [C]. Elementwise with per-channel constants, so
// the CPU backend is a float32 typed-array loop (models fold BN into the
// preceding conv and never run this on the hot path).

import { invalidValue } from '../errors';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, type LayerOptions, resolveHostBackend } from './op_backend';

export interface BatchNormParams {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  /** Default 1e-5. */
  eps?: number;
}

export function batchNorm(x: Tensor, params: BatchNormParams, options?: LayerOptions): Tensor {
  const xt = checkTensor(x, 'x');
  const o = checkLayerOptions(options, ['backend', 'out']);
  if (xt.shape.length < 2) throw invalidValue('x.shape', 'a shape [N, C, ...] of rank 2 or more', xt.shape);
  const C = xt.shape[1];
  const get = (key: 'weight' | 'bias' | 'runningMean' | 'runningVar'): Float32Array => {
    const t = checkTensor(params?.[key], `params.${key}`);
    if (t.shape.length !== 1 || t.shape[0] !== C) throw invalidValue(`params.${key}.shape`, `[${C}] (one value per channel)`, t.shape);
    return t.dataSync();
  };
  const w = get('weight'),
    b = get('bias'),
    mean = get('runningMean'),
    v = get('runningVar');
  const eps = params.eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    throw invalidValue('params.eps', 'a finite non-negative number', eps);
  const backend = resolveHostBackend(o.backend, 'batchNorm');
  const out = bindOut(o.out, [...xt.shape], []); // elementwise: out may be x (in place)
  const xd = xt.dataSync(),
    od = out.dataSync();
  const N = xt.shape[0];
  const inner = xt.size / (N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * inner;
      if (backend === 'reference') {
        const inv = 1 / Math.sqrt(v[c] + eps);
        for (let i = 0; i < inner; i++) od[base + i] = (xd[base + i] - mean[c]) * inv * w[c] + b[c];
      } else {
        const scale = Math.fround(w[c] / Math.sqrt(v[c] + eps));
        const shift = Math.fround(b[c] - mean[c] * scale);
        for (let i = 0; i < inner; i++) od[base + i] = xd[base + i] * scale + shift;
      }
    }
  }
  return out;
}
