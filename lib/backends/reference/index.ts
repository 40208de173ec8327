// The reference backend: pure TypeScript, always available, synchronous.
// Slow by design; it is the oracle, not a production path.

import type { ConvSpec, Shape4 } from '../../shape';
import type { Tensor } from '../../tensor';
import type { Backend, PreparedConv2d } from '../backend';
import { referenceConv2d } from './conv2d';

export const referenceBackend: Backend = {
  name: 'reference',
  priority: 1,
  device: 'cpu',
  status: () => ({ available: true }),
  prepareConv2d(weight: Tensor<Shape4>, bias: Tensor | null, spec: ConvSpec): PreparedConv2d {
    // Copies, so later writes to the caller's weight tensor do not change the plan.
    const w = weight.dataSync().slice();
    const wShape = weight.shape;
    const b = bias ? bias.dataSync().slice() : null;
    const run = (x: Tensor<Shape4>, out: Tensor<Shape4>, residual: Tensor<Shape4> | null): void => {
      referenceConv2d({
        x: x.dataSync(),
        xShape: x.shape,
        w,
        wShape,
        bias: b,
        residual: residual ? residual.dataSync() : null,
        out: out.dataSync(),
        outShape: out.shape,
        spec,
      });
    };
    return {
      info: () => ({ backend: 'reference', impl: 'reference_f64' }),
      run,
      runAsync: async (x, out, residual) => run(x, out, residual),
      dispose: () => {},
    };
  },
};
