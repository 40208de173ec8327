// The unfused forward: every layer separately (conv without bias, BatchNorm
// with running statistics, ReLU, residual add, pools, linear), synchronously,
// on a host backend. This is the path the reference backend runs (it is the
// oracle the fused CPU path is compared with) and it runs on 'cpu' too, which
// tests BN folding end to end. Slow by design: plans are made per call.
// Layout: x [N, 3, H, W] -> logits [N, numClasses].

import { add } from '../ops/add';
import { batchNorm } from '../ops/batch_norm';
import { conv2dPlan, type ConvAlgorithm } from '../ops/conv2d';
import { flatten } from '../ops/flatten';
import { globalAvgPool } from '../ops/global_avg_pool';
import { linear } from '../ops/linear';
import { maxPool2d } from '../ops/max_pool2d';
import type { HostBackend } from '../ops/op_backend';
import { relu } from '../ops/relu';
import type { Tensor } from '../tensor';
import type { Architecture, ConvDef } from './architecture';

export function convBn(state: Map<string, Tensor>, c: ConvDef, x: Tensor, backend: HostBackend, algorithm: ConvAlgorithm = 'auto'): Tensor {
  const plan = conv2dPlan(state.get(`${c.name}.weight`)!, { stride: c.stride, padding: c.padding, groups: c.groups, backend, algorithm });
  let y: Tensor;
  try {
    y = plan.run(x);
  } finally {
    plan.dispose();
  }
  return batchNorm(
    y,
    {
      weight: state.get(`${c.bn}.weight`)!,
      bias: state.get(`${c.bn}.bias`)!,
      runningMean: state.get(`${c.bn}.running_mean`)!,
      runningVar: state.get(`${c.bn}.running_var`)!,
    },
    { backend, out: y },
  );
}

export function forwardUnfused(
  arch: Architecture,
  state: Map<string, Tensor>,
  x: Tensor,
  backend: HostBackend,
  algorithm: ConvAlgorithm = 'auto',
): Tensor {
  let h = relu(convBn(state, arch.stem, x, backend, algorithm), { backend });
  if (arch.maxPool) h = maxPool2d(h, { backend });
  for (const stage of arch.stages) {
    for (const b of stage) {
      let t = relu(convBn(state, b.conv1, h, backend, algorithm), { backend });
      t = relu(convBn(state, b.conv2, t, backend, algorithm), { backend });
      t = convBn(state, b.conv3, t, backend, algorithm);
      const identity = b.downsample ? convBn(state, b.downsample, h, backend, algorithm) : h;
      h = add(t, identity, { backend, activation: 'relu' });
    }
  }
  const pooled = flatten(globalAvgPool(h, { backend }));
  return linear(pooled, state.get('fc.weight')!, state.get('fc.bias')!, { backend });
}
