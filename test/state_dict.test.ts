// model.loadStateDict: strict (default) refuses with a short message (first
// keys of each kind and their counts), strict false loads what matches and
// reports the rest, `module.` prefixes (DataParallel) are stripped.

import { describe, expect, it } from 'vitest';

import { resnet50, resnext, resnext50_32x4d } from '../lib/models/presets';
import { randn, tensor, type Tensor } from '../lib/tensor';

const small = () => resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 3 });

describe('loadStateDict', () => {
  it('resnet50 weights into resnext50_32x4d: strict error is short and counts each kind', () => {
    const sd = resnet50().stateDict();
    const m = resnext50_32x4d();
    let msg = '';
    try {
      m.loadStateDict(sd);
    } catch (e) {
      expect(e).toBeInstanceOf(RangeError);
      msg = (e as Error).message;
    }
    // resnet50 and resnext50_32x4d differ in the width of every block's conv1, conv2, bn1, bn2 and conv3.
    expect(msg).toMatch(
      /^Expected a state dict matching resnext50_32x4d \(267 tensors\) for stateDict but received one with 176 with other shapes: layer1\.0\.conv1\.weight \[64, 64, 1, 1\] \(expected \[128, 64, 1, 1\]\)/,
    );
    expect(msg).toMatch(/ and 171 more\. Pass \{ strict: false \}/);
    expect(msg.length).toBeLessThan(800);
    expect(msg).not.toMatch(/missing|unexpected/);
  });

  it('strict false loads the matching keys, keeps the others and reports them', () => {
    const m = small();
    const before = m.stateDict({ copy: true });
    const sd = small().stateDict({ copy: true });
    for (const t of sd.values()) t.dataSync().fill(0.25);
    sd.delete('layer3.2.bn3.bias');
    sd.set('fc.weight', randn([4, 1024]));
    sd.set('extra.weight', tensor([1], [1]));
    sd.set('bn1.num_batches_tracked', tensor([3], [1]));
    const r = m.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missing: ['layer3.2.bn3.bias'], unexpected: ['extra.weight'], mismatched: ['fc.weight'] });
    const after = m.stateDict();
    expect(Array.from(after.get('conv1.weight')!.dataSync().slice(0, 3))).toEqual([0.25, 0.25, 0.25]);
    expect(Array.from(after.get('fc.weight')!.dataSync())).toEqual(Array.from(before.get('fc.weight')!.dataSync()));
    expect(Array.from(after.get('layer3.2.bn3.bias')!.dataSync())).toEqual(Array.from(before.get('layer3.2.bn3.bias')!.dataSync()));
  });

  it('strict (default) loads nothing when anything differs', () => {
    const m = small();
    const before = m.stateDict({ copy: true });
    const sd = small().stateDict({ copy: true });
    for (const t of sd.values()) t.dataSync().fill(0.5);
    sd.delete('fc.bias');
    expect(() => m.loadStateDict(sd)).toThrow(/1 missing: fc\.bias\. Pass/);
    expect(Array.from(m.stateDict().get('conv1.weight')!.dataSync())).toEqual(Array.from(before.get('conv1.weight')!.dataSync()));
  });

  it('module. prefixes are stripped', async () => {
    const src = small();
    const sd = new Map<string, Tensor>();
    for (const [k, t] of src.stateDict({ copy: true })) sd.set(`module.${k}`, t);
    const m = small();
    expect(m.loadStateDict(sd)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    const x = randn([1, 3, 8, 8], { seed: 1 });
    expect(Array.from((await m.forward(x, { backend: 'reference' })).dataSync())).toEqual(
      Array.from((await src.forward(x, { backend: 'reference' })).dataSync()),
    );
  });

  it('bad arguments: TypeErrors naming the parameter', () => {
    const m = small();
    expect(() => m.loadStateDict(m.stateDict(), { strict: 'no' as unknown as boolean })).toThrow(/options\.strict/);
    const sd = m.stateDict();
    sd.set('fc.bias', 3 as unknown as Tensor);
    expect(() => m.loadStateDict(sd)).toThrow(TypeError);
  });
});
