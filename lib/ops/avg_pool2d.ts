// 2-D average pooling over NCHW with torch's semantics (F.avg_pool2d):
// out[n][c][p][q] = sum of x over the window clipped to the input, divided by
// the window clipped to the padded input (countIncludePad true, the default)
// or by the number of input elements it covers (false). Window geometry and
// output lengths (padding per side, ceilMode) as in pool2d_window.ts; output
// [N, C, P, Q]. Kernels per backend in lib/backends/layer_kernels.ts: the CPU
// backend runs the addon's (native/cpu/avg_pool2d.cc, separable float32 sums;
// async on a worker thread in avgPool2dAsync); the reference is a plain loop
// with float64 sums. A batch of 0 gives an empty result without a native call.

import { runLayer, runLayerAsync } from '../backends/layer_kernels';
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

/** The kernels' arguments: params [kh, kw, sh, sw, top, left, bottom, right]; out's shape gives the lengths. */
function args(b: Bound) {
  const { kh, kw, sh, sw, pad } = b.win;
  return { x: b.x, out: b.out, params: [kh, kw, sh, sw, ...pad], includePad: b.includePad };
}

/** Average pooling (see the file comment). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const b = bind(x, options);
  runLayer('avgPool2d', b.backend, args(b));
  return b.out;
}

/** avgPool2d off the event loop on the CPU backend; x must not be written until it settles. */
export async function avgPool2dAsync(x: Tensor, options: AvgPool2dOptions): Promise<Tensor> {
  const b = bind(x, options);
  await runLayerAsync('avgPool2d', b.backend, args(b));
  return b.out;
}
