// The networks each bench suite compares, as in the paper's tables:
// Table 2 holds ResNeXt-50's complexity fixed and trades cardinality C for
// bottleneck width d; Table 4 doubles the complexity of ResNet-101 by going
// deeper, wider, or to higher cardinality. The first row of each suite is the
// baseline that "time / base" and "MACs / base" divide by.

import type { SuiteName } from './args';

export interface NetworkSpec {
  suite: string;
  /** The paper's label, e.g. '32x4d'. */
  label: string;
  /** A name a user can look up: the preset's name, or the builder options spelled out. */
  model: string;
  depth: 29 | 50 | 101 | 152 | 200;
  cardinality: number;
  width: number;
  note?: string;
}

const net = (
  suite: string,
  depth: NetworkSpec['depth'],
  cardinality: number,
  width: number,
  model: string,
  note?: string,
): NetworkSpec => ({
  suite,
  label: `${cardinality}x${width}d`,
  model,
  depth,
  cardinality,
  width,
  ...(note ? { note } : {}),
});

/** Paper Table 2: ResNeXt-50 at about 4.1 GMACs, 1x64d (ResNet-50) to 32x4d. */
export const TABLE2: NetworkSpec[] = [
  net('table2', 50, 1, 64, 'resnet50'),
  net('table2', 50, 2, 40, 'resnext50_2x40d'),
  net('table2', 50, 4, 24, 'resnext50_4x24d'),
  net('table2', 50, 8, 14, 'resnext50_8x14d'),
  net('table2', 50, 32, 4, 'resnext50_32x4d'),
];

/**
 * Paper Table 4: about 2x ResNet-101's complexity, by going deeper
 * (ResNet-200), wider (1x100d) or to higher cardinality (2x64d, 64x4d).
 */
export const TABLE4: NetworkSpec[] = [
  net('table4', 101, 1, 64, 'resnet101'),
  net('table4', 200, 1, 64, 'resnet200', 'deeper: ResNet-200'),
  net('table4', 101, 1, 100, 'resnext101_1x100d', "wider: ResNet-101 with 100-wide bottlenecks (the paper's 1x100d)"),
  net('table4', 101, 2, 64, 'resnext101_2x64d'),
  net('table4', 101, 64, 4, 'resnext101_64x4d'),
];

/** Narrow CIFAR ResNeXt-29s (about 1.2 M params, 0.18 GMACs at 32x32) with the Table 2 pattern, for quick checks and CI. */
export const TINY: NetworkSpec[] = [
  net('tiny', 29, 1, 16, 'resnext({depth:29,cardinality:1,width:16})'),
  net('tiny', 29, 4, 4, 'resnext({depth:29,cardinality:4,width:4})'),
  net('tiny', 29, 8, 2, 'resnext({depth:29,cardinality:8,width:2})'),
];

/** The network suites a suite name runs (the layers suite is handled apart). */
export function networkSuites(suite: SuiteName): NetworkSpec[] {
  switch (suite) {
    case 'table2':
      return TABLE2;
    case 'table4':
      return TABLE4;
    case 'all':
      return [...TABLE2, ...TABLE4];
    case 'tiny':
      return TINY;
    case 'layers':
      return [];
  }
}

/** Preset names accepted by --model for the layers suite, with their settings. */
export const LAYER_MODELS: Record<string, { depth: NetworkSpec['depth']; cardinality: number; width: number }> = {
  resnet50: { depth: 50, cardinality: 1, width: 64 },
  resnext50_32x4d: { depth: 50, cardinality: 32, width: 4 },
  resnext50_2x40d: { depth: 50, cardinality: 2, width: 40 },
  resnext50_4x24d: { depth: 50, cardinality: 4, width: 24 },
  resnext50_8x14d: { depth: 50, cardinality: 8, width: 14 },
  resnet101: { depth: 101, cardinality: 1, width: 64 },
  resnext101_32x4d: { depth: 101, cardinality: 32, width: 4 },
  resnext101_32x8d: { depth: 101, cardinality: 32, width: 8 },
  resnext101_64x4d: { depth: 101, cardinality: 64, width: 4 },
};
