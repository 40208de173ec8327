// 2-D max pooling over NCHW: out[n][c][p][q] = max over the kernel window of
// x[n][c][p*sh - top + i][q*sw - left + j], padding never wins (as torch:
// padded positions are -inf). Output [N, C, P, Q] with torch's lengths
// (pool2d_window.ts: padding per side, ceilMode). Kernels per backend in
// lib/backends/layer_kernels.ts: the CPU backend runs the addon's kernel
// (async on a worker thread in maxPool2dAsync) when the window is what it
// computes (symmetric padding, floor-mode lengths), else the reference loop.
// A batch of 0 gives an empty result without a native call.

import { runLayer, runLayerAsync } from '../backends/layer_kernels';
import type { Pair, Padding } from '../shape';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';
import { type PoolWindow, resolvePoolWindow } from './pool2d_window';

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
}

function bind(x: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, KEYS);
  const win = resolvePoolWindow(xt, o, { kernel: 3, stride: 2, padding: 1 });
  const backend = resolveHostBackend(o.backend, 'maxPool2d');
  const [N, C] = xt.shape;
  const out = bindOut(o.out, [N, C, win.P, win.Q], [xt]);
  return { x: xt, out, backend, win };
}

/** The kernels' arguments: params [kh, kw, sh, sw, top, left]; out's shape gives the lengths. */
function args(b: Bound) {
  const { kh, kw, sh, sw, pad } = b.win;
  return { x: b.x, out: b.out, params: [kh, kw, sh, sw, pad[0], pad[1]] };
}

export function maxPool2d(x: Tensor, options?: MaxPool2dOptions): Tensor {
  const b = bind(x, options);
  runLayer('maxPool2d', b.backend, args(b));
  return b.out;
}

/** maxPool2d off the event loop on the CPU backend; x must not be written until it settles. */
export async function maxPool2dAsync(x: Tensor, options?: MaxPool2dOptions): Promise<Tensor> {
  const b = bind(x, options);
  await runLayerAsync('maxPool2d', b.backend, args(b));
  return b.out;
}
