// maxPool2d and avgPool2d with PyTorch's semantics: padding pairs with zeros
// and four sides, ceilMode, countIncludePad both ways. Each case runs on every
// host backend and is compared with torch's output (test/fixtures/pooling.json,
// from scripts/make-fixtures.py) and with the reference; and a batch of 0
// gives an empty result through conv, pooling, linear and model forwards.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  avgPool2d,
  avgPool2dAsync,
  conv2d,
  conv2dAsync,
  globalAvgPool,
  linear,
  maxPool2d,
  maxPool2dAsync,
  randn,
  resnext,
  tensor,
  zeros,
} from '../lib';
import type { BackendName } from '../lib';
import { cpuBinding } from '../lib/binding';
import { nativeHostBackends } from './helpers/backends';
import { REL_TOL, relErr } from './helpers/compare';

type Pair = [number, number];
interface Case {
  op: 'max' | 'avg';
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  ceilMode: boolean;
  countIncludePad?: boolean;
  output: { shape: number[]; data: number[] };
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'pooling.json'), 'utf8')) as {
  input: { shape: number[]; data: number[] };
  cases: Case[];
};
const x = tensor(fixture.input.data, fixture.input.shape);
const backends = ['reference', ...nativeHostBackends()] as BackendName[];

describe.each(backends)('pooling on %s equals torch', (backend) => {
  for (const c of fixture.cases) {
    const name = `${c.op}Pool2d x [${fixture.input.shape}] kernel ${c.kernelSize} stride ${c.stride} padding ${c.padding} ceilMode ${c.ceilMode}${c.op === 'avg' ? ` countIncludePad ${c.countIncludePad}` : ''} -> [${c.output.shape}]`;
    it(name, async () => {
      const opts = { kernelSize: c.kernelSize, stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, backend };
      const y = c.op === 'max' ? maxPool2d(x, opts) : avgPool2d(x, { ...opts, countIncludePad: c.countIncludePad });
      expect(y.shape).toEqual(c.output.shape);
      expect(relErr(y.dataSync(), c.output.data)).toBeLessThanOrEqual(c.op === 'max' ? 0 : REL_TOL);
      const ya = c.op === 'max' ? await maxPool2dAsync(x, opts) : await avgPool2dAsync(x, { ...opts, countIncludePad: c.countIncludePad });
      expect(Array.from(ya.dataSync())).toEqual(Array.from(y.dataSync()));
    });
  }
});

describe.each(nativeHostBackends() as BackendName[])('pooling on %s equals the reference', (backend) => {
  const xs = randn([2, 5, 11, 8], { seed: 4 });
  const cases: [string, object][] = [
    ['kernel 3 stride 2 padding [1, 0]', { kernelSize: 3, stride: 2, padding: [1, 0] }],
    ['kernel 3 stride 2 padding [0, 1, 1, 0] (four sides)', { kernelSize: 3, stride: 2, padding: [0, 1, 1, 0] }],
    ['kernel [3, 2] stride [2, 1] padding 1 ceilMode', { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true }],
    ['kernel 2 stride 3 ceilMode', { kernelSize: 2, stride: 3, padding: 0, ceilMode: true }],
  ];
  for (const [name, o] of cases) {
    it(`maxPool2d x [2, 5, 11, 8] ${name}`, () => {
      expect(relErr(maxPool2d(xs, { ...o, backend }).dataSync(), maxPool2d(xs, { ...o, backend: 'reference' }).dataSync())).toBe(0);
    });
    for (const countIncludePad of [true, false]) {
      it(`avgPool2d x [2, 5, 11, 8] ${name} countIncludePad ${countIncludePad}`, () => {
        const a = avgPool2d(xs, { ...o, countIncludePad, backend } as never);
        const r = avgPool2d(xs, { ...o, countIncludePad, backend: 'reference' } as never);
        expect(relErr(a.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
      });
    }
  }
});

describe('pooling arguments', () => {
  it('padding pairs with a zero are accepted; negative or over half the kernel refused', () => {
    const xs = randn([1, 1, 5, 5], { seed: 1 });
    expect(maxPool2d(xs, { kernelSize: 3, stride: 1, padding: [1, 0] }).shape).toEqual([1, 1, 5, 3]);
    expect(() => maxPool2d(xs, { kernelSize: 3, padding: [-1, 0] })).toThrow(/padding\[0\]/);
    expect(() => maxPool2d(xs, { kernelSize: 3, padding: [2, 0] })).toThrow(RangeError);
    expect(() => avgPool2d(xs, { kernelSize: 2, ceilMode: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => avgPool2d(xs, {} as never)).toThrow(/kernelSize/);
    expect(() => maxPool2d(xs, { kernel: 3, kernelSize: 3 })).toThrow(/not both/);
    expect(() => avgPool2d(xs, { kernelSize: 6 })).toThrow(/at least the kernel size/);
  });
  it('avgPool2d stride defaults to the kernel, padding to 0 (torch)', () => {
    const xs = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
    expect(Array.from(avgPool2d(xs, { kernelSize: 2 }).dataSync())).toEqual([3.5, 5.5, 11.5, 13.5]);
  });
});

describe.skipIf(!cpuBinding()?.avgPool2d)('the avgPool2d native entry point re-checks its arguments', () => {
  const nb = cpuBinding()!;
  const x = new Float32Array(1 * 1 * 5 * 5),
    y = new Float32Array(9);
  const call =
    (params: number[], out = y) =>
    () =>
      nb.avgPool2d!(x, [1, 1, 5, 5], out, params);
  it('valid: kernel 3 stride 2 padding 1 -> 3x3', () => {
    x.fill(2);
    call([3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 0])();
    expect(Array.from(y)).toEqual(new Array(9).fill(2));
  });
  it.each([
    ['an output whose last window starts past the input', [3, 3, 2, 2, 1, 1, 1, 1, 4, 3, 0], /windows all overlap/],
    ['padding over half the kernel', [3, 3, 2, 2, 2, 1, 1, 1, 3, 3, 0], /half the kernel/],
    ['a zero stride', [3, 3, 0, 2, 1, 1, 1, 1, 3, 3, 0], /at least 1/],
    ['countIncludePad 2', [3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 2], /countIncludePad/],
    ['the wrong number of params', [3, 3, 2, 2], /11 entries/],
  ])('%s -> RangeError', (_, params, re) => {
    expect(call(params as number[])).toThrow(re);
  });
  it('an output of the wrong length -> RangeError', () => {
    expect(call([3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 0], new Float32Array(8))).toThrow(/output: expected 9 elements/);
  });
});

describe.each(backends)('a batch of 0 on %s gives an empty result', (backend) => {
  const x0 = zeros([0, 3, 16, 16]);
  it('conv2d x [0, 3, 16, 16] weight [4, 3, 3, 3] -> [0, 4, 14, 14]', async () => {
    expect(conv2d(x0, randn([4, 3, 3, 3]), { backend }).shape).toEqual([0, 4, 14, 14]);
    expect((await conv2dAsync(x0, randn([4, 3, 3, 3]), { backend })).shape).toEqual([0, 4, 14, 14]);
  });
  it('maxPool2d, avgPool2d, globalAvgPool x [0, 3, 16, 16]', async () => {
    expect(maxPool2d(x0, { backend }).shape).toEqual([0, 3, 8, 8]);
    expect((await maxPool2dAsync(x0, { backend })).shape).toEqual([0, 3, 8, 8]);
    expect(avgPool2d(x0, { kernelSize: 2, backend }).shape).toEqual([0, 3, 8, 8]);
    expect(globalAvgPool(x0, { backend }).shape).toEqual([0, 3, 1, 1]);
  });
  it('linear x [0, 4] weight [2, 4] -> [0, 2]', () => {
    expect(linear(zeros([0, 4]), randn([2, 4]), zeros([2]), { backend }).shape).toEqual([0, 2]);
  });
  it('resnext29 forward x [0, 3, 16, 16] -> [0, 10]', async () => {
    const y = await resnext({ depth: 29, cardinality: 2, width: 2 }).forward(x0, { backend });
    expect(y.shape).toEqual([0, 10]);
    expect(y.dataSync().length).toBe(0);
  });
  it('other dimensions stay positive', () => {
    expect(() => zeros([1, 0, 3])).toThrow(/shape\[1\]/);
    expect(() => conv2d(x0, zeros([0, 3, 3, 3]), { backend })).toThrow(/weight\.shape\[0\]/);
  });
});
