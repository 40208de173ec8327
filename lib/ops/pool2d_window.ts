// Window geometry shared by maxPool2d and avgPool2d, with PyTorch's rules:
// kernelSize and stride are positive (a number or [h, w]); padding is
// non-negative (a number, [h, w] or four sides [top, left, bottom, right])
// and at most half the kernel on each side; the output length per axis is
//   floor((L + padBefore + padAfter - k + (ceilMode ? s - 1 : 0)) / s) + 1,
// less one in ceil mode when the last window would start past the input and
// its leading padding (torch's pooling_output_shape).

import { invalidType, invalidValue } from '../errors';
import { MAX_ELEMENTS, resolvePadding, resolvePair } from '../shape';
import type { Tensor } from '../tensor';

export interface PoolWindow {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** [top, left, bottom, right] */
  pad: [number, number, number, number];
  ceilMode: boolean;
  P: number;
  Q: number;
}

/** Output length along one axis (torch's pooling_output_shape with separate leading and trailing padding). */
export function poolOutputLength(L: number, k: number, s: number, padBefore: number, padAfter: number, ceilMode: boolean): number {
  let out = Math.floor((L + padBefore + padAfter - k + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= L + padBefore) out--;
  return out;
}

export function resolvePoolWindow(
  x: Tensor,
  o: Record<string, unknown>,
  defaults: { kernel?: number; stride?: 'kernel' | number; padding: number },
): PoolWindow {
  if (o.kernel !== undefined && o.kernelSize !== undefined)
    throw invalidValue('options.kernel', 'kernelSize or kernel (the same option), not both', o.kernel);
  const kernelParam = o.kernelSize !== undefined || o.kernel === undefined ? 'kernelSize' : 'kernel';
  const kernel = o.kernelSize ?? o.kernel;
  if (kernel === undefined && defaults.kernel === undefined) throw invalidType('kernelSize', 'a positive integer or [h, w]', kernel);
  const [kh, kw] = resolvePair(kernel, kernelParam, defaults.kernel ?? 1);
  const [sh, sw] =
    defaults.stride === 'kernel' && o.stride === undefined ? [kh, kw] : resolvePair(o.stride, 'stride', defaults.stride as number);
  const pad = o.padding === undefined ? resolvePadding(defaults.padding) : resolvePadding(o.padding, 'padding');
  if (2 * pad[0] > kh || 2 * pad[2] > kh || 2 * pad[1] > kw || 2 * pad[3] > kw)
    throw invalidValue('padding', `at most half the kernel (${kh}x${kw}) on each side`, o.padding);
  if (o.ceilMode !== undefined && typeof o.ceilMode !== 'boolean') throw invalidType('ceilMode', 'a boolean', o.ceilMode);
  const ceilMode = o.ceilMode === true;
  const [N, C, H, W] = x.shape;
  const P = poolOutputLength(H, kh, sh, pad[0], pad[2], ceilMode);
  const Q = poolOutputLength(W, kw, sw, pad[1], pad[3], ceilMode);
  if (P < 1 || Q < 1)
    throw new RangeError(
      `Expected an input of at least the kernel size ${kh}x${kw} (with padding) for x.shape but received [${x.shape.join(', ')}]`,
    );
  if (N * C * P * Q > MAX_ELEMENTS) throw invalidValue('x.shape', `an output of at most ${MAX_ELEMENTS} elements`, x.shape);
  return { kh, kw, sh, sw, pad, ceilMode, P, Q };
}
