// Shapes: types, validation, and the convolution shape arithmetic shared by
// every backend (so all backends agree on output sizes and padding order).

import { invalidType, invalidValue } from './errors';

export type Shape = readonly number[];
export type Shape1 = readonly [number];
export type Shape2 = readonly [number, number];
export type Shape3 = readonly [number, number, number];
/** [N, C, H, W] for activations, [K, C/groups, kH, kW] for conv weights. */
export type Shape4 = readonly [number, number, number, number];
/** Maps a literal shape tuple to a readonly tuple of numbers of the same length. */
export type ShapeOf<S extends readonly number[]> = { readonly [I in keyof S]: number };

/** Largest element count of one tensor: 2^31 - 1. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

export function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Validates a shape and returns its element count. Every dimension is
 * positive except the first (the batch), which may be 0: an empty batch flows
 * through the ops and models as an empty result, as in torch.
 */
export function checkShape(shape: unknown, param = 'shape'): number {
  if (!Array.isArray(shape)) throw invalidType(param, 'an array of positive integers', shape);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    const what = i === 0 ? 'a non-negative integer' : 'a positive integer';
    if (typeof d !== 'number') throw invalidType(`${param}[${i}]`, what, d);
    if (!(i === 0 ? isNonNegativeInteger(d) : isPositiveInteger(d))) throw invalidValue(`${param}[${i}]`, what, d);
    size *= d;
    if (size > MAX_ELEMENTS) {
      throw new RangeError(
        `Expected at most ${MAX_ELEMENTS} elements for ${param} but received a shape of [${shape.join(', ')}] ` +
          `(${shape.reduce((a: number, b: number) => a * b, 1)} elements)`,
      );
    }
  }
  return size;
}

export function sizeOf(shape: Shape): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Fully resolved convolution hyperparameters. */
export interface ConvSpec {
  groups: number;
  stride: [number, number];
  dilation: [number, number];
  /** [top, left, bottom, right], the ONNX `pads` order. */
  padding: [number, number, number, number];
  activation: 'none' | 'relu';
}

export type Pair = number | readonly [number, number];
/**
 * A number (all four sides), [h, w] (top = bottom = h, left = right = w), four
 * explicit sides [top, left, bottom, right] (the ONNX `pads` order), or an
 * object naming the sides.
 */
export type Padding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | { readonly top: number; readonly left: number; readonly bottom: number; readonly right: number };

export function resolvePair(v: unknown, param: string, def: number): [number, number] {
  if (v === undefined) return [def, def];
  if (typeof v === 'number') {
    if (!isPositiveInteger(v)) throw invalidValue(param, 'a positive integer', v);
    return [v, v];
  }
  if (Array.isArray(v)) {
    if (v.length !== 2) throw invalidValue(param, 'a positive integer or a pair [h, w]', v);
    for (let i = 0; i < 2; i++) {
      if (typeof v[i] !== 'number') throw invalidType(`${param}[${i}]`, 'a positive integer', v[i]);
      if (!isPositiveInteger(v[i])) throw invalidValue(`${param}[${i}]`, 'a positive integer', v[i]);
    }
    return [v[0], v[1]];
  }
  throw invalidType(param, 'a positive integer or a pair [h, w]', v);
}

export function resolvePadding(v: unknown, param = 'padding'): [number, number, number, number] {
  const check = (x: unknown, name: string): number => {
    if (typeof x !== 'number') throw invalidType(name, 'a non-negative integer', x);
    if (!isNonNegativeInteger(x)) throw invalidValue(name, 'a non-negative integer', x);
    return x;
  };
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') {
    check(v, param);
    return [v, v, v, v];
  }
  if (Array.isArray(v)) {
    if (v.length === 2) {
      const h = check(v[0], `${param}[0]`),
        w = check(v[1], `${param}[1]`);
      return [h, w, h, w];
    }
    if (v.length === 4) {
      return [check(v[0], `${param}[0]`), check(v[1], `${param}[1]`), check(v[2], `${param}[2]`), check(v[3], `${param}[3]`)];
    }
    throw invalidValue(param, 'a number, [h, w] or [top, left, bottom, right]', v);
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return [
      check(o.top, `${param}.top`),
      check(o.left, `${param}.left`),
      check(o.bottom, `${param}.bottom`),
      check(o.right, `${param}.right`),
    ];
  }
  throw invalidType(param, 'a number, [h, w] or [top, left, bottom, right]', v);
}

/**
 * Output shape of a convolution; throws a RangeError naming the parameter when
 * the (dilated) kernel does not fit in the padded input.
 */
export function convOutputShape(
  input: Shape4,
  weight: Shape4,
  spec: Pick<ConvSpec, 'stride' | 'dilation' | 'padding'>,
): [number, number, number, number] {
  const [N, , H, W] = input;
  const [K, , R, S] = weight;
  const [sh, sw] = spec.stride;
  const [dh, dw] = spec.dilation;
  const [pt, pl, pb, pr] = spec.padding;
  const effH = dh * (R - 1) + 1,
    effW = dw * (S - 1) + 1;
  if (H + pt + pb < effH) {
    throw new RangeError(
      `Expected a kernel height (with dilation) of at most the padded input height ${H + pt + pb} for weight.shape[2] but received ${R} (dilated to ${effH})`,
    );
  }
  if (W + pl + pr < effW) {
    throw new RangeError(
      `Expected a kernel width (with dilation) of at most the padded input width ${W + pl + pr} for weight.shape[3] but received ${S} (dilated to ${effW})`,
    );
  }
  const P = Math.floor((H + pt + pb - effH) / sh) + 1;
  const Q = Math.floor((W + pl + pr - effW) / sw) + 1;
  const out: [number, number, number, number] = [N, K, P, Q];
  if (N * K * P * Q > MAX_ELEMENTS) {
    throw new RangeError(`Expected at most ${MAX_ELEMENTS} output elements for input but received an output shape of [${out.join(', ')}]`);
  }
  return out;
}
