// Complexity accounting of every preset, without running a model: parameters
// and multiply-adds must equal torchvision's published figures exactly.

import { describe, expect, it } from 'vitest';

import {
  resnet200,
  resnet50,
  resnext,
  resnext101_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  resnext29_16x64d,
  resnext29_8x64d,
  resnext50_32x4d,
  table2Models,
} from '../lib/models/presets';

const gmacs = (m: { macs(s: number[]): number }, s = 224): number => Math.round(m.macs([1, 3, s, s]) / 1e7) / 100;

describe('torchvision complexity figures (224x224)', () => {
  it.each([
    ['resnet50', resnet50, 25_557_032, 4.09],
    ['resnext50_32x4d', resnext50_32x4d, 25_028_904, 4.23],
    ['resnext101_32x8d', resnext101_32x8d, 88_791_336, 16.41],
    ['resnext101_64x4d', resnext101_64x4d, 83_455_272, 15.46],
  ] as const)('%s: params and GMACs for input [1, 3, 224, 224]', (_name, make, params, g) => {
    const m = make();
    expect(m.numParams()).toBe(params);
    expect(gmacs(m)).toBe(g);
  });

  it("resnet200 (the paper's Table 4 'deeper' row; blocks [3, 24, 36, 3]): 64,673,832 params as timm counts, 15.01 GMACs (paper: 15.0)", () => {
    const m = resnet200();
    expect(m.numParams()).toBe(64_673_832);
    expect(gmacs(m)).toBe(15.01);
  });

  it('resnext101_32x4d (not in torchvision; same construction): 44,177,704 params and 7.97 GMACs', () => {
    const m = resnext101_32x4d();
    expect(m.numParams()).toBe(44_177_704);
    expect(gmacs(m)).toBe(7.97);
  });

  it('macs scale linearly with batch and the per-layer breakdown sums to the total', () => {
    const m = resnext50_32x4d();
    const layers = m.layers([2, 3, 224, 224]);
    expect(m.macs([2, 3, 224, 224])).toBe(2 * m.macs([1, 3, 224, 224]));
    expect(layers.reduce((a, l) => a + l.macs, 0)).toBe(m.macs([2, 3, 224, 224]));
    expect(layers.reduce((a, l) => a + l.params, 0)).toBe(m.numParams());
    const c2 = layers.find((l) => l.name === 'layer1.0.conv2')!;
    expect(c2).toMatchObject({ op: 'conv', groups: 32, inputShape: [2, 128, 56, 56], outputShape: [2, 128, 56, 56], params: 128 * 4 * 9 });
    expect(layers.find((l) => l.name === 'fc')!.outputShape).toEqual([2, 1000]);
  });

  it('numParams counts exactly the state dict parameters (not BN running statistics)', () => {
    const m = resnet50();
    let all = 0;
    for (const t of m.stateDict().values()) all += t.size;
    const buffers = m.specs.filter((s) => s.kind === 'buffer').reduce((a, s) => a + s.shape[0], 0);
    expect(all - buffers).toBe(m.numParams());
  });
});

describe('paper Table 2 (ResNeXt-50 complexity) and CIFAR ResNeXt-29', () => {
  it('Table 2 rows stay within 5% of ResNet-50 in params and GMACs', () => {
    const base = table2Models['1x64d']();
    const rows: string[] = [];
    for (const [label, make] of Object.entries(table2Models)) {
      const m = make();
      rows.push(`${label}: ${m.numParams()} params, ${gmacs(m)} GMACs`);
      expect(Math.abs(m.numParams() / base.numParams() - 1)).toBeLessThan(0.05);
      expect(Math.abs(m.macs([1, 3, 224, 224]) / base.macs([1, 3, 224, 224]) - 1)).toBeLessThan(0.05);
    }
    console.log(rows.join('\n'));
  });

  it('ResNeXt-29 8x64d and 16x64d on [1, 3, 32, 32]', () => {
    const a = resnext29_8x64d(),
      b = resnext29_16x64d();
    console.log(
      `resnext29_8x64d ${a.numParams()} params ${a.macs([1, 3, 32, 32])} MACs; resnext29_16x64d ${b.numParams()} params ${b.macs([1, 3, 32, 32])} MACs`,
    );
    // The paper states 34.4M and 68.1M.
    expect(Math.abs(a.numParams() / 34.4e6 - 1)).toBeLessThan(0.01);
    expect(Math.abs(b.numParams() / 68.1e6 - 1)).toBeLessThan(0.01);
    expect(a.layers([1, 3, 32, 32]).at(-2)!.inputShape).toEqual([1, 1024, 8, 8]);
  });

  it('resnext() validates its options', () => {
    expect(() => resnext({ depth: 34 as 50 })).toThrow(RangeError);
    expect(() => resnext({ cardinality: 0 })).toThrow(/cardinality/);
    expect(() => resnext({ width: '4' as unknown as number })).toThrow(TypeError);
    expect(() => resnext({ bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => resnet50().macs([1, 4, 224, 224])).toThrow(/3 input channels/);
    expect(() => resnet50('big' as never)).toThrow(TypeError);
    // Like torch, any input of at least 1x1 runs (every padded window fits).
    expect(resnet50().layers([1, 3, 1, 1]).at(-2)!.inputShape).toEqual([1, 2048, 1, 1]);
  });
});
