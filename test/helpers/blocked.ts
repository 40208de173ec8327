// The blocked channel layout [N][ceil(C/cb)][H][W][cb] (channels past C zero) on the TS side, for suites
// that call blocked kernels directly: conversion from NCHW and the index of one element.

/** NCHW data of `shape` [N, C, H, W] in the blocked layout with block size cb (padding lanes `pad`, default 0). */
export function toBlockedData(x: ArrayLike<number>, shape: readonly number[], cb: number, pad = 0): Float32Array {
  const [N, C, H, W] = shape;
  const Cb = Math.ceil(C / cb),
    HW = H * W;
  const out = new Float32Array(N * Cb * cb * HW).fill(pad);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) out[blockedIndex(shape, cb, n, c, p)] = x[(n * C + c) * HW + p];
  return out;
}

/** Where channel c, pixel p (h * W + w) of image n lives in the blocked layout. */
export function blockedIndex(shape: readonly number[], cb: number, n: number, c: number, p: number): number {
  const [, C, H, W] = shape;
  const Cb = Math.ceil(C / cb);
  return ((n * Cb + Math.floor(c / cb)) * H * W + p) * cb + (c % cb);
}
