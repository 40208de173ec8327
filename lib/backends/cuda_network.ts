// The GPU lowering of a network plan (lib/models/plan.ts), for the 'cuda'
// (our kernels) and 'cudnn' backends. Weights: one CudaConvPlan per folded
// conv, uploaded and packed once in the engine's dtype (float32, float16 or
// bfloat16; float32 accumulation); fc's weight and bias once as float32. The
// ungrouped convs run where denseConvs says ('cuda' or 'cudnn'), the grouped
// ones on the backend's own kernels.
//
// Per input shape every arena slot is one device buffer and every activation
// an exact-size view of its slot, so a forward allocates nothing on the device
// and activations never leave it. Activations are NHWC: the plan's input
// reorder is the upload (or the device-to-device copy) of x into its slot;
// every other step is an enqueue-only closure on the addon's stream, and the
// forward waits once, off the event loop, for the logits. With { graph: true }
// the closures are captured once per input shape into a CUDA graph (after one
// uncaptured run that sizes scratch and lets cuDNN choose its algorithms) and
// replayed with one launch, which is what batch-1 latency needs.

import { cudaBinding, loadCudaBinding } from '../binding';
import { CudaStorage } from '../cuda_storage';
import { DTYPE_CODES, type NativeCudaConvPlan, type NativeCudaGraph, type NativeDeviceBuffer } from '../cuda_types';
import { ERROR_CODES, ResnextError, rethrowNative } from '../errors';
import type { ConvPlanInfo, NetworkLowering, NetworkProgram } from '../models/engine';
import { foldedWeight, type FusedNetwork, type NetworkPlan } from '../models/plan';
import { type DType, HostStorage, Tensor } from '../tensor';

export type CudaModelBackend = 'cuda' | 'cudnn';

/**
 * Backend 'cuda' only: who runs the ungrouped convs (the 7x7 stem, the 1x1
 * convs, the shortcuts), which our grouped kernels are not tuned for: 'cuda'
 * (ours, the default) or 'cudnn'. The grouped 3x3 convs always run ours.
 */
export type DenseConvImpl = 'cuda' | 'cudnn';

export interface CudaNetworkOptions {
  backend: CudaModelBackend;
  dtype: DType;
  denseConvs: DenseConvImpl;
}

export function cudaNetworkLowering(net: FusedNetwork, options: CudaNetworkOptions): NetworkLowering {
  const b = cudaBinding();
  const { backend, dtype, denseConvs } = options;
  if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The ${backend} backend is unavailable: ${loadCudaBinding().reason}`);
  const code = DTYPE_CODES[dtype];
  const made: { dispose(): void }[] = [];
  let plans: NativeCudaConvPlan[];
  let fcWeight: NativeDeviceBuffer, fcBias: NativeDeviceBuffer;
  try {
    plans = net.convs.map((c) => {
      const d = c.def;
      try {
        const w = foldedWeight(c);
        const p = new b.CudaConvPlan(w.dataSync(), [...w.shape], c.bias.dataSync(), {
          groups: d.groups,
          stride: [d.stride, d.stride],
          dilation: [1, 1],
          padding: [d.padding, d.padding, d.padding, d.padding],
          activation: c.activation,
          dtype: code,
          impl: d.groups === 1 ? denseConvs : backend,
        });
        made.push(p);
        return p;
      } catch (err) {
        rethrowNative(err, `${d.name} (${backend}, ${dtype})`);
      }
    });
    const upload = (t: Tensor): NativeDeviceBuffer => {
      const buf = new b.DeviceBuffer(t.size, DTYPE_CODES.float32);
      made.push(buf);
      buf.upload(t.dataSync(), null);
      return buf;
    };
    fcWeight = upload(net.fc.weight);
    fcBias = upload(net.fc.bias);
  } catch (err) {
    // Free what was made before the failure: device memory is not the GC's to manage quickly.
    for (const p of made) p.dispose();
    throw err;
  }
  const numClasses = net.fc.weight.shape[0];

  return {
    layout: 'NHWC',
    lower(plan: NetworkPlan): NetworkProgram {
      const owned: NativeDeviceBuffer[] = [];
      let views: (NativeDeviceBuffer | null)[];
      try {
        for (const n of plan.slots) {
          owned.push(new b.DeviceBuffer(Math.max(n, 1), code));
        }
        views = plan.values.map((v) => (v.slot < 0 ? null : new b.DeviceBuffer(v.size, code, owned[v.slot])));
      } catch (err) {
        for (const o of owned) o.dispose();
        rethrowNative(err, `forward (${backend}, ${dtype})`);
      }
      const buf = (v: number): NativeDeviceBuffer => views[v]!;
      // The input reorder (NCHW x -> NHWC slot) happens in run(); everything after it is enqueued.
      let input = -1;
      const steps: (() => void)[] = [];
      for (const s of plan.steps) {
        const xShape = [...plan.values[s.x].shape];
        if (s.op === 'reorder' && s.x === plan.input) input = s.y;
        else if (s.op === 'conv') {
          const p = plans[s.conv],
            x = buf(s.x),
            y = buf(s.y),
            r = s.residual === null ? null : buf(s.residual);
          steps.push(() => p.run(x, xShape, y, r));
        } else if (s.op === 'maxPool2d') {
          const x = buf(s.x),
            y = buf(s.y),
            params = [s.kernel, s.kernel, s.stride, s.stride, s.padding, s.padding];
          steps.push(() => b.maxPool2d(x, xShape, y, params));
        } else if (s.op === 'globalAvgPool') {
          const x = buf(s.x),
            y = buf(s.y);
          steps.push(() => b.globalAvgPool(x, xShape, y));
        } else if (s.op === 'linear') {
          const x = buf(s.x),
            y = buf(s.y),
            xs = xShape as [number, number];
          steps.push(() => b.linear(x, xs, fcWeight, fcBias, y, numClasses));
        } else {
          for (const o of owned) o.dispose();
          throw new ResnextError('ERR_RESNEXT_INTERNAL', `the ${backend} lowering has no step '${s.op}' from value ${s.x}`);
        }
      }
      if (input < 0) {
        for (const o of owned) o.dispose();
        throw new ResnextError('ERR_RESNEXT_INTERNAL', `the ${backend} lowering needs the plan to reorder its input to NHWC`);
      }
      const inputBuf = buf(input),
        logits = buf(plan.output);
      let warm = false;
      let graph: NativeCudaGraph | null = null;
      const enqueueAll = (): void => {
        for (const f of steps) f();
      };
      const capture = (): NativeCudaGraph => {
        b.beginCapture();
        try {
          enqueueAll();
        } catch (err) {
          try {
            b.endCapture().dispose();
          } catch {
            // The capture is ended either way; the first error is the one to report.
          }
          throw err;
        }
        return b.endCapture();
      };

      return {
        async run(x, options) {
          const shape = [...x.shape] as [number, number, number, number];
          // The input's slot is reused once the stem has read it: write x before every run of the steps.
          const bindInput = (): void => {
            const st = x.storage;
            if (st instanceof CudaStorage) {
              const src = st.nhwcFor(shape);
              try {
                inputBuf.copyFrom(src.buffer, 'convert', null);
              } finally {
                if (src.temporary) src.buffer.dispose();
              }
            } else {
              inputBuf.upload(x.dataSync(), shape);
            }
          };
          try {
            if (!options.graph || !graph) {
              // Without a graph yet, one uncaptured run first: buffers, scratch and cuDNN's
              // algorithm choice must exist before capture (a capture may not allocate).
              if (!options.graph || !warm) {
                bindInput();
                enqueueAll();
                warm = true;
              }
              if (options.graph) graph = capture();
            }
            if (options.graph) {
              bindInput();
              graph!.launch();
            }
          } catch (err) {
            rethrowNative(err, `forward (${backend}, ${dtype})`);
          }
          const outShape = [...plan.values[plan.output].shape];
          if (x.device === 'cuda') {
            // Stays on the GPU, in a tensor of its own (the logits buffer is reused by the next forward).
            const out = CudaStorage.empty(outShape, dtype);
            out.buffer.copyFrom(logits, 'convert', null);
            return new Tensor(out, outShape);
          }
          return new Tensor(new HostStorage(await logits.downloadAsync(null)), outShape);
        },
        dispose() {
          graph?.dispose();
          graph = null;
          // Frees are ordered on the stream after queued work: safe right away.
          for (const o of owned) o.dispose();
        },
      };
    },
    info: (): ConvPlanInfo[] =>
      plans.map((p, i) => {
        const n = p.info();
        return {
          name: net.convs[i].def.name,
          backend,
          impl: n.impl,
          detail: n.detail,
          dtype,
          packedBytes: n.packedBytes,
          layout: 'NHWC',
        };
      }),
    dispose() {
      for (const p of plans) p.dispose();
      fcWeight.dispose();
      fcBias.dispose();
    },
  };
}
