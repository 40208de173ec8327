// The reference backend's inference-layer kernels: plain loops over NCHW
// typed arrays that accumulate in float64 (JS numbers) and round once on
// store, the oracle the CPU backend's kernels are compared with. relu and add
// are exact in float32 too, so the CPU backend reuses those two.

import type { LayerKernelArgs, LayerKernels } from '../layer_kernels';

export function maxPool2dLoop({ x, out, params }: LayerKernelArgs['maxPool2d']): void {
  const [N, C, H, W] = x.shape;
  const [, , P, Q] = out.shape;
  const [kh, kw, sh, sw, ph, pw] = params;
  const xd = x.dataSync(),
    od = out.dataSync();
  for (let nc = 0; nc < N * C; nc++) {
    const ib = nc * H * W,
      ob = nc * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * sh - ph;
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - pw;
        let m = -Infinity;
        for (let i = Math.max(0, h0); i < Math.min(H, h0 + kh); i++) {
          for (let j = Math.max(0, w0); j < Math.min(W, w0 + kw); j++) {
            const v = xd[ib + i * W + j];
            if (v > m || v !== v) m = v;
          }
        }
        od[ob + p * Q + q] = m;
      }
    }
  }
}

/** float64 sums, one division per output (torch's F.avg_pool2d). */
export function avgPool2dLoop({ x, out, params, includePad }: LayerKernelArgs['avgPool2d']): void {
  const [N, C, H, W] = x.shape;
  const [, , P, Q] = out.shape;
  const [kh, kw, sh, sw, pt, pl, pb, pr] = params;
  const xd = x.dataSync(),
    od = out.dataSync();
  for (let nc = 0; nc < N * C; nc++) {
    const ib = nc * H * W,
      ob = nc * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * sh - pt;
      const h1 = Math.min(h0 + kh, H + pb);
      const hs = Math.max(h0, 0),
        he = Math.min(h1, H);
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - pl;
        const w1 = Math.min(w0 + kw, W + pr);
        const ws = Math.max(w0, 0),
          we = Math.min(w1, W);
        let s = 0;
        for (let i = hs; i < he; i++) for (let j = ws; j < we; j++) s += xd[ib + i * W + j];
        od[ob + p * Q + q] = s / (includePad ? (h1 - h0) * (w1 - w0) : (he - hs) * (we - ws));
      }
    }
  }
}

export function globalAvgPoolLoop({ x, out }: LayerKernelArgs['globalAvgPool']): void {
  const [N, C, H, W] = x.shape;
  const hw = H * W;
  const xd = x.dataSync(),
    od = out.dataSync();
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    for (let i = nc * hw; i < (nc + 1) * hw; i++) s += xd[i];
    od[nc] = s / hw;
  }
}

export function linearLoop({ x, w, bias, out }: LayerKernelArgs['linear']): void {
  const [N, IN] = x.shape;
  const OUT = w.shape[0];
  const xd = x.dataSync(),
    wd = w.dataSync(),
    bd = bias ? bias.dataSync() : null,
    od = out.dataSync();
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let s = bd ? bd[o] : 0;
      for (let i = 0; i < IN; i++) s += xd[n * IN + i] * wd[o * IN + i];
      od[n * OUT + o] = s;
    }
  }
}

/** out[n][c][...] = f(c)(x[n][c][...]) over every channel plane of x [N, C, ...]. */
export function mapChannels(args: LayerKernelArgs['batchNorm'], f: (c: number) => (v: number) => number): void {
  const xd = args.x.dataSync(),
    od = args.out.dataSync();
  const [N, C] = args.x.shape;
  const inner = args.x.size / (N * C);
  for (let nc = 0; nc < N * C; nc++) {
    const g = f(nc % C);
    for (let i = nc * inner; i < (nc + 1) * inner; i++) od[i] = g(xd[i]);
  }
}

function batchNormLoop(args: LayerKernelArgs['batchNorm']): void {
  const { weight: w, bias: b, mean, variance: v, eps } = args;
  mapChannels(args, (c) => {
    const inv = 1 / Math.sqrt(v[c] + eps);
    return (x) => (x - mean[c]) * inv * w[c] + b[c];
  });
}

/** NaN propagates, as in torch. */
export function reluLoop({ x, out }: LayerKernelArgs['relu']): void {
  const xd = x.dataSync(),
    od = out.dataSync();
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i];
    od[i] = v > 0 || v !== v ? v : 0;
  }
}

/** The float64 sum of two float32 values rounds to their float32 sum: exact on both backends. */
export function addLoop({ a, b, out, activation }: LayerKernelArgs['add']): void {
  const ad = a.dataSync(),
    bd = b.dataSync(),
    od = out.dataSync();
  if (activation === 'relu') {
    for (let i = 0; i < ad.length; i++) {
      const v = ad[i] + bd[i];
      od[i] = v > 0 || v !== v ? v : 0;
    }
  } else {
    for (let i = 0; i < ad.length; i++) od[i] = ad[i] + bd[i];
  }
}

export const referenceLayerKernels: LayerKernels = {
  maxPool2d: { run: maxPool2dLoop },
  avgPool2d: { run: avgPool2dLoop },
  globalAvgPool: { run: globalAvgPoolLoop },
  linear: { run: linearLoop },
  batchNorm: { run: batchNormLoop },
  relu: { run: reluLoop },
  add: { run: addLoop },
};
