// 2-D max pooling over NCHW: out[n][c][p][q] = max over the kernel window of
// x[n][c][p*sh - top + i][q*sw - left + j], padding never wins (as torch:
// padded positions are -inf). Output [N, C, P, Q] with torch's lengths
// (pool2d_window.ts: padding per side, ceilMode). The CPU backend runs the
// addon's kernel (native/cpu/max_pool2d.cc, async on a worker thread in
// maxPool2dAsync) when the window is what it computes (symmetric padding,
// floor-mode lengths); other windows, and the reference, run a plain loop.
// A batch of 0 gives an empty result without a native call.

import { cpuBinding } from '../binding';
import { rethrowNative } from '../errors';
import type { Pair, Padding } from '../shape';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';
import { poolOutputLength, type PoolWindow, resolvePoolWindow } from './pool2d_window';

export interface MaxPool2dOptions extends LayerOptions {
  /** Default 3. */
  kernelSize?: Pair;
  /** Older name of kernelSize. */
  kernel?: Pair;
  /** Default 2. */
  stride?: Pair;
  /** Default 1. A number, [h, w] or [top, left, bottom, right]; each side at most half the kernel, as in torch. */
  padding?: Padding;
  /** Round output lengths up instead of down (torch's ceil_mode). Default false. */
  ceilMode?: boolean;
}

const KEYS = ['backend', 'out', 'kernel', 'kernelSize', 'stride', 'padding', 'ceilMode'];

interface Bound {
  x: Tensor;
  out: Tensor;
  backend: 'reference' | 'cpu';
  win: PoolWindow;
  /** The native kernel's params, when it computes this window. */
  native: [number, number, number, number, number, number] | null;
}

function bind(x: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, KEYS);
  const win = resolvePoolWindow(xt, o, { kernel: 3, stride: 2, padding: 1 });
  const backend = resolveHostBackend(o.backend, 'maxPool2d');
  const [N, C, H, W] = xt.shape;
  const out = bindOut(o.out, [N, C, win.P, win.Q], [xt]);
  const [pt, pl, pb, pr] = win.pad;
  // The native kernel pads symmetrically and uses floor-mode lengths.
  const nativeFits =
    pt === pb &&
    pl === pr &&
    win.P === poolOutputLength(H, win.kh, win.sh, pt, pt, false) &&
    win.Q === poolOutputLength(W, win.kw, win.sw, pl, pl, false);
  return { x: xt, out, backend, win, native: nativeFits ? [win.kh, win.kw, win.sh, win.sw, pt, pl] : null };
}

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
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - pad[1];
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

function nativeFor(b: Bound) {
  return b.backend === 'cpu' && b.native && b.out.dataSync().length > 0 ? cpuBinding() : null;
}

export function maxPool2d(x: Tensor, options?: MaxPool2dOptions): Tensor {
  const b = bind(x, options);
  const nb = nativeFor(b);
  if (nb?.maxPool2d) {
    try {
      nb.maxPool2d(b.x.dataSync(), [...b.x.shape], b.out.dataSync(), b.native!);
    } catch (err) {
      rethrowNative(err, 'maxPool2d (cpu)');
    }
  } else loop(b);
  return b.out;
}

/** maxPool2d off the event loop on the CPU backend; x must not be written until it settles. */
export async function maxPool2dAsync(x: Tensor, options?: MaxPool2dOptions): Promise<Tensor> {
  const b = bind(x, options);
  const nb = nativeFor(b);
  if (nb?.maxPool2dAsync) await nb.maxPool2dAsync(b.x.dataSync(), [...b.x.shape], b.out.dataSync(), b.native!);
  else loop(b);
  return b.out;
}
