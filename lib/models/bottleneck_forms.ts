// The ResNeXt bottleneck in the paper's three equivalent forms (Xie et al.,
// 2017, Figure 3), computed from one block's weights (torchvision names, the
// grouped form's layout) so a test can show they agree:
//   (a) C separate paths, each 1x1 (in -> d), 3x3 (d -> d), 1x1 (d -> out),
//       summed; BN3 (per output channel, affine) is applied to the sum.
//   (b) one 1x1 (in -> C*d), split into C paths of d channels at the 3x3,
//       each a dense 3x3, concatenated, then one 1x1 (C*d -> out).
//   (c) one grouped 3x3 convolution with C groups (what the models run).
// Every form ends with the shortcut (identity or projection) and ReLU.
// Layouts: x [N, in, H, W]; result [N, out, P, Q]; weights as torchvision's.

import { add } from '../ops/add';
import { batchNorm } from '../ops/batch_norm';
import { conv2dPlan } from '../ops/conv2d';
import type { HostBackend } from '../ops/op_backend';
import { relu } from '../ops/relu';
import { HostStorage, Tensor } from '../tensor';
import type { BlockDef } from './architecture';
import { convBn } from './forward_unfused';

export type BottleneckForm = 'a' | 'b' | 'c';

function t(data: Float32Array, shape: number[]): Tensor {
  return new Tensor(new HostStorage(data), shape);
}

/** Output channels [k0, k1) of a conv weight [K, ...] (contiguous rows). */
function rows(w: Tensor, k0: number, k1: number): Tensor {
  const per = w.size / w.shape[0];
  return t(w.dataSync().slice(k0 * per, k1 * per), [k1 - k0, ...w.shape.slice(1)]);
}

/** Input channels [c0, c1) of a 1x1 conv weight [K, C, 1, 1]. */
function cols(w: Tensor, c0: number, c1: number): Tensor {
  const [K, C] = w.shape;
  const out = new Float32Array(K * (c1 - c0));
  const d = w.dataSync();
  for (let k = 0; k < K; k++) out.set(d.subarray(k * C + c0, k * C + c1), k * (c1 - c0));
  return t(out, [K, c1 - c0, 1, 1]);
}

/** Channels [c0, c1) of x [N, C, H, W]. */
function channels(x: Tensor, c0: number, c1: number): Tensor {
  const [N, C, H, W] = x.shape;
  const hw = H * W,
    n = c1 - c0;
  const out = new Float32Array(N * n * hw);
  const d = x.dataSync();
  for (let i = 0; i < N; i++) out.set(d.subarray((i * C + c0) * hw, (i * C + c1) * hw), i * n * hw);
  return t(out, [N, n, H, W]);
}

function concatChannels(parts: Tensor[]): Tensor {
  const [N, , H, W] = parts[0].shape;
  const C = parts.reduce((s, p) => s + p.shape[1], 0);
  const hw = H * W;
  const out = new Float32Array(N * C * hw);
  for (let i = 0; i < N; i++) {
    let c = 0;
    for (const p of parts) {
      const n = p.shape[1];
      out.set(p.dataSync().subarray(i * n * hw, (i + 1) * n * hw), (i * C + c) * hw);
      c += n;
    }
  }
  return t(out, [N, C, H, W]);
}

function bn(state: Map<string, Tensor>, name: string, c0?: number, c1?: number) {
  const get = (k: string): Tensor => {
    const v = state.get(`${name}.${k}`)!;
    return c0 === undefined ? v : t(v.dataSync().slice(c0, c1), [c1! - c0]);
  };
  return { weight: get('weight'), bias: get('bias'), runningMean: get('running_mean'), runningVar: get('running_var') };
}

function conv(x: Tensor, w: Tensor, backend: HostBackend, opts: { stride?: number; padding?: number; groups?: number } = {}): Tensor {
  const plan = conv2dPlan(w, { ...opts, backend });
  try {
    return plan.run(x);
  } finally {
    plan.dispose();
  }
}

/** One bottleneck block in form a, b or c, synchronously on a host backend. */
export function bottleneckForward(
  form: BottleneckForm,
  block: BlockDef,
  state: Map<string, Tensor>,
  x: Tensor,
  backend: HostBackend,
): Tensor {
  const C = block.conv2.groups;
  const d = block.width / C;
  const w1 = state.get(`${block.conv1.name}.weight`)!;
  const w2 = state.get(`${block.conv2.name}.weight`)!;
  const w3 = state.get(`${block.conv3.name}.weight`)!;
  const s = block.stride;
  let y: Tensor;
  if (form === 'c') {
    let h = relu(convBn(state, block.conv1, x, backend), { backend });
    h = relu(convBn(state, block.conv2, h, backend), { backend });
    y = convBn(state, block.conv3, h, backend);
  } else if (form === 'b') {
    const h = relu(convBn(state, block.conv1, x, backend), { backend });
    const paths: Tensor[] = [];
    for (let g = 0; g < C; g++)
      paths.push(conv(channels(h, g * d, (g + 1) * d), rows(w2, g * d, (g + 1) * d), backend, { stride: s, padding: 1 }));
    const h2 = relu(batchNorm(concatChannels(paths), bn(state, block.conv2.bn), { backend }), { backend });
    y = convBn(state, block.conv3, h2, backend);
  } else {
    let sum: Tensor | null = null;
    for (let g = 0; g < C; g++) {
      const [c0, c1] = [g * d, (g + 1) * d];
      let h = relu(batchNorm(conv(x, rows(w1, c0, c1), backend), bn(state, block.conv1.bn, c0, c1), { backend }), { backend });
      h = relu(batchNorm(conv(h, rows(w2, c0, c1), backend, { stride: s, padding: 1 }), bn(state, block.conv2.bn, c0, c1), { backend }), {
        backend,
      });
      const p = conv(h, cols(w3, c0, c1), backend);
      sum = sum ? add(sum, p, { backend }) : p;
    }
    y = batchNorm(sum!, bn(state, block.conv3.bn), { backend });
  }
  const identity = block.downsample ? convBn(state, block.downsample, x, backend) : x;
  return add(y, identity, { backend, activation: 'relu' });
}
