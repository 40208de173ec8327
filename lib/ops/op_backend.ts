// Backend selection and output binding shared by the inference layers
// (batch_norm, relu, add, max_pool2d, global_avg_pool, linear). Their kernels
// live per (op, backend) in lib/backends/layer_kernels.ts: 'reference'
// (float64 accumulation, the oracle) and 'cpu' (native kernels of the addon
// or float32 typed-array loops).

import type { BackendName } from '../backends/backend';
import { resolveBackend } from '../backends/registry';
import { ERROR_CODES, invalidType, invalidValue, ResnextError } from '../errors';
import { checkTensor, HostStorage, outputArray, Tensor } from '../tensor';

export type HostBackend = 'reference' | 'cpu';

export interface LayerOptions {
  /** Default: the fastest available backend for the input's device. */
  backend?: BackendName;
  /** Write the result here (exact output shape) instead of allocating. */
  out?: Tensor;
}

export function checkLayerOptions(options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType('options', 'an options object', options);
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) throw invalidValue(`options.${k}`, `one of the options ${allowed.join(', ')}`, k);
  }
  return options as Record<string, unknown>;
}

export function resolveHostBackend(name: unknown, op: string): HostBackend {
  const b = resolveBackend(name as string | undefined, 'cpu');
  if (b.name !== 'reference' && b.name !== 'cpu')
    throw new ResnextError(ERROR_CODES.UNSUPPORTED, `${op} is not implemented on the ${b.name} backend`);
  return b.name;
}

export function checkRank(t: Tensor, rank: number, param: string, what: string): void {
  if (t.shape.length !== rank) throw invalidValue(`${param}.shape`, `a rank-${rank} shape ${what}`, t.shape);
}

/** The caller's out tensor (checked: shape, no overlap with inputs) or a new one. */
export function bindOut(out: unknown, shape: number[], inputs: Tensor[]): Tensor {
  if (out === undefined || out === null) return new Tensor(new HostStorage(outputArray(shape.reduce((a, b) => a * b, 1))), shape);
  const o = checkTensor(out, 'out');
  if (o.shape.length !== shape.length || o.shape.some((d, i) => d !== shape[i])) {
    throw invalidValue('out.shape', `the output shape [${shape.join(', ')}]`, o.shape);
  }
  if (o.device !== 'cpu') throw invalidValue('out.device', "'cpu'", o.device);
  for (const t of inputs)
    if (overlaps(o, t))
      throw new RangeError('Expected an out tensor that does not share memory with the inputs but received an overlapping one');
  return o;
}

/** True when two tensors' elements share memory. */
export function overlaps(a: Tensor, b: Tensor): boolean {
  const x = a.dataSync(),
    y = b.dataSync();
  if (x.buffer !== y.buffer) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}
