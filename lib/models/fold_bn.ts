// BatchNorm folding: conv (no bias) followed by inference BN equals one conv
// with weight'[k] = weight[k] * s[k] and bias'[k] = beta[k] - mean[k] * s[k],
// s[k] = gamma[k] / sqrt(var[k] + eps). Computed in float64, rounded once to
// float32, so the folded conv matches conv-then-BN up to float rounding.
// Layouts: weight [K, C/G, kH, kW]; BN parameters [K].

import { HostStorage, Tensor } from '../tensor';

export interface FoldedConv {
  weight: Tensor<readonly [number, number, number, number]>;
  bias: Tensor<readonly [number]>;
}

type BatchNormParams = { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor; eps?: number };

/** The fold's per-output-channel scale s[k] (float64) and folded bias (float32), without touching the weights. */
export function batchNormScale(bn: BatchNormParams): { scale: Float64Array; bias: Tensor<readonly [number]> } {
  const eps = bn.eps ?? 1e-5;
  const g = bn.weight.dataSync(),
    beta = bn.bias.dataSync(),
    mean = bn.runningMean.dataSync(),
    v = bn.runningVar.dataSync();
  const K = g.length;
  const scale = new Float64Array(K);
  const fb = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    const s = g[k] / Math.sqrt(v[k] + eps);
    scale[k] = s;
    fb[k] = beta[k] - mean[k] * s;
  }
  return { scale, bias: new Tensor(new HostStorage(fb), [K] as const) };
}

/** weight[k][...] * scale[k], each product in float64 rounded once to float32 (native packing does the same). */
export function scaleWeight(weight: Tensor, scale: Float64Array): Tensor<readonly [number, number, number, number]> {
  const [K, Cg, R, S] = weight.shape as [number, number, number, number];
  const w = weight.dataSync();
  const per = Cg * R * S;
  const fw = new Float32Array(w.length);
  for (let k = 0; k < K; k++) {
    const s = scale[k];
    for (let i = k * per; i < (k + 1) * per; i++) fw[i] = w[i] * s;
  }
  return new Tensor(new HostStorage(fw), [K, Cg, R, S] as const);
}

export function foldBatchNorm(weight: Tensor, bn: BatchNormParams): FoldedConv {
  const { scale, bias } = batchNormScale(bn);
  return { weight: scaleWeight(weight, scale), bias };
}
