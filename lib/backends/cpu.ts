// The native CPU backend: a thin adapter over the addon's ConvPlan.

import { cpuBinding, loadCpuBinding } from '../binding';
import { backendUnavailable, callAsync, rethrowNative } from '../errors';
import type { ConvSpec, Shape4 } from '../shape';
import { sameBits, type Tensor } from '../tensor';
import type { Backend, PrepareOptions, PreparedConv2d } from './backend';
import { cpuNetworkLowering } from './cpu_network';

export const cpuBackend: Backend = {
  name: 'cpu',
  priority: 100,
  device: 'cpu',
  status() {
    const r = loadCpuBinding();
    return r.binding ? { available: true } : { available: false, reason: r.reason };
  },
  prepareConv2d(weight: Tensor<Shape4>, bias: Tensor | null, spec: ConvSpec, options: PrepareOptions = {}): PreparedConv2d {
    const b = cpuBinding();
    if (!b) throw backendUnavailable(`The cpu backend is unavailable: ${loadCpuBinding().reason}`);
    let plan;
    try {
      plan = new b.ConvPlan(weight.dataSync(), weight.shape.slice(), bias ? bias.dataSync() : null, {
        groups: spec.groups,
        stride: spec.stride,
        dilation: spec.dilation,
        padding: spec.padding,
        activation: spec.activation,
        ...(options.isa ? { isa: options.isa as 'scalar' | 'avx2' | 'avx512' } : {}),
        ...(options.impl ? { impl: options.impl } : {}),
        ...(options.algorithm ? { algorithm: options.algorithm } : {}),
      });
    } catch (err) {
      rethrowNative(err, 'conv2d (cpu)');
    }
    const p = plan;
    return {
      info: () => ({ backend: 'cpu', ...p.info() }),
      run(x, out, residual) {
        try {
          p.run(x.dataSync(), x.shape.slice(), out.dataSync(), residual ? residual.dataSync() : null);
        } catch (err) {
          rethrowNative(err, 'conv2d (cpu)');
        }
      },
      runAsync(x, out, residual) {
        return callAsync(
          () => p.runAsync(x.dataSync(), x.shape.slice(), out.dataSync(), residual ? residual.dataSync() : null),
          'conv2d (cpu)',
        );
      },
      // Frees the packed weights now; a runAsync in flight keeps them until it settles.
      dispose: () => p.dispose(),
    };
  },
  sameValues(a: Float32Array, b: Float32Array): boolean {
    const native = cpuBinding();
    if (native?.sameBytes) return native.sameBytes(a, b);
    return sameBits(a, b);
  },
  prepareNetwork: (net, options) =>
    cpuNetworkLowering(net, { mode: options.mode, algorithm: options.algorithm ?? 'auto', layout: options.layout, tune: options.tune }),
};
