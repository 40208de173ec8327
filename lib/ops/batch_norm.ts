// Inference BatchNorm over channels: y = (x - mean) / sqrt(var + eps) * weight + bias
// with the running statistics (eps 1e-5 as torchvision). Layout x [N, C, ...]
// (NCHW or [N, C]); parameters [C]. Kernels per backend in
// lib/backends/layer_kernels.ts (models fold BN into the preceding conv and
// never run this on the hot path).

import { runLayer } from '../backends/layer_kernels';
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
  const weight = get('weight'),
    bias = get('bias'),
    mean = get('runningMean'),
    variance = get('runningVar');
  const eps = params.eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    throw invalidValue('params.eps', 'a finite non-negative number', eps);
  const backend = resolveHostBackend(o.backend, 'batchNorm');
  const out = bindOut(o.out, [...xt.shape], []); // elementwise: out may be x (in place)
  runLayer('batchNorm', backend, { x: xt, out, weight, bias, mean, variance, eps });
  return out;
}
