// The reference backend against values worked out by hand (not by the code
// under test), so the oracle itself is checked.
import { describe, expect, it } from 'vitest';

import { conv2d, tensor } from '../lib';

const ref = { backend: 'reference' as const };

describe('reference conv2d, hand-computed cases', () => {
  it('x=[1,1,3,3] w=[1,1,2,2] s=1 p=0: 2x2 window sums', () => {
    // x = 1..9 row-major; w = [[1,0],[0,-1]] -> out[p][q] = x[p][q] - x[p+1][q+1] = -4 everywhere.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = tensor([1, 0, 0, -1], [1, 1, 2, 2]);
    const y = conv2d(x, w, ref);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.dataSync())).toEqual([-4, -4, -4, -4]);
  });

  it('x=[1,1,2,2] w=[1,1,3,3] ones p=1: each output counts its in-bounds neighbours', () => {
    // With all-ones x and w, out = number of in-bounds taps = 4 at each corner of a 2x2 input.
    const x = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
    const w = tensor(new Array(9).fill(1), [1, 1, 3, 3]);
    const y = conv2d(x, w, { ...ref, padding: 1 });
    expect(Array.from(y.dataSync())).toEqual([4, 4, 4, 4]);
  });

  it('x=[1,2,1,1] w=[2,1,1,1] groups=2: each output channel sees only its own input channel', () => {
    // x = [3, 5]; w = [2, 10]; groups 2 -> [3*2, 5*10] = [6, 50] (dense would mix them).
    const x = tensor([3, 5], [1, 2, 1, 1]);
    const w = tensor([2, 10], [2, 1, 1, 1]);
    const y = conv2d(x, w, { ...ref, groups: 2 });
    expect(Array.from(y.dataSync())).toEqual([6, 50]);
  });

  it('x=[1,2,1,1] w=[1,2,1,1] groups=1 bias=[1]: dense 1x1 is a dot product plus bias', () => {
    const x = tensor([3, 5], [1, 2, 1, 1]);
    const w = tensor([2, 10], [1, 2, 1, 1]);
    const y = conv2d(x, w, { ...ref, bias: tensor([1], [1]) });
    expect(Array.from(y.dataSync())).toEqual([57]);
  });

  it('x=[1,1,1,5] w=[1,1,1,2] stride=2 dilation=2: picks x[0]+x[2] and x[2]+x[4]', () => {
    // Dilated 1x2 kernel spans columns q*2 and q*2+2; stride 2 -> q in {0, 1} (width (5-3)/2+1 = 2).
    const x = tensor([1, 10, 100, 1000, 10000], [1, 1, 1, 5]);
    const w = tensor([1, 1], [1, 1, 1, 2]);
    const y = conv2d(x, w, { ...ref, stride: 2, dilation: 2 });
    expect(y.shape).toEqual([1, 1, 1, 2]);
    expect(Array.from(y.dataSync())).toEqual([101, 10100]);
  });

  it('x=[1,1,1,3] w=[1,1,1,1] padding=[0,2,0,1] (top,left,bottom,right): zeros on the padded sides', () => {
    // Width 3 + 2 left + 1 right = 6 outputs: [0, 0, 1, 2, 3, 0].
    const x = tensor([1, 2, 3], [1, 1, 1, 3]);
    const w = tensor([1], [1, 1, 1, 1]);
    const y = conv2d(x, w, { ...ref, padding: [0, 2, 0, 1] });
    expect(y.shape).toEqual([1, 1, 1, 6]);
    expect(Array.from(y.dataSync())).toEqual([0, 0, 1, 2, 3, 0]);
  });

  it('x=[1,1,1,2] w=[1,1,1,1] residual and relu: relu(x*w + b + residual)', () => {
    // x = [1, -3], w = 2, b = 1, residual = [0.5, 1] -> [3.5, -4] -> relu -> [3.5, 0].
    const x = tensor([1, -3], [1, 1, 1, 2]);
    const w = tensor([2], [1, 1, 1, 1]);
    const y = conv2d(x, w, { ...ref, bias: tensor([1], [1]), residual: tensor([0.5, 1], [1, 1, 1, 2]), activation: 'relu' });
    expect(Array.from(y.dataSync())).toEqual([3.5, 0]);
  });

  it('accumulates in float64: 1e8 + 1 - 1e8 terms survive', () => {
    // In float32, 1e8 + 1 rounds to 1e8; a float64 accumulator keeps the 1 before the final rounding.
    const x = tensor([1e8, 1, -1e8], [1, 3, 1, 1]);
    const w = tensor([1, 1, 1], [1, 3, 1, 1]);
    const y = conv2d(x, w, ref);
    expect(y.dataSync()[0]).toBe(1);
  });
});
