// Bad input gets a TypeError (wrong type) or RangeError (bad value or shape)
// whose message names the parameter and the value, before native code runs;
// and the native boundary re-checks, so direct addon calls cannot crash.
import { describe, expect, it } from 'vitest';

import { conv2d, conv2dAsync, conv2dPlan, randn, tensor, zeros } from '../lib';
import { cpuBinding } from '../lib/binding';

const x = () => randn([1, 8, 6, 6], { seed: 1 });
const w = () => randn([8, 2, 3, 3], { seed: 2 });

function expectError(fn: () => unknown, type: typeof TypeError | typeof RangeError, ...mentions: (string | RegExp)[]) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(type);
  for (const m of mentions) expect((caught as Error).message).toMatch(m);
}

describe('conv2d argument errors', () => {
  it('channels not divisible by groups -> RangeError naming groups and the value', () => {
    expectError(() => conv2d(randn([1, 17, 5, 5]), randn([17, 5, 3, 3]), { groups: 3 }), RangeError, /groups/, /\b3\b/, /17/);
  });
  it('output channels not divisible by groups -> RangeError naming groups', () => {
    expectError(() => conv2dPlan(randn([10, 2, 3, 3]), { groups: 4 }), RangeError, /groups/, /\b4\b/, /10/);
  });
  it('weight shape not matching input channels / groups -> RangeError naming weight and its shape', () => {
    expectError(() => conv2d(x(), randn([8, 3, 3, 3]), { groups: 4 }), RangeError, /weight/, /\[8, 3, 3, 3\]/);
  });
  it.each([0, -1, 1.5, NaN])('groups = %s -> RangeError naming groups', (g) => {
    expectError(() => conv2d(x(), w(), { groups: g }), RangeError, /groups/, new RegExp(String(g).replace('.', '\\.')));
  });
  it("groups = '4' -> TypeError naming groups", () => {
    expectError(() => conv2d(x(), w(), { groups: '4' as unknown as number }), TypeError, /groups/, /"4"/);
  });
  it.each([0, -2, 1.5, NaN, Infinity])('stride = %s -> RangeError naming stride', (s) => {
    expectError(() => conv2d(x(), w(), { groups: 4, stride: s }), RangeError, /stride/, new RegExp(String(s).replace('.', '\\.')));
  });
  it('stride = [1, 0] -> RangeError naming stride[1]', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, stride: [1, 0] }), RangeError, /stride\[1\]/, /received 0/);
  });
  it.each([0, -1, 2.5])('dilation = %s -> RangeError naming dilation', (d) => {
    expectError(() => conv2d(x(), w(), { groups: 4, dilation: d }), RangeError, /dilation/, new RegExp(String(d).replace('.', '\\.')));
  });
  it('dilation = "2" -> TypeError naming dilation', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, dilation: '2' as unknown as number }), TypeError, /dilation/);
  });
  it.each([
    [-1, /padding/],
    [[1, -1], /padding\[1\]/],
    [[0, 0, -3, 0], /padding\[2\]/],
    [{ top: 0, left: 0, bottom: 0, right: -1 }, /padding\.right/],
  ])('negative padding %j -> RangeError naming the side', (p, re) => {
    expectError(() => conv2d(x(), w(), { groups: 4, padding: p as never }), RangeError, re, /-\d/);
  });
  it('padding with 3 entries -> RangeError naming padding', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, padding: [1, 1, 1] as never }), RangeError, /padding/);
  });
  it('kernel larger than the padded input -> RangeError naming the weight dimension', () => {
    expectError(() => conv2d(randn([1, 2, 3, 3]), randn([2, 2, 5, 5])), RangeError, /weight\.shape\[2\]/, /5/);
    expectError(() => conv2d(randn([1, 2, 9, 3]), randn([2, 2, 3, 3]), { dilation: 2 }), RangeError, /weight\.shape\[3\]/);
  });
  it('bias of the wrong length -> RangeError naming bias', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, bias: zeros([7]) }), RangeError, /bias/, /\[7\]/);
  });
  it('bias that is not a tensor -> TypeError naming bias', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, bias: new Float32Array(8) as never }), TypeError, /bias/, /Float32Array/);
  });
  it('x that is not a tensor -> TypeError naming x', () => {
    expectError(() => conv2d(new Float32Array(10) as never, w()), TypeError, /\bx\b/);
  });
  it('x of rank 3 -> RangeError naming x.shape', () => {
    // A rank-3 tensor is a type error too; this checks the run-time message.
    // @ts-expect-error rank 3 where rank 4 is expected
    expectError(() => conv2d(randn([8, 6, 6]), w(), { groups: 4 }), RangeError, /x\.shape/, /\[8, 6, 6\]/);
  });
  it('disposed input, weight or bias -> TypeError naming it', () => {
    const xd = x();
    xd.dispose();
    expectError(() => conv2d(xd, w(), { groups: 4 }), TypeError, /\bx\b/, /disposed/);
    const wd = w();
    wd.dispose();
    expectError(() => conv2d(x(), wd, { groups: 4 }), TypeError, /weight/, /disposed/);
    const b = zeros([8]);
    b.dispose();
    expectError(() => conv2d(x(), w(), { groups: 4, bias: b }), TypeError, /bias/, /disposed/);
  });
  it('residual or out of the wrong shape -> RangeError naming it', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, padding: 1, residual: zeros([1, 8, 5, 5]) }), RangeError, /residual\.shape/);
    expectError(() => conv2d(x(), w(), { groups: 4, padding: 1, out: zeros([1, 8, 6, 5]) }), RangeError, /out\.shape/);
  });
  it('out that is the input itself -> RangeError', () => {
    const xi = x();
    expectError(() => conv2d(xi, randn([8, 8, 1, 1]), { out: xi }), RangeError, /out/);
  });
  it('unknown backend -> RangeError naming backend and listing the known ones', () => {
    expectError(() => conv2d(x(), w(), { groups: 4, backend: 'tpu' as never }), RangeError, /backend/, /"tpu"/, /'cpu'/);
  });
  it('unknown option -> RangeError naming it', () => {
    expectError(() => conv2d(x(), w(), { group: 4 } as never), RangeError, /options\.group/);
  });
  it('conv2dAsync rejects synchronously-detectable errors as a rejected promise', async () => {
    await expect(conv2dAsync(x(), w(), { groups: 3 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('tensor construction errors', () => {
  it.each([
    [[1, 0, 3], /shape\[1\]/, /received 0/],
    [[1, -2], /shape\[1\]/, /-2/],
    [[2.5], /shape\[0\]/, /2\.5/],
    [[NaN, 2], /shape\[0\]/, /NaN/],
  ])('zeros(%j) -> RangeError naming the dimension', (shape, re1, re2) => {
    expectError(() => zeros(shape as number[]), RangeError, re1, re2);
  });
  it('a dimension that is a string -> TypeError naming it', () => {
    expectError(() => zeros([2, '3' as unknown as number]), TypeError, /shape\[1\]/, /"3"/);
  });
  it('data length not matching the shape -> RangeError naming data and the counts', () => {
    expectError(() => tensor(new Float32Array(5), [2, 3]), RangeError, /data/, /6/, /length 5/);
  });
  it('an element count over 2^31 - 1 is refused before allocating', () => {
    expectError(() => zeros([65536, 65536]), RangeError, /2147483647/, /shape/);
    expectError(() => randn([1, 1024, 1024, 4096]), RangeError, /shape/);
  });
  it('an output whose element count overflows is refused before allocating', () => {
    // 1x1 input channel, huge padding: the output would have 2^32+ elements.
    expectError(() => conv2dPlan(zeros([1, 1, 1, 1]), { padding: 40000 }).outputShape([1, 1, 1, 1]), RangeError, /output/);
  });
  it('randn with a non-integer seed -> TypeError naming seed', () => {
    expectError(() => randn([2], { seed: 1.5 }), TypeError, /seed/);
  });
});

const binding = cpuBinding();
describe.skipIf(!binding)('native boundary re-checks (direct addon calls never crash)', () => {
  const b = binding!;
  const opts = {
    groups: 1,
    stride: [1, 1] as [number, number],
    dilation: [1, 1] as [number, number],
    padding: [0, 0, 0, 0] as [number, number, number, number],
    activation: 'none' as const,
  };
  it('weight that is not a Float32Array -> TypeError', () => {
    expect(() => new b.ConvPlan(new Float64Array(9) as never, [1, 1, 3, 3], null, opts)).toThrow(TypeError);
  });
  it('weight length not matching its shape -> RangeError naming weight', () => {
    expectError(() => new b.ConvPlan(new Float32Array(8), [1, 1, 3, 3], null, opts), RangeError, /weight/);
  });
  it('groups not dividing K -> RangeError naming groups', () => {
    expectError(() => new b.ConvPlan(new Float32Array(27), [3, 1, 3, 3], null, { ...opts, groups: 2 }), RangeError, /groups/);
  });
  it.each([
    ['stride', { stride: [0, 1] }],
    ['dilation', { dilation: [1, -1] }],
    ['padding', { padding: [0, -1, 0, 0] }],
    ['groups', { groups: 0 }],
    ['groups', { groups: 1.5 }],
  ])('bad %s -> RangeError naming it', (param, o) => {
    expectError(
      () => new b.ConvPlan(new Float32Array(9), [1, 1, 3, 3], null, { ...opts, ...(o as object) }),
      RangeError,
      new RegExp(param),
    );
  });
  it('input/output lengths, shapes and overflow are checked at run', () => {
    const plan = new b.ConvPlan(new Float32Array(9), [1, 1, 3, 3], null, opts);
    expectError(() => plan.run(new Float32Array(8), [1, 1, 3, 3], new Float32Array(1), null), RangeError, /input/);
    expectError(() => plan.run(new Float32Array(9), [1, 1, 3, 3], new Float32Array(2), null), RangeError, /output/);
    expectError(() => plan.run(new Float32Array(9), [1, 2, 3, 3], new Float32Array(1), null), RangeError, /channels/);
    expectError(() => plan.run(new Float32Array(4), [1, 1, 2, 2], new Float32Array(1), null), RangeError, /kernel height/);
    expectError(() => plan.run(new Float32Array(9), [65536, 1, 65536, 1], new Float32Array(1), null), RangeError, /element count|exceeds/);
    expectError(
      () => plan.run(new Float32Array(9), [1, 1, 3, 3] as never, new Float32Array(1), new Float32Array(3)),
      RangeError,
      /residual/,
    );
    const shared = new Float32Array(10);
    expectError(() => plan.run(shared.subarray(0, 9), [1, 1, 3, 3], shared.subarray(8, 9), null), RangeError, /share memory/);
    expect(() => plan.run(new Float32Array(9), 'abc' as never, new Float32Array(1), null)).toThrow(TypeError);
  });
  it('runAsync re-checks too, before queueing', () => {
    const plan = new b.ConvPlan(new Float32Array(9), [1, 1, 3, 3], null, opts);
    expectError(() => plan.runAsync(new Float32Array(8), [1, 1, 3, 3], new Float32Array(1), null), RangeError, /input/);
  });
  it('setNumThreads rejects bad values', () => {
    expect(() => b.setNumThreads(-1)).toThrow(RangeError);
    expect(() => b.setNumThreads('2' as never)).toThrow(TypeError);
  });
});
