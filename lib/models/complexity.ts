// Complexity accounting from the architecture alone (the model is never run):
// learnable parameters as torchvision counts them (conv and fc weights, fc
// bias, BN weight and bias; BN running statistics are buffers) and
// multiply-adds (the paper's "FLOPs", torchvision's "GFLOPS"): conv and fc
// multiply-adds only. BN, ReLU, residual adds and pools are listed per layer
// with their element counts but contribute no multiply-adds, as in torchvision.

import { invalidType, invalidValue } from '../errors';
import { type Architecture, type ConvDef, outSize } from './architecture';

export interface LayerComplexity {
  /** torchvision module name ('layer1.0.conv2', 'maxpool', 'fc', ...). */
  name: string;
  op: 'conv' | 'batchnorm' | 'relu' | 'maxpool' | 'add' | 'avgpool' | 'linear';
  inputShape: number[];
  outputShape: number[];
  /** Learnable parameters of this layer. */
  params: number;
  /** Multiply-adds of this layer for the given input shape. */
  macs: number;
  /** conv only: groups. */
  groups?: number;
}

export function checkInputShape(shape: unknown, inC: number, param = 'inputShape'): [number, number, number, number] {
  if (!Array.isArray(shape)) throw invalidType(param, 'an array [N, C, H, W]', shape);
  if (shape.length !== 4) throw invalidValue(param, 'a shape [N, C, H, W] of rank 4', shape);
  shape.forEach((d, i) => {
    if (typeof d !== 'number') throw invalidType(`${param}[${i}]`, 'a positive integer', d);
    if (!Number.isInteger(d) || d < 1) throw invalidValue(`${param}[${i}]`, 'a positive integer', d);
  });
  if (shape[1] !== inC) throw invalidValue(`${param}[1]`, `${inC} input channels`, shape[1]);
  return shape as [number, number, number, number];
}

/** Per-layer complexity in execution order. Throws a RangeError when the input is too small for the network. */
export function layerComplexity(arch: Architecture, inputShape: readonly number[]): LayerComplexity[] {
  const [N, C, H0, W0] = checkInputShape([...inputShape], arch.stem.inC);
  const out: LayerComplexity[] = [];
  const convLayer = (c: ConvDef, shape: number[]): number[] => {
    const [, , H, W] = shape;
    const P = outSize(H, c.kernel, c.stride, c.padding);
    const Q = outSize(W, c.kernel, c.stride, c.padding);
    if (P < 1 || Q < 1) throw invalidValue('inputShape', `an input large enough for ${c.name} (output ${P}x${Q})`, [...inputShape]);
    const o = [N, c.outC, P, Q];
    const cg = c.inC / c.groups;
    out.push({
      name: c.name,
      op: 'conv',
      inputShape: shape,
      outputShape: o,
      params: c.outC * cg * c.kernel * c.kernel,
      macs: N * c.outC * P * Q * cg * c.kernel * c.kernel,
      groups: c.groups,
    });
    out.push({ name: c.bn, op: 'batchnorm', inputShape: o, outputShape: o, params: 2 * c.outC, macs: 0 });
    return o;
  };
  let s = convLayer(arch.stem, [N, C, H0, W0]);
  out.push({ name: 'relu', op: 'relu', inputShape: s, outputShape: s, params: 0, macs: 0 });
  if (arch.maxPool) {
    const o = [N, s[1], outSize(s[2], 3, 2, 1), outSize(s[3], 3, 2, 1)];
    out.push({ name: 'maxpool', op: 'maxpool', inputShape: s, outputShape: o, params: 0, macs: 0 });
    s = o;
  }
  for (const stage of arch.stages) {
    for (const b of stage) {
      const x = s;
      let t = convLayer(b.conv1, x);
      out.push({ name: `${b.name}.relu1`, op: 'relu', inputShape: t, outputShape: t, params: 0, macs: 0 });
      t = convLayer(b.conv2, t);
      out.push({ name: `${b.name}.relu2`, op: 'relu', inputShape: t, outputShape: t, params: 0, macs: 0 });
      t = convLayer(b.conv3, t);
      if (b.downsample) convLayer(b.downsample, x);
      out.push({ name: `${b.name}.add`, op: 'add', inputShape: t, outputShape: t, params: 0, macs: 0 });
      out.push({ name: `${b.name}.relu3`, op: 'relu', inputShape: t, outputShape: t, params: 0, macs: 0 });
      s = t;
    }
  }
  const pooled = [N, s[1], 1, 1];
  out.push({ name: 'avgpool', op: 'avgpool', inputShape: s, outputShape: pooled, params: 0, macs: 0 });
  out.push({
    name: 'fc',
    op: 'linear',
    inputShape: [N, arch.fcIn],
    outputShape: [N, arch.numClasses],
    params: arch.fcIn * arch.numClasses + arch.numClasses,
    macs: N * arch.fcIn * arch.numClasses,
  });
  return out;
}

export function countParams(arch: Architecture): number {
  return layerComplexity(arch, [1, arch.stem.inC, arch.nominalInput, arch.nominalInput]).reduce((a, l) => a + l.params, 0);
}

export function countMacs(arch: Architecture, inputShape: readonly number[]): number {
  return layerComplexity(arch, inputShape).reduce((a, l) => a + l.macs, 0);
}
