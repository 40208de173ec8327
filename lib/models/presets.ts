// Model builders: resnext({ depth, cardinality, width, numClasses }) and the
// named presets of torchvision and of the ResNeXt paper (Xie et al., 2017).
// Each preset takes the same options as resnext() (any of them overrides the
// preset) plus seed / weights.

import { type ResNeXtConfig, resolveConfig } from './architecture';
import { type ModelOptions, ResNeXtModel } from './model';

export type ResNeXtOptions = Partial<ResNeXtConfig> & ModelOptions;

const CONFIG_KEYS = ['depth', 'cardinality', 'width', 'numClasses'];
const MODEL_KEYS = ['seed', 'weights'];

function build(options: ResNeXtOptions | undefined, defaults: Partial<ResNeXtConfig>): ResNeXtModel {
  // resolveConfig rejects a non-object with a TypeError naming options.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) resolveConfig(options ?? {});
  const o = (options ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!CONFIG_KEYS.includes(k) && !MODEL_KEYS.includes(k)) {
      throw new RangeError(
        `Expected one of the options ${[...CONFIG_KEYS, ...MODEL_KEYS].join(', ')} for options.${k} but received "${k}"`,
      );
    }
  }
  const cfg: Record<string, unknown> = {};
  const model: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (CONFIG_KEYS.includes(k) ? cfg : model)[k] = v;
  return new ResNeXtModel(resolveConfig(cfg, defaults), model as ModelOptions);
}

/** Any ResNeXt: depth 50 | 101 | 152 | 200 (ImageNet, 224x224) or 29 (CIFAR, 32x32); cardinality C, bottleneck width d. */
export function resnext(options?: ResNeXtOptions): ResNeXtModel {
  return build(options, {});
}

export const resnet50 = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 50, cardinality: 1, width: 64 });
export const resnet101 = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 101, cardinality: 1, width: 64 });
export const resnet152 = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 152, cardinality: 1, width: 64 });
export const resnet200 = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 200, cardinality: 1, width: 64 });
export const resnext50_32x4d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 50, cardinality: 32, width: 4 });
export const resnext101_32x4d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 101, cardinality: 32, width: 4 });
export const resnext101_32x8d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 101, cardinality: 32, width: 8 });
export const resnext101_64x4d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 101, cardinality: 64, width: 4 });
/** The paper's CIFAR models (section 5.3): 3 stages of 3 blocks, 32x32 input, 10 classes by default. */
export const resnext29_8x64d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 29, cardinality: 8, width: 64, numClasses: 10 });
export const resnext29_16x64d = (o?: ResNeXtOptions): ResNeXtModel => build(o, { depth: 29, cardinality: 16, width: 64, numClasses: 10 });

/**
 * The paper's Table 2: cardinality against width at the complexity of
 * ResNet-50 (about 4.1 GMACs, 25M parameters). Keys are the paper's "Cxd" labels.
 */
export const table2Models: Readonly<Record<'1x64d' | '2x40d' | '4x24d' | '8x14d' | '32x4d', (o?: ResNeXtOptions) => ResNeXtModel>> =
  Object.freeze({
    '1x64d': (o?: ResNeXtOptions) => build(o, { depth: 50, cardinality: 1, width: 64 }),
    '2x40d': (o?: ResNeXtOptions) => build(o, { depth: 50, cardinality: 2, width: 40 }),
    '4x24d': (o?: ResNeXtOptions) => build(o, { depth: 50, cardinality: 4, width: 24 }),
    '8x14d': (o?: ResNeXtOptions) => build(o, { depth: 50, cardinality: 8, width: 14 }),
    '32x4d': (o?: ResNeXtOptions) => build(o, { depth: 50, cardinality: 32, width: 4 }),
  });

/** Every named preset by name (for CLIs and benches). */
export const presets: Readonly<Record<string, (o?: ResNeXtOptions) => ResNeXtModel>> = Object.freeze({
  resnet50,
  resnet101,
  resnet152,
  resnet200,
  resnext50_32x4d,
  resnext101_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  resnext29_8x64d,
  resnext29_16x64d,
});
