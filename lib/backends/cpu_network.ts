// The CPU lowering of a network plan (lib/models/plan.ts). Weights: one
// native ConvPlan per folded conv, packed once per model. Per input shape the
// plan's arena slots become one Float32Array (each slot 64-byte aligned) and
// every activation an exact-size view of its slot, so a forward allocates only
// the logits it returns. Activations stay NCHW between layers.
// Two ways to run a lowered plan, both off the event loop and on the same
// kernels and buffers (so they agree bit for bit):
//   'network' (default): the plan's steps become one native layer program
//     (Network.addProgram, native/napi/network_wrap.cc), run as one
//     worker-thread job: no event-loop round trip per layer;
//   'layer': each step is its own async native call, for diagnosing a layer.

import { cpuBinding, loadCpuBinding } from '../binding';
import { ERROR_CODES, ResnextError, rethrowNative } from '../errors';
import type { ConvPlanInfo, NetworkLowering, NetworkProgram } from '../models/engine';
import type { FusedNetwork, NetworkPlan, PlanStep } from '../models/plan';
import type { NativeConvPlan, NativeCpuBinding, NativeNetwork, NativeNetworkConv, NativeNetworkStep } from '../native_types';
import { HostStorage, Tensor } from '../tensor';

export type ForwardMode = 'network' | 'layer';

export interface CpuNetworkOptions {
  /** Default 'network'. */
  mode?: ForwardMode;
  algorithm: 'auto' | 'direct';
}

/** Slot offsets in floats: 16 floats = 64 bytes, one cache line and one AVX-512 vector. */
const ALIGN = 16;

function convSpec(c: FusedNetwork['convs'][number], algorithm: 'auto' | 'direct'): NativeNetworkConv {
  const d = c.def;
  return {
    weight: c.weight.dataSync(),
    shape: [...c.weight.shape],
    bias: c.bias.dataSync(),
    groups: d.groups,
    stride: [d.stride, d.stride],
    padding: [d.padding, d.padding, d.padding, d.padding],
    activation: c.activation,
    algorithm,
  };
}

/** One Float32Array for the plan's slots; views[v] is value v's exact-size view (null for the network input). */
function bindArena(plan: NetworkPlan): (Float32Array | null)[] {
  const offsets: number[] = [];
  let total = 0;
  for (const n of plan.slots) {
    offsets.push(total);
    total += Math.ceil(n / ALIGN) * ALIGN;
  }
  const arena = new Float32Array(Math.max(total, 1));
  return plan.values.map((v) => (v.slot < 0 ? null : arena.subarray(offsets[v.slot], offsets[v.slot] + v.size)));
}

function unsupported(s: PlanStep): never {
  throw new ResnextError('ERR_RESNEXT_INTERNAL', `the cpu lowering has no step '${s.op}' for this plan`);
}

export function cpuNetworkLowering(net: FusedNetwork, options: CpuNetworkOptions): NetworkLowering {
  const b = cpuBinding();
  if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The cpu backend is unavailable: ${loadCpuBinding().reason}`);
  return (options.mode ?? 'network') === 'network' ? programLowering(b, net, options.algorithm) : layerLowering(b, net, options.algorithm);
}

function toInfo(net: FusedNetwork, i: number, p: { impl: string; isa: string; packedBytes: number }): ConvPlanInfo {
  return { name: net.convs[i].def.name, backend: 'cpu', impl: p.impl, detail: p.isa, dtype: 'float32', packedBytes: p.packedBytes };
}

function logitsOf(plan: NetworkPlan, views: (Float32Array | null)[]): Tensor {
  // A copy, so the caller's result survives the next forward.
  return new Tensor(new HostStorage(views[plan.output]!.slice()), [...plan.values[plan.output].shape]);
}

function programLowering(b: NativeCpuBinding, net: FusedNetwork, algorithm: 'auto' | 'direct'): NetworkLowering {
  if (!b.Network) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, 'The cpu addon lacks the native Network class');
  let network: NativeNetwork;
  try {
    network = new b.Network(net.convs.map((c) => convSpec(c, algorithm)));
  } catch (err) {
    rethrowNative(err, 'network (cpu)');
  }
  const fcWeight = net.fc.weight.dataSync(),
    fcBias = net.fc.bias.dataSync();
  return {
    layout: 'NCHW',
    lower(plan): NetworkProgram {
      const views = bindArena(plan);
      const shape = (v: number): number[] => [...plan.values[v].shape];
      const steps = plan.steps.map((s): NativeNetworkStep => {
        const input = views[s.x],
          output = views[s.y]!;
        switch (s.op) {
          case 'conv':
            return {
              op: 'conv',
              conv: s.conv,
              input,
              inputShape: shape(s.x),
              output,
              residual: s.residual === null ? null : views[s.residual],
            };
          case 'maxPool2d':
            return {
              op: 'maxPool2d',
              input,
              inputShape: shape(s.x),
              output,
              params: [s.kernel, s.kernel, s.stride, s.stride, s.padding, s.padding],
            };
          case 'globalAvgPool':
            return { op: 'globalAvgPool', input, inputShape: shape(s.x), output };
          case 'linear':
            return {
              op: 'linear',
              input,
              inputShape: shape(s.x),
              weight: fcWeight,
              weightShape: [...net.fc.weight.shape],
              bias: fcBias,
              output,
            };
          default:
            return unsupported(s);
        }
      });
      let id: number;
      try {
        id = network.addProgram(steps, plan.values[plan.input].size);
      } catch (err) {
        rethrowNative(err, 'network (cpu)');
      }
      return {
        async run(x) {
          try {
            await network.runAsync(id, x.dataSync());
          } catch (err) {
            rethrowNative(err, 'forward (cpu)');
          }
          return logitsOf(plan, views);
        },
        dispose: () => network.dropProgram(id),
      };
    },
    info: () => network.info().map((p, i) => toInfo(net, i, p)),
    dispose: () => network.dispose(),
  };
}

function layerLowering(b: NativeCpuBinding, net: FusedNetwork, algorithm: 'auto' | 'direct'): NetworkLowering {
  const { maxPool2dAsync, globalAvgPoolAsync, linearAsync } = b;
  if (!maxPool2dAsync || !globalAvgPoolAsync || !linearAsync)
    throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, 'The cpu addon lacks the native pooling and linear layers');
  let plans: NativeConvPlan[];
  try {
    plans = net.convs.map((c) => {
      const s = convSpec(c, algorithm);
      return new b.ConvPlan(s.weight, s.shape, s.bias, { ...s, dilation: [1, 1] });
    });
  } catch (err) {
    rethrowNative(err, 'network (cpu)');
  }
  const fcWeight = net.fc.weight.dataSync(),
    fcBias = net.fc.bias.dataSync();
  return {
    layout: 'NCHW',
    lower(plan): NetworkProgram {
      const views = bindArena(plan);
      const shape = (v: number): number[] => [...plan.values[v].shape];
      return {
        async run(x) {
          const at = (v: number): Float32Array => views[v] ?? x.dataSync();
          try {
            for (const s of plan.steps) {
              const out = views[s.y]!;
              if (s.op === 'conv') await plans[s.conv].runAsync(at(s.x), shape(s.x), out, s.residual === null ? null : at(s.residual));
              else if (s.op === 'maxPool2d')
                await maxPool2dAsync.call(b, at(s.x), shape(s.x), out, [s.kernel, s.kernel, s.stride, s.stride, s.padding, s.padding]);
              else if (s.op === 'globalAvgPool') await globalAvgPoolAsync.call(b, at(s.x), shape(s.x), out);
              else if (s.op === 'linear') await linearAsync.call(b, at(s.x), shape(s.x), fcWeight, [...net.fc.weight.shape], fcBias, out);
              else unsupported(s);
            }
          } catch (err) {
            rethrowNative(err, 'forward (cpu)');
          }
          return logitsOf(plan, views);
        },
        dispose: () => {},
      };
    },
    info: () => plans.map((p, i) => toInfo(net, i, p.info())),
    // ConvPlan frees its packed weights at garbage collection (it has no dispose).
    dispose: () => {},
  };
}
