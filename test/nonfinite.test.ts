// NaN and +-Inf through every CPU conv kernel (each ISA variant forced by
// name) with the fused bias + ReLU epilogue, against the float64 reference
// (test/helpers/nonfinite.ts says what "agree" means for Winograd), and
// through max pooling, ReLU and a whole model: NaN in, NaN out, as in PyTorch.
import { describe, expect, it } from 'vitest';

import { conv2d, maxPool2d, relu, resnext, tensor } from '../lib';
import { checkNonFinite, KERNEL_SHAPES } from './helpers/nonfinite';
import { best, caseName, hasAddon, ISA_RANK } from './helpers/kernel_cases';

describe.skipIf(!hasAddon)('non-finite inputs through every CPU kernel (bias + ReLU epilogue) vs the reference', () => {
  for (const k of KERNEL_SHAPES) {
    for (const isa of k.isas) {
      const family = k.family.replace('{cb}', isa === 'avx512' ? 'nchw16c' : 'nchw8c');
      const impl = family === 'winograd_grouped' ? 'winograd_grouped_avx512' : `${family}_${isa}`;
      for (const what of ['nan', 'inf'] as const) {
        it.skipIf(ISA_RANK[isa] > ISA_RANK[best])(`${impl} ${caseName(k.t)} ${what === 'nan' ? 'NaN' : '+-Inf'} inputs`, () =>
          checkNonFinite(k, impl, isa, what, 100),
        );
      }
    }
  }
});

describe('NaN propagation through the layers', () => {
  it('relu(NaN) is NaN and relu(-Inf) is 0 on every host backend', () => {
    for (const backend of hasAddon ? (['reference', 'cpu'] as const) : (['reference'] as const)) {
      const y = relu(tensor([NaN, -Infinity, Infinity, -1, 2], [5]), { backend }).dataSync();
      expect([...y]).toEqual([NaN, 0, Infinity, 0, 2]);
    }
  });

  it('maxPool2d (default 3x3, stride 2, pad 1) x=[1,2,7,7]: a NaN in the window wins on every host backend', () => {
    const d = new Float32Array(2 * 7 * 7).map((_, i) => i % 5);
    d[10] = NaN;
    d[49 + 24] = -Infinity;
    const x = tensor(d, [1, 2, 7, 7]);
    const ref = maxPool2d(x, { backend: 'reference' }).dataSync();
    expect(ref.some(Number.isNaN)).toBe(true);
    if (hasAddon) {
      const got = maxPool2d(x, { backend: 'cpu' }).dataSync();
      expect([...got].map(Number.isNaN)).toEqual([...ref].map(Number.isNaN));
    }
  });

  it.skipIf(!hasAddon)('conv2d on cpu x=[1,8,6,6] w=[8,8,3,3] relu: an all-NaN input gives all-NaN output (fused ReLU keeps NaN)', () => {
    const x = tensor(new Float32Array(8 * 36).fill(NaN), [1, 8, 6, 6]);
    const w = tensor(new Float32Array(8 * 8 * 9).fill(-0.5), [8, 8, 3, 3]);
    const y = conv2d(x, w, { padding: 1, activation: 'relu', backend: 'cpu' }).dataSync();
    expect(y.every(Number.isNaN)).toBe(true);
  });

  it.skipIf(!hasAddon)(
    'resnext50 (C=2, d=2) fused on cpu, network and layer modes, x=[1,3,32,32] all NaN: every logit is NaN, as on the reference',
    async () => {
      const model = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 10, seed: 1 });
      const x = tensor(new Float32Array(3 * 32 * 32).fill(NaN), [1, 3, 32, 32]);
      for (const mode of ['network', 'layer'] as const) {
        const y = (await model.forward(x, { backend: 'cpu', mode })).dataSync();
        expect(y.length).toBe(10);
        expect(y.every(Number.isNaN), mode).toBe(true);
      }
      expect((await model.forward(x, { backend: 'reference' })).dataSync().every(Number.isNaN)).toBe(true);
    },
  );
});
