// The CPU backend's inference-layer kernels: max pool, global average pool
// and linear run the addon's kernels (native/cpu/*.cc; the async variants on
// a worker thread); batchNorm is a float32 loop with the per-channel scale and
// shift rounded to float32 (models fold BN into the conv and never run it);
// relu and add are the reference loops, exact in float32. Layout NCHW.

import { cpuBinding, loadCpuBinding } from '../binding';
import { ERROR_CODES, ResnextError, rethrowNative } from '../errors';
import type { NativeCpuBinding } from '../native_types';
import type { LayerKernelArgs, LayerKernels } from './layer_kernels';
import { addLoop, mapChannels, maxPool2dLoop, reluLoop } from './reference/layers';

function native(): NativeCpuBinding {
  const b = cpuBinding();
  if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The cpu backend is unavailable: ${loadCpuBinding().reason}`);
  return b;
}

/** A native layer call with errors re-thrown from JS (sync and async alike). */
function call(op: string, f: () => void): void {
  try {
    f();
  } catch (err) {
    rethrowNative(err, `${op} (cpu)`);
  }
}

async function callAsync(op: string, f: () => Promise<void> | undefined): Promise<void> {
  try {
    await f();
  } catch (err) {
    rethrowNative(err, `${op} (cpu)`);
  }
}

function batchNormF32(args: LayerKernelArgs['batchNorm']): void {
  const { weight: w, bias: b, mean, variance: v, eps } = args;
  mapChannels(args, (c) => {
    const scale = Math.fround(w[c] / Math.sqrt(v[c] + eps));
    const shift = Math.fround(b[c] - mean[c] * scale);
    return (x) => x * scale + shift;
  });
}

/**
 * The native max pool pads symmetrically (top = bottom, left = right) with floor-mode lengths: it computes
 * the window when those lengths are out's. Other windows (asymmetric padding, ceil mode adding a row or
 * column) give the same values through the reference loop, which is exact in float32.
 */
function nativeMaxPoolFits({ x, out, params }: LayerKernelArgs['maxPool2d']): boolean {
  const [kh, kw, sh, sw, pt, pl] = params;
  return (
    out.shape[2] === Math.floor((x.shape[2] + 2 * pt - kh) / sh) + 1 && out.shape[3] === Math.floor((x.shape[3] + 2 * pl - kw) / sw) + 1
  );
}

/** The native avg pool's params: [kh, kw, sh, sw, top, left, bottom, right, P, Q, includePad]. */
function avgPoolParams({ out, params, includePad }: LayerKernelArgs['avgPool2d']): number[] {
  return [...params, out.shape[2], out.shape[3], includePad ? 1 : 0];
}

export const cpuLayerKernels: LayerKernels = {
  maxPool2d: {
    run: (a) =>
      nativeMaxPoolFits(a)
        ? call('maxPool2d', () => native().maxPool2d!(a.x.dataSync(), [...a.x.shape], a.out.dataSync(), [...a.params]))
        : maxPool2dLoop(a),
    runAsync: async (a) =>
      nativeMaxPoolFits(a)
        ? callAsync('maxPool2d', () => native().maxPool2dAsync!(a.x.dataSync(), [...a.x.shape], a.out.dataSync(), [...a.params]))
        : maxPool2dLoop(a),
  },
  avgPool2d: {
    run: (a) => call('avgPool2d', () => native().avgPool2d!(a.x.dataSync(), [...a.x.shape], a.out.dataSync(), avgPoolParams(a))),
    runAsync: (a) =>
      callAsync('avgPool2d', () => native().avgPool2dAsync!(a.x.dataSync(), [...a.x.shape], a.out.dataSync(), avgPoolParams(a))),
  },
  globalAvgPool: {
    run: ({ x, out }) => call('globalAvgPool', () => native().globalAvgPool!(x.dataSync(), [...x.shape], out.dataSync())),
    runAsync: ({ x, out }) => callAsync('globalAvgPool', () => native().globalAvgPoolAsync!(x.dataSync(), [...x.shape], out.dataSync())),
  },
  linear: {
    run: ({ x, w, bias, out }) =>
      call('linear', () =>
        native().linear!(x.dataSync(), [...x.shape], w.dataSync(), [...w.shape], bias ? bias.dataSync() : null, out.dataSync()),
      ),
    runAsync: ({ x, w, bias, out }) =>
      callAsync('linear', () =>
        native().linearAsync!(x.dataSync(), [...x.shape], w.dataSync(), [...w.shape], bias ? bias.dataSync() : null, out.dataSync()),
      ),
  },
  batchNorm: { run: batchNormF32 },
  relu: { run: reluLoop },
  add: { run: addLoop },
};
