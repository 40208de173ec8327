// 2-D average pooling over NCHW with torch's semantics (F.avg_pool2d):
// out[n][c][p][q] = sum of x over the window clipped to the input, divided by
// the window clipped to the padded input (countIncludePad true, the default)
// or by the number of input elements it covers (false). Window geometry and
// output lengths (padding per side, ceilMode) as in pool2d_window.ts; output
// [N, C, P, Q]. The CPU backend runs the addon's kernel
// (native/cpu/avg_pool2d.cc, separable float32 sums; async on a worker thread
// in avgPool2dAsync); the reference is a plain loop with float64 sums. A batch
// of 0 gives an empty result without a native call.

import { cpuBinding } from '../binding';
import { invalidType, rethrowNative } from '../errors';
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

interface Bound {
  x: Tensor;
  out: Tensor;
  backend: 'reference' | 'cpu';
  win: PoolWindow;
  includePad: boolean;
}

function bind(x: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, KEYS);
  const win = resolvePoolWindow(xt, o, { stride: 'kernel', padding: 0 });
  if (o.countIncludePad !== undefined && typeof o.countIncludePad !== 'boolean')
    throw invalidType('countIncludePad', 'a boolean', o.countIncludePad);
  const backend = resolveHostBackend(o.backend, 'avgPool2d');
  const [N, C] = xt.shape;
  const out = bindOut(o.out, [N, C, win.P, win.Q], [xt]);
  return { x: xt, out, backend, win, includePad: o.countIncludePad !== false };
}

/** The reference: float64 sums, one division per output. */
function loop(b: Bound): void {
  const [N, C, H, W] = b.x.shape;
  const { P, Q, kh, kw, sh, sw, pad } = b.win;
  const xd = b.x.dataSync(),
    od = b.out.dataSync();
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
        for (let i = hs; i < he; i++) for (let j = ws; j < we; j++) s += xd[ib + i * W + j];
        od[ob + p * Q + q] = s / (b.includePad ? (h1 - h0) * (w1 - w0) : (he - hs) * (we - ws));
      }
    }
  }
}

function nativeArgs(b: Bound): number[] {
  const { kh, kw, sh, sw, pad, P, Q } = b.win;
  return [kh, kw, sh, sw, ...pad, P, Q, b.includePad ? 1 : 0];
}

const nativeFor = (b: Bound) => (b.backend === 'cpu' && b.out.size > 0 ? cpuBinding() : null);

/** Average pooling (see the file comment). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const b = bind(x, options);
  const nb = nativeFor(b);
  if (nb?.avgPool2d) {
    try {
      nb.avgPool2d(b.x.dataSync(), [...b.x.shape], b.out.dataSync(), nativeArgs(b));
    } catch (err) {
      rethrowNative(err, 'avgPool2d (cpu)');
    }
  } else loop(b);
  return b.out;
}

/** avgPool2d off the event loop on the CPU backend; x must not be written until it settles. */
export async function avgPool2dAsync(x: Tensor, options: AvgPool2dOptions): Promise<Tensor> {
  const b = bind(x, options);
  const nb = nativeFor(b);
  if (nb?.avgPool2dAsync) await nb.avgPool2dAsync(b.x.dataSync(), [...b.x.shape], b.out.dataSync(), nativeArgs(b));
  else loop(b);
  return b.out;
}
