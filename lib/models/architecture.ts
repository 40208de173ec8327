// ResNeXt architecture description: the layer list of a network, derived from
// its configuration alone (no weights), with torchvision's parameter names.
// Everything else (initialisation, complexity counting, state dicts, the
// reference and fused CPU forwards) walks this description.
//
// ImageNet layout (torchvision ResNet with Bottleneck, v1.5: stride on the 3x3):
//   conv1 7x7/2 (3 -> 64), bn1, relu, maxpool 3x3/2 pad 1,
//   layer1..layer4 of bottlenecks (planes 64, 128, 256, 512; stride 1, 2, 2, 2),
//   global average pool, fc (2048 -> numClasses).
// Bottleneck: width = floor(planes * d / 64) * C; conv1 1x1 (in -> width),
//   conv2 3x3 grouped C (width -> width, stride), conv3 1x1 (width -> 4 planes);
//   downsample = 1x1 conv (stride) + BN when the stride or channel count changes.
// CIFAR layout (the paper's ResNeXt-29, section 5.3 / Facebook's resnext.lua):
//   conv1 3x3/1 (3 -> 64), bn1, relu, no max pool, three stages of 3 blocks
//   (planes 64, 128, 256; stride 1, 2, 2; width = floor(planes * d / 64) * C,
//   output 4 planes), global average pool, fc (1024 -> numClasses).

import { invalidType, invalidValue } from '../errors';

export interface ResNeXtConfig {
  /** 50, 101, 152 or 200 (ImageNet) or 29 (CIFAR). */
  depth: 29 | 50 | 101 | 152 | 200;
  /** C: the number of groups of the 3x3 convolutions. */
  cardinality: number;
  /** d: the bottleneck width per group in the first stage (torchvision's width_per_group). */
  width: number;
  numClasses: number;
}

/** A convolution followed by its BatchNorm (they are folded together for fused inference). */
export interface ConvDef {
  /** torchvision module name of the conv, e.g. 'layer1.0.conv2'. */
  name: string;
  /** torchvision module name of the BatchNorm that follows, e.g. 'layer1.0.bn2'. */
  bn: string;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  padding: number;
  groups: number;
}

export interface BlockDef {
  /** e.g. 'layer2.0' */
  name: string;
  inC: number;
  width: number;
  outC: number;
  stride: number;
  conv1: ConvDef;
  conv2: ConvDef;
  conv3: ConvDef;
  downsample: ConvDef | null;
}

export interface Architecture {
  config: Readonly<ResNeXtConfig>;
  kind: 'imagenet' | 'cifar';
  stem: ConvDef;
  maxPool: boolean;
  stages: BlockDef[][];
  fcIn: number;
  numClasses: number;
  /** Input size the network was designed for (224 or 32); any size that fits runs. */
  nominalInput: number;
}

const BLOCKS: Record<number, number[]> = {
  29: [3, 3, 3],
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
  // ResNet-200 as in He et al., "Identity Mappings in Deep Residual Networks" (the paper's Table 4 "deeper" row).
  200: [3, 24, 36, 3],
};

function conv(name: string, bn: string, inC: number, outC: number, kernel: number, stride: number, groups = 1): ConvDef {
  return { name, bn, inC, outC, kernel, stride, padding: (kernel - 1) >> 1, groups };
}

/** Validates a configuration and fills defaults (numClasses 1000, or 10 for CIFAR depth 29). */
export function resolveConfig(options: unknown, defaults: Partial<ResNeXtConfig> = {}): ResNeXtConfig {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidType('options', 'an options object', options);
  }
  const o = { ...defaults, ...((options ?? {}) as Record<string, unknown>) } as Record<string, unknown>;
  const depth = o.depth ?? 50;
  if (typeof depth !== 'number') throw invalidType('depth', 'one of 29, 50, 101, 152, 200', depth);
  if (!(depth in BLOCKS)) throw invalidValue('depth', 'one of 29 (CIFAR), 50, 101, 152, 200', depth);
  const intOpt = (key: string, def: number, max: number): number => {
    const v = o[key] ?? def;
    if (typeof v !== 'number') throw invalidType(key, 'a positive integer', v);
    if (!Number.isInteger(v) || v < 1 || v > max) throw invalidValue(key, `an integer in [1, ${max}]`, v);
    return v;
  };
  const cardinality = intOpt('cardinality', 32, 4096);
  const width = intOpt('width', 4, 4096);
  const numClasses = intOpt('numClasses', depth === 29 ? 10 : 1000, 1 << 20);
  return { depth: depth as ResNeXtConfig['depth'], cardinality, width, numClasses };
}

export function buildArchitecture(config: ResNeXtConfig): Architecture {
  const cifar = config.depth === 29;
  const counts = BLOCKS[config.depth];
  const stem = cifar ? conv('conv1', 'bn1', 3, 64, 3, 1) : { ...conv('conv1', 'bn1', 3, 64, 7, 2), padding: 3 };
  let inC = 64;
  const stages: BlockDef[][] = [];
  counts.forEach((n, s) => {
    const planes = 64 << s;
    const width = Math.floor((planes * config.width) / 64) * config.cardinality;
    const outC = planes * 4;
    const blocks: BlockDef[] = [];
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const p = `layer${s + 1}.${b}`;
      blocks.push({
        name: p,
        inC,
        width,
        outC,
        stride,
        conv1: conv(`${p}.conv1`, `${p}.bn1`, inC, width, 1, 1),
        conv2: conv(`${p}.conv2`, `${p}.bn2`, width, width, 3, stride, config.cardinality),
        conv3: conv(`${p}.conv3`, `${p}.bn3`, width, outC, 1, 1),
        downsample: stride !== 1 || inC !== outC ? conv(`${p}.downsample.0`, `${p}.downsample.1`, inC, outC, 1, stride) : null,
      });
      inC = outC;
    }
    stages.push(blocks);
  });
  return {
    config: Object.freeze({ ...config }),
    kind: cifar ? 'cifar' : 'imagenet',
    stem,
    maxPool: !cifar,
    stages,
    fcIn: inC,
    numClasses: config.numClasses,
    nominalInput: cifar ? 32 : 224,
  };
}

/** Every conv of the network in execution order (stem, then per block conv1, conv2, conv3, downsample). */
export function allConvs(arch: Architecture): ConvDef[] {
  const out = [arch.stem];
  for (const stage of arch.stages) {
    for (const b of stage) {
      out.push(b.conv1, b.conv2, b.conv3);
      if (b.downsample) out.push(b.downsample);
    }
  }
  return out;
}

/** Output spatial size of a conv or pool along one axis. */
export function outSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  /** Learnable parameter (counted by numParams) or buffer (BN running statistics). */
  kind: 'parameter' | 'buffer';
}

/** Every state-dict entry in torchvision's order, with its shape. */
export function stateSpecs(arch: Architecture): TensorSpec[] {
  const out: TensorSpec[] = [];
  const addConv = (c: ConvDef): void => {
    out.push({ name: `${c.name}.weight`, shape: [c.outC, c.inC / c.groups, c.kernel, c.kernel], kind: 'parameter' });
  };
  const addBn = (name: string, C: number): void => {
    out.push({ name: `${name}.weight`, shape: [C], kind: 'parameter' });
    out.push({ name: `${name}.bias`, shape: [C], kind: 'parameter' });
    out.push({ name: `${name}.running_mean`, shape: [C], kind: 'buffer' });
    out.push({ name: `${name}.running_var`, shape: [C], kind: 'buffer' });
  };
  addConv(arch.stem);
  addBn(arch.stem.bn, arch.stem.outC);
  for (const stage of arch.stages) {
    for (const b of stage) {
      for (const c of [b.conv1, b.conv2, b.conv3]) {
        addConv(c);
        addBn(c.bn, c.outC);
      }
      if (b.downsample) {
        addConv(b.downsample);
        addBn(b.downsample.bn, b.downsample.outC);
      }
    }
  }
  out.push({ name: 'fc.weight', shape: [arch.numClasses, arch.fcIn], kind: 'parameter' });
  out.push({ name: 'fc.bias', shape: [arch.numClasses], kind: 'parameter' });
  return out;
}
