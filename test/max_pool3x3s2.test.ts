// The 3x3 stride-2 pad-1 max pool (the stem's pool) on the CPU backend: the
// AVX-512 plane kernel (native/cpu/max_pool3x3s2_avx512.cc) and, under an ISA
// cap of avx2, the generic kernel (native/cpu/max_pool2d.cc), each against the
// reference element for element (max is exact). Shapes cover one row or one
// column (a window with a single input row), even and odd sizes, outputs of
// one, 16 and 17 columns (a full and a partial vector), and planes wider than
// two vectors; the non-finite case puts NaN, +Inf and -Inf in windows, at
// the edges and in a plane of all -Inf.
import { afterAll, describe, expect, it } from 'vitest';

import { maxPool2d, randn, tensor } from '../lib';
import { cpuBinding } from '../lib/binding';

const b = cpuBinding();
const caps = ((): string[] => {
  if (!b) return [];
  const best = b.setIsaCap('avx512');
  b.setIsaCap(best);
  return best === 'avx512' ? ['avx512', 'avx2'] : [best];
})();

afterAll(() => {
  if (caps.length > 0) b?.setIsaCap(caps[0]);
});

const shapes: [number, number, number, number][] = [
  [1, 3, 1, 1],
  [2, 3, 1, 9],
  [1, 2, 9, 1],
  [1, 2, 2, 2],
  [2, 5, 11, 8],
  [1, 4, 17, 33],
  [1, 2, 32, 32],
  [1, 3, 7, 47],
  [2, 2, 30, 70],
];

describe.skipIf(caps.length === 0)('maxPool2d 3x3 stride 2 pad 1 on cpu equals the reference', () => {
  for (const cap of caps) {
    for (const shape of shapes) {
      it(`ISA cap ${cap}: x [${shape}]`, () => {
        b!.setIsaCap(cap);
        const x = randn(shape, { seed: shape[2] * 100 + shape[3] });
        const got = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, backend: 'cpu' }).dataSync();
        const ref = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, backend: 'reference' }).dataSync();
        expect(Array.from(got)).toEqual(Array.from(ref));
      });
    }

    it(`ISA cap ${cap}: NaN, +Inf and -Inf in x [2, 3, 13, 37] (a plane of all -Inf) come out as on the reference`, () => {
      b!.setIsaCap(cap);
      const d = randn([2, 3, 13, 37], { seed: 9 }).dataSync().slice();
      const plane = 13 * 37;
      for (let i = 0; i < d.length; i += 41) d[i] = NaN;
      for (let i = 7; i < d.length; i += 53) d[i] = Infinity;
      for (let i = 3; i < d.length; i += 29) d[i] = -Infinity;
      d[0] = NaN; // top-left corner
      d[plane - 1] = NaN; // bottom-right corner
      d.fill(-Infinity, 4 * plane, 5 * plane);
      const x = tensor(d, [2, 3, 13, 37]);
      const got = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, backend: 'cpu' }).dataSync();
      const ref = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, backend: 'reference' }).dataSync();
      expect(ref.some(Number.isNaN)).toBe(true);
      // toEqual treats NaN as equal to NaN and tells +Inf from -Inf.
      expect(Array.from(got)).toEqual(Array.from(ref));
    });
  }
});
