// 2-D average pooling over NCHW with torch's semantics (F.avg_pool2d):
// out[n][c][p][q] = sum of x over the window clipped to the input, divided by
// the window clipped to the padded input (countIncludePad true, the default)
// or by the number of input elements it covers (false). Window geometry and
// output lengths (padding per side, ceilMode) as in pool2d_window.ts; output
// [N, C, P, Q]. Both host backends run this loop (the reference in float64,
// 'cpu' in float32): the networks here pool with maxPool2d and
// globalAvgPool, so average pooling has no native kernel.

import { invalidType } from '../errors';
import { checkTensor, type Tensor } from '../tensor';
import type { Pair, Padding } from '../shape';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';
import { type PoolWindow, resolvePoolWindow } from './pool2d_window';

export interface AvgPool2dOptions extends LayerOptions {
  /** Required. */
  kernelSize: Pair;
  /** Default: kernelSize. */
  stride?: Pair;
  /** Default 0. A number, [h, w] or [top, left, bottom, right]; each side at most half the kernel. */
  padding?: Padding;
  /** Default false. */
  ceilMode?: boolean;
  /** Count padded positions in the divisor (torch's count_include_pad). Default true. */
  countIncludePad?: boolean;
}

const KEYS = ['backend', 'out', 'kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad'];

function run(x: unknown, options: unknown): Tensor {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, KEYS);
  const win: PoolWindow = resolvePoolWindow(xt, o, { stride: 'kernel', padding: 0 });
  if (o.countIncludePad !== undefined && typeof o.countIncludePad !== 'boolean')
    throw invalidType('countIncludePad', 'a boolean', o.countIncludePad);
  const includePad = o.countIncludePad !== false;
  const backend = resolveHostBackend(o.backend, 'avgPool2d');
  const [N, C, H, W] = xt.shape;
  const { P, Q, kh, kw, sh, sw, pad } = win;
  const out = bindOut(o.out, [N, C, P, Q], [xt]);
  const xd = xt.dataSync(),
    od = out.dataSync();
  // float64 sums on the reference; float32 rounding per add on 'cpu', as a float32 kernel would.
  const acc = backend === 'reference' ? (s: number) => s : Math.fround;
  for (let nc = 0; nc < N * C; nc++) {
    const ib = nc * H * W,
      ob = nc * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * sh - pad[0];
      const h1 = Math.min(h0 + kh, H + pad[2]);
      const hs = Math.max(h0, 0),
        he = Math.min(h1, H);
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - pad[1];
        const w1 = Math.min(w0 + kw, W + pad[3]);
        const ws = Math.max(w0, 0),
          we = Math.min(w1, W);
        let s = 0;
        for (let i = hs; i < he; i++) for (let j = ws; j < we; j++) s = acc(s + xd[ib + i * W + j]);
        const count = includePad ? (h1 - h0) * (w1 - w0) : (he - hs) * (we - ws);
        od[ob + p * Q + q] = s / count;
      }
    }
  }
  return out;
}

/** Average pooling (see the file comment). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return run(x, options);
}

/** avgPool2d as a promise, like the other layers' async forms (computed before it is returned). */
export async function avgPool2dAsync(x: Tensor, options: AvgPool2dOptions): Promise<Tensor> {
  return run(x, options);
}
