// 2-D max pooling over NCHW: out[n][c][p][q] = max over the kernel window of
// x[n][c][p*sh - pt + i][q*sw - pl + j], padding never wins (as torch: padded
// positions are -inf). Output [N, C, P, Q], P = floor((H + 2*ph - kh)/sh) + 1.
// Kernels per backend in lib/backends/layer_kernels.ts (the CPU backend runs
// the addon's, async on a worker thread in maxPool2dAsync).

import { runLayer, runLayerAsync } from '../backends/layer_kernels';
import { resolvePair, type Pair } from '../shape';
import { checkTensor, type Tensor } from '../tensor';
import { bindOut, checkLayerOptions, checkRank, type LayerOptions, resolveHostBackend } from './op_backend';

export interface MaxPool2dOptions extends LayerOptions {
  /** Default 3. */
  kernel?: Pair;
  /** Default 2. */
  stride?: Pair;
  /** Default 1 (symmetric). Must be at most half the kernel, as in torch. */
  padding?: Pair | 0;
}

const KEYS = ['backend', 'out', 'kernel', 'stride', 'padding'];

interface Bound {
  x: Tensor;
  out: Tensor;
  backend: 'reference' | 'cpu';
  params: [number, number, number, number, number, number];
}

function bind(x: unknown, options: unknown): Bound {
  const xt = checkTensor(x, 'x');
  checkRank(xt, 4, 'x', '[N, C, H, W]');
  const o = checkLayerOptions(options, KEYS);
  const [kh, kw] = resolvePair(o.kernel, 'kernel', 3);
  const [sh, sw] = resolvePair(o.stride, 'stride', 2);
  let ph = 1,
    pw = 1;
  if (o.padding === 0) ph = pw = 0;
  else if (o.padding !== undefined) {
    const pad = o.padding;
    if (typeof pad === 'number') {
      if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`Expected a non-negative integer for padding but received ${pad}`);
      ph = pw = pad;
    } else [ph, pw] = resolvePair(pad, 'padding', 1);
  }
  if (2 * ph > kh || 2 * pw > kw)
    throw new RangeError(`Expected padding of at most half the kernel (${kh}x${kw}) for padding but received [${ph}, ${pw}]`);
  const [N, C, H, W] = xt.shape;
  const P = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Q = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (P < 1 || Q < 1)
    throw new RangeError(
      `Expected an input of at least the kernel size ${kh}x${kw} (with padding) for x.shape but received [${xt.shape.join(', ')}]`,
    );
  const backend = resolveHostBackend(o.backend, 'maxPool2d');
  const out = bindOut(o.out, [N, C, P, Q], [xt]);
  return { x: xt, out, backend, params: [kh, kw, sh, sw, ph, pw] };
}

export function maxPool2d(x: Tensor, options?: MaxPool2dOptions): Tensor {
  const b = bind(x, options);
  runLayer('maxPool2d', b.backend, b);
  return b.out;
}

/** maxPool2d off the event loop on the CPU backend; x must not be written until it settles. */
export async function maxPool2dAsync(x: Tensor, options?: MaxPool2dOptions): Promise<Tensor> {
  const b = bind(x, options);
  await runLayerAsync('maxPool2d', b.backend, b);
  return b.out;
}
