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

export function foldBatchNorm(
  weight: Tensor,
  bn: { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor; eps?: number },
): FoldedConv {
  const [K, Cg, R, S] = weight.shape as [number, number, number, number];
  const eps = bn.eps ?? 1e-5;
  const w = weight.dataSync();
  const g = bn.weight.dataSync(),
    beta = bn.bias.dataSync(),
    mean = bn.runningMean.dataSync(),
    v = bn.runningVar.dataSync();
  const per = Cg * R * S;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    const s = g[k] / Math.sqrt(v[k] + eps);
    for (let i = k * per; i < (k + 1) * per; i++) fw[i] = w[i] * s;
    fb[k] = beta[k] - mean[k] * s;
  }
  return {
    weight: new Tensor(new HostStorage(fw), [K, Cg, R, S] as const),
    bias: new Tensor(new HostStorage(fb), [K] as const),
  };
}
