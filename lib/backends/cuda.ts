// The GPU backends over the CUDA addon: 'cuda' runs our grouped-conv kernels
// (native/cuda), 'cudnn' (lib/backends/cudnn.ts) runs cuDNN; both take tensors
// on device 'cuda', keep results there, and enqueue work on one CUDA stream:
// run() returns once the work is queued, runAsync() resolves when the GPU has
// finished (waited for off the event loop), and reading a result waits for it.
// Weights are read once at plan creation and packed on the GPU in the plan's
// element type (the weight tensor's dtype).

import { cudaBinding, loadCudaBinding } from '../binding';
import { CudaStorage } from '../cuda_storage';
import { DTYPE_CODES, type NativeCudaConvPlan, type NativeDeviceBuffer } from '../cuda_types';
import { backendUnavailable, invalidValue, rethrowNative } from '../errors';
import type { ConvSpec, Shape4 } from '../shape';
import type { Tensor } from '../tensor';
import type { Backend, BackendStatus, PrepareOptions, PreparedConv2d } from './backend';
import { cudaNetworkLowering } from './cuda_network';

/** Whether the CUDA addon is loaded and sees a usable GPU, with the reason when not. */
export function cudaStatus(): BackendStatus {
  const r = loadCudaBinding();
  return r.binding ? { available: true } : { available: false, reason: r.reason };
}

/** The plan computes in the weight's dtype: inputs and outputs must match it. */
function checkDTypes(dtype: Tensor['dtype'], x: Tensor, out: Tensor, residual: Tensor | null): void {
  if (x.dtype !== dtype) throw invalidValue('x.dtype', `'${dtype}' (the weight's dtype)`, x.dtype);
  if (out.dtype !== dtype) throw invalidValue('out.dtype', `'${dtype}' (the weight's dtype)`, out.dtype);
  if (residual && residual.dtype !== dtype) throw invalidValue('residual.dtype', `'${dtype}' (the weight's dtype)`, residual.dtype);
}

function storageOf(t: Tensor, param: string): CudaStorage {
  const s = t.storage;
  if (!(s instanceof CudaStorage))
    throw new RangeError(`Expected a tensor on device 'cuda' for ${param} but received one on '${t.device}'`);
  return s;
}

/** Runs `fn` with NHWC device buffers for x and residual, disposing temporaries after enqueueing. */
function withBuffers<T>(
  x: Tensor<Shape4>,
  out: Tensor<Shape4>,
  residual: Tensor<Shape4> | null,
  fn: (x: NativeDeviceBuffer, out: NativeDeviceBuffer, residual: NativeDeviceBuffer | null) => T,
): T {
  const xs = storageOf(x, 'x').nhwcFor(x.shape);
  const os = storageOf(out, 'out');
  const temps: NativeDeviceBuffer[] = [];
  if (xs.temporary) temps.push(xs.buffer);
  try {
    if (!os.nhwc || !os.nhwc.every((d, i) => d === out.shape[i])) {
      throw new RangeError(`Expected an out tensor stored for its shape [${out.shape.join(', ')}] (not a reshaped view) for out`);
    }
    let rb: NativeDeviceBuffer | null = null;
    if (residual) {
      const rs = storageOf(residual, 'residual').nhwcFor(residual.shape);
      if (rs.temporary) temps.push(rs.buffer);
      rb = rs.buffer;
    }
    return fn(xs.buffer, os.buffer, rb);
  } finally {
    // Frees are ordered on the stream after the queued kernel: safe right away.
    for (const t of temps) t.dispose();
  }
}

export function makeCudaBackend(name: 'cuda' | 'cudnn', priority: number, status: () => BackendStatus): Backend {
  const context = `conv2d (${name})`;
  return {
    name,
    priority,
    device: 'cuda',
    status,
    prepareConv2d(weight: Tensor<Shape4>, bias: Tensor | null, spec: ConvSpec, options: PrepareOptions = {}): PreparedConv2d {
      if (name === 'cudnn' && options.algorithm === 'direct') {
        throw invalidValue(
          'algorithm',
          "'auto' on the cudnn backend (cuDNN chooses its own algorithm, Winograd and FFT included; backend 'cuda' is always direct)",
          'direct',
        );
      }
      const s = status();
      const b = cudaBinding();
      if (!s.available || !b) throw backendUnavailable(`The ${name} backend is unavailable: ${s.reason}`);
      let plan: NativeCudaConvPlan;
      try {
        plan = new b.CudaConvPlan(weight.dataSync(), weight.shape.slice(), bias ? bias.dataSync() : null, {
          groups: spec.groups,
          stride: spec.stride,
          dilation: spec.dilation,
          padding: spec.padding,
          activation: spec.activation,
          dtype: DTYPE_CODES[weight.dtype],
          impl: name,
          ...(options.impl ? { kernel: options.impl } : {}),
        });
      } catch (err) {
        rethrowNative(err, context);
      }
      const p = plan;
      const dtype = weight.dtype;
      return {
        info: () => ({ backend: name, ...p.info() }),
        run(x, out, residual) {
          checkDTypes(dtype, x, out, residual);
          try {
            withBuffers(x, out, residual, (xb, ob, rb) => p.run(xb, x.shape.slice(), ob, rb));
          } catch (err) {
            rethrowNative(err, context);
          }
        },
        async runAsync(x, out, residual) {
          checkDTypes(dtype, x, out, residual);
          let done: Promise<void>;
          try {
            done = withBuffers(x, out, residual, (xb, ob, rb) => p.runAsync(xb, x.shape.slice(), ob, rb));
          } catch (err) {
            rethrowNative(err, context);
          }
          await done;
        },
        dispose: () => p.dispose(),
      };
    },
    prepareNetwork: (net, options) =>
      cudaNetworkLowering(net, { backend: name, dtype: options.dtype ?? 'float32', denseConvs: options.denseConvs ?? name }),
  };
}

export const cudaBackend: Backend = makeCudaBackend('cuda', 200, cudaStatus);

export interface CudaMemoryReport {
  available: boolean;
  reason?: string;
  /** Device bytes held by live tensors, plans and workspaces. */
  bytesInUse: number;
  /** Highest bytesInUse since load or the last resetPeakMemory(). */
  peakBytes: number;
  allocations: number;
}

/** Device memory in use by this package on the GPU. */
export function memory(): CudaMemoryReport {
  const b = cudaBinding();
  if (!b) return { available: false, reason: loadCudaBinding().reason, bytesInUse: 0, peakBytes: 0, allocations: 0 };
  return { available: true, ...b.memory() };
}

export function resetPeakMemory(): void {
  cudaBinding()?.resetPeakMemory();
}

/** Resolves when all GPU work queued so far is done, without blocking the event loop. */
export async function synchronize(): Promise<void> {
  const b = cudaBinding();
  if (b) await b.synchronizeAsync();
}

/** What the CUDA addon found: driver, devices, cuDNN; and why anything is unusable. */
export function cudaInfo(): { available: boolean; reason?: string; addon?: string; probe: ReturnType<typeof loadCudaBinding>['probe'] } {
  const r = loadCudaBinding();
  return { available: r.binding !== null, ...(r.reason ? { reason: r.reason } : {}), ...(r.path ? { addon: r.path } : {}), probe: r.probe };
}
