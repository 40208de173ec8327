// The inference layers' kernels per (op, backend): dispatch is a table, as
// conv's is (Backend.prepareConv2d), so the ops in lib/ops validate and bind
// their arguments and never reach a backend's native code themselves. A
// missing (op, backend) entry is an op the backend does not implement.
// Tensors here are host tensors, NCHW (or [N, C] / [N, in] for linear),
// already checked and bound by the op (out has the exact output shape).

import { ERROR_CODES, ResnextError } from '../errors';
import type { Tensor } from '../tensor';
import type { BackendName } from './backend';
import { cpuLayerKernels } from './cpu_layers';
import { referenceLayerKernels } from './reference/layers';

export interface LayerKernelArgs {
  /** params: [kh, kw, sh, sw, top, left]; out's shape gives the lengths (any bottom/right padding, ceil mode); padded positions never win. */
  maxPool2d: { x: Tensor; out: Tensor; params: readonly number[] };
  /**
   * params: [kh, kw, sh, sw, top, left, bottom, right]; out's shape gives the lengths. The divisor is the
   * window clipped to the padded input (includePad) or to the input.
   */
  avgPool2d: { x: Tensor; out: Tensor; params: readonly number[]; includePad: boolean };
  /** out [N, C, 1, 1] (or [N, C]): the mean of each channel plane. */
  globalAvgPool: { x: Tensor; out: Tensor };
  /** out [N, out] = x [N, in] * weight [out, in]^T + bias [out]. */
  linear: { x: Tensor; w: Tensor; bias: Tensor | null; out: Tensor };
  /** Per channel: (x - mean) / sqrt(var + eps) * weight + bias; out may be x. */
  batchNorm: { x: Tensor; out: Tensor; weight: Float32Array; bias: Float32Array; mean: Float32Array; variance: Float32Array; eps: number };
  /** out may be x. */
  relu: { x: Tensor; out: Tensor };
  /** out = act(a + b); out may be a or b. */
  add: { a: Tensor; b: Tensor; out: Tensor; activation: 'none' | 'relu' };
}

export type LayerOp = keyof LayerKernelArgs;

export interface LayerKernel<A> {
  run(args: A): void;
  /** Off the event loop; absent where the backend's kernel is synchronous. */
  runAsync?(args: A): Promise<void>;
}

export type LayerKernels = { [Op in LayerOp]?: LayerKernel<LayerKernelArgs[Op]> };

const TABLE: Partial<Record<BackendName, LayerKernels>> = {
  reference: referenceLayerKernels,
  cpu: cpuLayerKernels,
};

/** The kernel of op on backend; an Error naming both when the backend has none. */
export function layerKernel<Op extends LayerOp>(op: Op, backend: BackendName): LayerKernel<LayerKernelArgs[Op]> {
  const k = TABLE[backend]?.[op] as LayerKernel<LayerKernelArgs[Op]> | undefined;
  if (!k) throw new ResnextError(ERROR_CODES.UNSUPPORTED, `${op} is not implemented on the ${backend} backend`);
  return k;
}

export function runLayer<Op extends LayerOp>(op: Op, backend: BackendName, args: LayerKernelArgs[Op]): void {
  const k = layerKernel(op, backend);
  // An empty output (a batch of 0) has nothing to compute: no kernel runs.
  if (args.out.size > 0) k.run(args);
}

/** The async kernel where the backend has one, else the synchronous one. */
export async function runLayerAsync<Op extends LayerOp>(op: Op, backend: BackendName, args: LayerKernelArgs[Op]): Promise<void> {
  const k = layerKernel(op, backend);
  if (args.out.size === 0) return;
  if (k.runAsync) await k.runAsync(args);
  else k.run(args);
}
