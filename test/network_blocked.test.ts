// The CPU network lowering in the blocked channel layout (NCHW16c with
// AVX-512, NCHW8c with AVX2 and scalar): whole networks against the float64
// reference and against the NCHW lowering, for every ISA this CPU has (forced
// through the addon's ISA cap, which the Network reads when it packs), on
// even and odd input sizes; channel counts that leave padding lanes; padding
// lanes after a slot held other values; NaN through the blocked kernels; the
// native step records' checks; and what planInfo() reports.

import { afterAll, describe, expect, it } from 'vitest';

import { cpuBinding } from '../lib/binding';
import type { ResNeXtModel } from '../lib/models/model';
import { resnet50, resnext, resnext50_32x4d } from '../lib/models/presets';
import { conv2d } from '../lib';
import { HostStorage, randn, Tensor } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';
import { relErr } from './helpers/compare';
import { randomizeBatchNorm } from './helpers/models';
import { type SpiedStep, withProgramSpy } from './helpers/program_spy';

const hasCpu = nativeHostBackends().includes('cpu');
const b = cpuBinding();
const isas = ((): string[] => {
  if (!b) return [];
  const best = b.setIsaCap('avx512');
  b.setIsaCap(best);
  return best === 'avx512' ? ['avx512', 'avx2', 'scalar'] : best === 'avx2' ? ['avx2', 'scalar'] : ['scalar'];
})();

afterAll(() => {
  b?.setIsaCap(isas[0] ?? 'scalar');
});

/** A fresh model (so its engine is packed under the ISA cap in force) with random BN statistics. */
function model(make: (o: { seed: number }) => ResNeXtModel, seed: number): ResNeXtModel {
  const m = make({ seed });
  randomizeBatchNorm(m, seed + 1);
  return m;
}

const cbOf = (isa: string): number => (isa === 'avx512' ? 16 : 8);

describe.runIf(hasCpu)('blocked CPU lowering: whole networks vs the float64 reference, every ISA', () => {
  const cases = [
    { name: 'resnext50_32x4d', make: resnext50_32x4d, shape: [2, 3, 64, 64] },
    { name: 'resnext50_32x4d', make: resnext50_32x4d, shape: [1, 3, 57, 61] },
    { name: 'resnet50', make: resnet50, shape: [1, 3, 57, 61] },
  ] as const;
  for (const c of cases) {
    describe(`${c.name} x=[${c.shape.join(', ')}]`, () => {
      const x = randn([...c.shape] as number[], { seed: 7 });
      // One model: a forward with another layout rebuilds its engine, packed under the ISA cap then in force.
      const m = model(c.make, 3);
      let ref: Float32Array | null = null;
      const reference = async (): Promise<Float32Array> => (ref ??= (await m.forward(x, { backend: 'reference' })).dataSync());

      it.each(isas)(
        "isa %s: layouts 'auto' and 'blocked' agree with the reference <= 1e-4 and with layout 'nchw'",
        async (isa) => {
          const r = await reference();
          b!.setIsaCap(isa);
          try {
            const out: Record<string, Float32Array> = {};
            for (const layout of ['auto', 'blocked', 'nchw'] as const) {
              // tune: false: the kernels below are the cost model's (tune may time Winograd against direct).
              out[layout] = (await m.forward(x, { backend: 'cpu', layout, tune: false })).dataSync();
              const info = m.planInfo();
              const blocked = info.filter((p) => p.layout !== 'NCHW');
              if (layout === 'nchw') {
                expect(blocked).toEqual([]);
              } else {
                // auto: layer1 and layer2 (3 + 4 blocks, 3 convs each, 2 shortcuts); blocked: every conv but the stem.
                // ResNet-50's dense 3x3s run the blocked Winograd kernels (stride 1: F(4x4) at 64 and 128 channels,
                // layer1-2; F(2x2) at 256, layer3) or the direct one (stride 2 in layer2.0 and layer3.0, and 512
                // channels).
                expect(blocked.length).toBe(layout === 'auto' ? 23 : 52);
                for (const p of blocked) {
                  expect(p.layout).toBe(`NCHW${cbOf(isa)}c`);
                  expect(p.impl).toMatch(new RegExp(`_nchw${cbOf(isa)}c_${isa}$`));
                }
                const conv2 = (stride: number): string => (c.name !== 'resnet50' ? 'grouped3x3' : stride === 1 ? 'winograd43' : 'conv3x3');
                for (const [name, stride] of [
                  ['layer1.0.conv2', 1],
                  ['layer2.0.conv2', 2],
                  ['layer2.3.conv2', 1],
                ] as const)
                  expect(info.find((p) => p.name === name)!.impl).toBe(`${conv2(stride)}_nchw${cbOf(isa)}c_${isa}`);
                expect(info.find((p) => p.name === 'conv1')!.layout).toBe('NCHW');
                expect(info.find((p) => p.name === 'layer3.0.conv1')!.layout).toBe(layout === 'auto' ? 'NCHW' : `NCHW${cbOf(isa)}c`);
                if (c.name === 'resnet50' && layout === 'blocked')
                  expect(info.find((p) => p.name === 'layer3.1.conv2')!.impl).toBe(`winograd3x3_nchw${cbOf(isa)}c_${isa}`);
              }
              const e = relErr(out[layout], r);
              console.log(
                `${c.name} [${c.shape.join(', ')}] isa ${isa} layout ${layout}: ${blocked.length} convs blocked, rel err ${e.toExponential(2)}`,
              );
              expect(e).toBeLessThanOrEqual(1e-4);
            }
            expect(relErr(out.auto, out.nchw)).toBeLessThanOrEqual(1e-5);
            expect(relErr(out.blocked, out.nchw)).toBeLessThanOrEqual(1e-5);
          } finally {
            b!.setIsaCap(isas[0]);
          }
        },
        120_000,
      );
    });
  }
});

describe.runIf(hasCpu)('blocked CPU lowering: a conv whose blocked kernel has another block size runs NCHW', () => {
  // The paper's Table 2 widths 2x40d and 4x24d: 40 and 24 channels per group have no grouped 3x3 kernel in 16-channel
  // blocks, only the AVX2 one in 8-channel blocks. With AVX-512 the program keeps one block size: that conv (with its
  // 'auto' stage) runs NCHW instead of asking for a conversion between two block sizes (which `npx resnext bench`
  // hit: "the cpu lowering has no step 'reorder'").
  for (const [cardinality, width] of [
    [2, 40],
    [4, 24],
  ] as const) {
    it.each(isas)(
      `resnext50 ${cardinality}x${width}d x=[1, 3, 64, 64], isa %s: 'auto' and 'blocked' agree with the reference <= 1e-4`,
      async (isa) => {
        const m = model((o) => resnext({ ...o, depth: 50, cardinality, width }), 5);
        const x = randn([1, 3, 64, 64], { seed: 9 });
        const r = (await m.forward(x, { backend: 'reference' })).dataSync();
        b!.setIsaCap(isa);
        try {
          for (const layout of ['auto', 'blocked'] as const) {
            const y = (await m.forward(x, { backend: 'cpu', layout, tune: false })).dataSync();
            expect(relErr(y, r)).toBeLessThanOrEqual(1e-4);
            const info = m.planInfo();
            const layouts = new Set(info.filter((p) => p.layout !== 'NCHW').map((p) => p.layout));
            expect([...layouts]).toEqual([`NCHW${cbOf(isa)}c`]);
            // layer1's grouped 3x3 (channels per group 40 or 24) runs blocked only where the block size allows it.
            const g = info.find((p) => p.name === 'layer1.0.conv2')!;
            expect(g.layout).toBe(width % cbOf(isa) === 0 ? `NCHW${cbOf(isa)}c` : 'NCHW');
          }
        } finally {
          b!.setIsaCap(isas[0]);
        }
      },
      120_000,
    );
  }
});

describe.runIf(hasCpu)('blocked CPU lowering: padding lanes, reused slots, NaN', () => {
  // 3 groups of 4 channels: conv1 and conv2 of layer1 have 12 channels, so every block of 16 (AVX-512) has
  // 4 padding lanes, and layer2's 24 channels leave 8 (16) or none (8).
  const make = (o: { seed: number }): ResNeXtModel => resnext({ depth: 50, cardinality: 3, width: 4, numClasses: 10, ...o });

  it.each(isas)(
    'isa %s: resnext50 (C=3, d=4) x=[2, 3, 40, 36]: padding lanes are zero after every slot held NaN, and NaN runs through like NCHW',
    async (isa) => {
      b!.setIsaCap(isa);
      try {
        const x = randn([2, 3, 40, 36], { seed: 5 });
        const ref = (await model(make, 9).forward(x, { backend: 'reference' })).dataSync();
        const m = model(make, 9);
        const nan = new Tensor(new HostStorage(x.dataSync().map(() => NaN)), [...x.shape]);
        // Every slot of the arena now holds NaN, padding lanes included (the stem and every conv write NaN).
        const allNan = (await m.forward(nan, { backend: 'cpu', layout: 'blocked' })).dataSync();
        expect(allNan.every(Number.isNaN)).toBe(true);
        const y = (await m.forward(x, { backend: 'cpu', layout: 'blocked' })).dataSync();
        expect(m.planInfo().filter((p) => p.layout !== 'NCHW').length).toBe(52);
        // A NaN left in a padding lane would reach every logit through the next 1x1 (0 * NaN = NaN).
        expect(y.every(Number.isFinite)).toBe(true);
        expect(relErr(y, ref)).toBeLessThanOrEqual(1e-4);

        // One NaN pixel: the blocked and the NCHW lowerings put NaN in the same logits (some, not none).
        const d = x.dataSync().slice();
        d[3 * 40 * 36 + 17 * 36 + 5] = NaN; // image 1, channel 0
        const xn = new Tensor(new HostStorage(d), [...x.shape]);
        const blocked = (await m.forward(xn, { backend: 'cpu', layout: 'blocked' })).dataSync();
        const nchw = (await m.forward(xn, { backend: 'cpu', layout: 'nchw' })).dataSync();
        const mask = (v: Float32Array): boolean[] => Array.from(v, Number.isNaN);
        expect(mask(blocked)).toEqual(mask(nchw));
        expect(mask(blocked).slice(10).every(Boolean)).toBe(true);
        expect(mask(blocked).slice(0, 10).some(Boolean)).toBe(false);
        expect(relErr(blocked.subarray(0, 10), nchw.subarray(0, 10))).toBeLessThanOrEqual(1e-5);
      } finally {
        b!.setIsaCap(isas[0]);
      }
    },
    60_000,
  );
});

describe.runIf(hasCpu)('native Network: blocked step records are checked', () => {
  const w = randn([32, 16, 1, 1], { seed: 1 }).dataSync();
  const conv = { weight: w, shape: [32, 16, 1, 1], bias: null, groups: 1, stride: [1, 1], padding: [0, 0, 0, 0], activation: 'relu' };
  const cb = cbOf(isas[0]);
  const f = (n: number): Float32Array => new Float32Array(n);
  type Net = InstanceType<NonNullable<NonNullable<typeof b>['Network']>>;
  const blockedNet = (): Net => new b!.Network!([{ ...conv, blockedGroup: 0 }] as never);

  it('a conv without blocked weights, a wrong cb, wrong blocked buffer sizes and an unknown op are RangeErrors naming the field', () => {
    const plain = new b!.Network!([conv] as never);
    const step = { op: 'blockedConv', conv: 0, input: f(16 * 16), inputShape: [1, 16, 4, 4], output: f(32 * 16), residual: null, cb };
    expect(() => plain.addProgram([step] as never, 1)).toThrow(/steps\[0\]\.conv: conv 0 has no blocked kernel/);
    // A group is blocked all together or not at all: a 5x5 conv (no blocked kernel) keeps the 1x1 of its group NCHW.
    const w5 = randn([16, 16, 5, 5], { seed: 2 }).dataSync();
    const mixed = new b!.Network!([
      { ...conv, blockedGroup: 3 },
      { ...conv, weight: w5, shape: [16, 16, 5, 5], padding: [2, 2, 2, 2], blockedGroup: 3 },
      { ...conv, blockedGroup: 4 },
    ] as never);
    expect(mixed.info().map((p) => p.blocked?.cb ?? 0)).toEqual([0, 0, cb]);
    expect(mixed.info()[0].impl).not.toMatch(/nchw\d+c/);
    mixed.dispose();
    expect(() => plain.addProgram([{ op: 'toBlocked', input: null, inputShape: [1, 16, 4, 4], output: f(256), cb }] as never, 256)).toThrow(
      /steps\[0\]\.cb: the network has no blocked kernel/,
    );
    const net = blockedNet();
    expect(net.info()[0].blocked).toMatchObject({ cb, impl: `conv1x1_nchw${cb}c_${isas[0]}` });
    expect(net.addProgram([step] as never, 1)).toBe(0);
    expect(() => net.addProgram([{ ...step, cb: 24 - cb }] as never, 1)).toThrow(RangeError);
    expect(() => net.addProgram([{ ...step, cb: 24 - cb }] as never, 1)).toThrow(
      new RegExp(`steps\\[0\\]\\.cb: expected ${cb} but received ${24 - cb}`),
    );
    expect(() => net.addProgram([{ ...step, output: f(32 * 16 - 1) }] as never, 1)).toThrow(/steps\[0\]\.output/);
    expect(() => net.addProgram([{ ...step, residual: f(32 * 15) }] as never, 1)).toThrow(/steps\[0\]\.residual/);
    // 10 channels take ceil(10 / cb) * cb lanes per pixel in the blocked buffer.
    const to = { op: 'toBlocked', input: f(10 * 9), inputShape: [1, 10, 3, 3], output: f(Math.ceil(10 / cb) * cb * 9), cb };
    expect(net.addProgram([to] as never, 1)).toBe(1);
    expect(() => net.addProgram([{ ...to, output: f(10 * 9) }] as never, 1)).toThrow(/steps\[0\]\.output/);
    expect(() => net.addProgram([{ ...to, op: 'fromBlocked' }] as never, 1)).toThrow(/steps\[0\]\.input/);
    expect(() => net.addProgram([{ ...to, op: 'toNHWC' }] as never, 1)).toThrow(/steps\[0\]\.op: expected 'conv', 'blockedConv'/);
    expect(() => new b!.Network!([{ ...conv, blockedGroup: -1 }] as never)).toThrow(/convs\[0\]\.blockedGroup/);
    expect(() => new b!.Network!([{ ...conv, blockedGroup: 'a' }] as never)).toThrow(TypeError);
    net.dispose();
    plain.dispose();
  });

  it('weightScale folds a per-output-channel scale while packing: bit for bit the pre-scaled weights; checked like the others', () => {
    const scale = Float64Array.from({ length: 32 }, (_, k) => 0.5 + k / 7);
    const scaled = Float32Array.from(w, (v, i) => v * scale[Math.floor(i / 16)]);
    const x = randn([1, 16, 4, 4], { seed: 3 }).dataSync();
    const run = (spec: object): Float32Array => {
      const net = new b!.Network!([spec] as never);
      const out = f(32 * 16);
      const id = net.addProgram([{ op: 'conv', conv: 0, input: x, inputShape: [1, 16, 4, 4], output: out, residual: null }] as never, 1);
      net.run(id, f(1));
      net.dispose();
      return out;
    };
    for (const group of [{}, { blockedGroup: 0 }]) {
      const folded = run({ ...conv, ...group, weight: w, weightScale: scale });
      expect(Array.from(folded)).toEqual(Array.from(run({ ...conv, ...group, weight: scaled })));
      expect(Array.from(folded)).not.toEqual(Array.from(run({ ...conv, ...group })));
    }
    expect(() => new b!.Network!([{ ...conv, weightScale: new Float32Array(32) }] as never)).toThrow(TypeError);
    expect(() => new b!.Network!([{ ...conv, weightScale: new Float64Array(31) }] as never)).toThrow(
      /convs\[0\]\.weightScale: expected 32 elements but received 31/,
    );
    expect(() => new b!.Network!([{ ...conv, weightScale: new Float64Array(32).fill(NaN) }] as never)).toThrow(RangeError);
  });

  it('toBlocked then fromBlocked through a program round-trips NCHW and zero-fills the padding lanes', () => {
    const net = blockedNet();
    const C = 10,
      HW = 6,
      Cp = Math.ceil(C / cb) * cb;
    const x = Float32Array.from({ length: C * HW }, (_, i) => i + 1);
    const mid = f(Cp * HW).fill(NaN),
      back = f(C * HW);
    const id = net.addProgram(
      [
        { op: 'toBlocked', input: null, inputShape: [1, C, 2, 3], output: mid, cb },
        { op: 'fromBlocked', input: mid, inputShape: [1, C, 2, 3], output: back, cb },
      ] as never,
      C * HW,
    );
    net.run(id, x);
    expect(Array.from(back)).toEqual(Array.from(x));
    for (let p = 0; p < HW; p++)
      for (let c = 0; c < Cp; c++) expect(mid[(Math.floor(c / cb) * HW + p) * cb + (c % cb)]).toBe(c < C ? x[c * HW + p] : 0);
    net.dispose();
  });
});

// A reorder to NCHW of a blocked 1x1's output that nothing else reads: the conv writes NCHW itself and the
// reorder step is skipped (its time reads 0; native/napi/network_wrap.cc FuseReorders), every ISA.
describe.runIf(hasCpu)('native Network: a blocked 1x1 writes NCHW for the reorder after it when nothing else reads its output', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  // [name, N, C, K, H, stride]: multiple slices of input channels (300 > 256), partial output blocks (K = 40, 36).
  const shapes = [
    ['x=[2,300,9,9] w=[40,300,1,1]', 2, 300, 40, 9, 1],
    ['x=[3,20,7,7] w=[36,20,1,1] stride 2', 3, 20, 36, 7, 2],
  ] as const;
  for (const isa of isas) {
    for (const [name, N, C, K, H, stride] of shapes) {
      it(`isa ${isa}, ${name}: fused where allowed (with a blocked residual too, in place or not), refused where the output is read again, the reorder's output is the conv input's memory or a step between touches it; always the reference's answer`, () => {
        b!.setIsaCap(isa);
        const cb = cbOf(isa);
        try {
          const w = randn([K, C, 1, 1], { seed: 1 }),
            bias = randn([K], { seed: 2 }),
            x = randn([N, C, H, H], { seed: 3 });
          const net = new b!.Network!([
            {
              weight: w.dataSync(),
              shape: [K, C, 1, 1],
              bias: bias.dataSync(),
              groups: 1,
              stride: [stride, stride],
              padding: [0, 0, 0, 0],
              activation: 'relu',
              blockedGroup: 0,
            },
          ] as never);
          const P = Math.floor((H - 1) / stride) + 1;
          const inB = N * Math.ceil(C / cb) * cb * H * H,
            outB = N * Math.ceil(K / cb) * cb * P * P,
            outN = N * K * P * P;
          const ref = conv2d(x, w, { stride, bias, activation: 'relu', backend: 'reference' }).dataSync();
          const conv = (input: Float32Array, output: Float32Array, residual: Float32Array | null = null) => ({
            op: 'blockedConv',
            conv: 0,
            input,
            inputShape: [N, C, H, H],
            output,
            residual,
            cb,
          });
          const toB = (output: Float32Array) => ({ op: 'toBlocked', input: null, inputShape: [N, C, H, H], output, cb });
          const fromB = (input: Float32Array, output: Float32Array) => ({ op: 'fromBlocked', input, inputShape: [N, K, P, P], output, cb });
          // Runs a program; returns the per-step times and checks the NCHW result `y` against the reference.
          const run = (steps: object[], y: Float32Array): Float64Array => {
            const id = net.addProgram(steps as never, x.size);
            const t = new Float64Array(steps.length).fill(-1);
            net.run(id, x.dataSync(), t);
            net.dropProgram(id);
            expect(relErr(y, ref)).toBeLessThanOrEqual(1e-5);
            return t;
          };
          // Fused: the reorder's time is exactly 0.
          let xb = f(inB),
            yb = f(outB).fill(NaN),
            y = f(outN);
          expect(run([toB(xb), conv(xb, yb), fromB(yb, y)], y)[2]).toBe(0);
          // The blocked output is read again after the reorder (a second reorder): not fused.
          const y2 = f(outN);
          let t = run([toB(xb), conv(xb, yb), fromB(yb, y), fromB(yb, y2)], y);
          expect(t[2]).toBeGreaterThan(0);
          expect(relErr(y2, ref)).toBeLessThanOrEqual(1e-5);
          // The reorder's output reuses the conv input's memory (dead by then): fusing would overwrite the input
          // while the conv reads it, so not fused.
          const arena = f(Math.max(inB, outN));
          xb = arena.subarray(0, inB);
          y = arena.subarray(0, outN);
          t = run([toB(xb), conv(xb, yb), fromB(yb, y)], y);
          expect(t[2]).toBeGreaterThan(0);
          // A step between the two reads the reorder's output memory (here: converts the input again into it).
          const shared = f(Math.max(inB, outN));
          xb = f(inB);
          y = shared.subarray(0, outN);
          t = run([toB(xb), conv(xb, yb), toB(shared.subarray(0, inB)), fromB(yb, y)], y);
          expect(t[3]).toBeGreaterThan(0);
          // With a blocked residual, and in place (output === residual): fused, the residual read as before.
          const resB = f(outB);
          const resVal = randn([N, K, P, P], { seed: 4 });
          const refRes = conv2d(x, w, { stride, bias, activation: 'relu', residual: resVal, backend: 'reference' }).dataSync();
          for (const inPlace of [false, true]) {
            const rb = inPlace ? resB : f(outB);
            const out = inPlace ? rb : yb;
            y = f(outN);
            const id = net.addProgram(
              [
                toB(xb),
                { op: 'toBlocked', input: resVal.dataSync(), inputShape: [N, K, P, P], output: rb, cb },
                conv(xb, out, rb),
                fromB(out, y),
              ] as never,
              x.size,
            );
            const tt = new Float64Array(4).fill(-1);
            net.run(id, x.dataSync(), tt);
            net.dropProgram(id);
            expect(tt[3]).toBe(0);
            expect(relErr(y, refRes)).toBeLessThanOrEqual(1e-5);
          }
          net.dispose();
        } finally {
          b!.setIsaCap(isas[0]);
        }
      });
    }
  }
});

describe.runIf(hasCpu)('in-place residuals: a conv3 writes over its residual where its kernel allows it', () => {
  const w = randn([32, 16, 1, 1], { seed: 1 }).dataSync();
  const conv = { weight: w, shape: [32, 16, 1, 1], bias: null, groups: 1, stride: [1, 1], padding: [0, 0, 0, 0], activation: 'relu' };
  const cb = cbOf(isas[0]);
  const x = randn([1, 16, 4, 4], { seed: 3 }).dataSync();
  const res = randn([1, 32, 4, 4], { seed: 4 }).dataSync();

  it('the boundary accepts output === residual (same start and size) for the kernels that declare it, bit for bit a separate output', () => {
    // NCHW gemm (one kd block) and the blocked 1x1 declare it; a 3x3 (Winograd / direct) and a gemm with 520 input channels do not.
    const w3 = randn([32, 16, 3, 3], { seed: 2 }).dataSync();
    const w520 = randn([32, 520, 1, 1], { seed: 5 }).dataSync();
    const net = new b!.Network!([
      conv,
      { ...conv, blockedGroup: 0 },
      { ...conv, weight: w3, shape: [32, 16, 3, 3], padding: [1, 1, 1, 1] },
      { ...conv, weight: w520, shape: [32, 520, 1, 1] },
    ] as never);
    expect(net.info().map((p) => p.residualInPlace)).toEqual([true, true, false, false]);
    const blockedX = new Float32Array(16 * 16),
      blockedRes = new Float32Array(32 * 16);
    blockedX.set(x); // any values: the kernel reads channel blocks as they are
    blockedRes.set(res);
    for (const [i, op, input, residual] of [
      [0, 'conv', x, res],
      [1, 'blockedConv', blockedX, blockedRes],
    ] as const) {
      const step = { op, conv: i, input, inputShape: [1, 16, 4, 4], ...(op === 'blockedConv' ? { cb } : {}) };
      const apart = new Float32Array(32 * 16);
      const id0 = net.addProgram([{ ...step, output: apart, residual }] as never, 1);
      net.run(id0, new Float32Array(1));
      const inout = residual.slice();
      const id1 = net.addProgram([{ ...step, output: inout, residual: inout }] as never, 1);
      net.run(id1, new Float32Array(1));
      expect(Array.from(inout)).toEqual(Array.from(apart));
      // A partial overlap is refused, whatever the kernel.
      const buf = new Float32Array(32 * 16 + 16);
      expect(() => net.addProgram([{ ...step, output: buf.subarray(0, 32 * 16), residual: buf.subarray(16) }] as never, 1)).toThrow(
        /steps\[0\]\.residual: must not share memory with the output unless it is the output itself/,
      );
    }
    for (const [i, c] of [
      [2, 16],
      [3, 520],
    ] as const) {
      const inout = new Float32Array(32 * 16);
      const step = { op: 'conv', conv: i, input: new Float32Array(c * 16), inputShape: [1, c, 4, 4], output: inout, residual: inout };
      expect(() => net.addProgram([step] as never, 1)).toThrow(
        /steps\[0\]\.residual: must not share memory with the output \(conv \d+'s kernel \w+ cannot write over its residual\)/,
      );
    }
    net.dispose();
  });

  it.each(['auto', 'blocked'] as const)(
    'layout %s: the lowering gives each blocked conv3 one buffer as residual and output (resnext50_32x4d x=[1, 3, 57, 61])',
    async (layout) => {
      const inPlace: number[] = [];
      const onProgram = (steps: SpiedStep[]): void => {
        inPlace.push(
          steps.filter((s) => s.residual && s.residual.buffer === s.output.buffer && s.residual.byteOffset === s.output.byteOffset).length,
        );
      };
      await withProgramSpy(b!, onProgram, async () => {
        const m = model(resnext50_32x4d, 5);
        await m.forward(randn([1, 3, 57, 61], { seed: 6 }), { backend: 'cpu', layout, tune: false });
        // The blocked conv3s: layer1-2's (3 + 4) with 'auto', all 16 with 'blocked' (NCHW gemm allows it, with one
        // kd block, but the lowering keeps NCHW convs out of place: it measured no faster there).
        expect(inPlace).toEqual([layout === 'auto' ? 7 : 16]);
        m.dispose();
      });
    },
    60_000,
  );
});

describe.runIf(hasCpu)("layout 'auto': the first NCHW block's conv1 and shortcut read the blocked stage's output", () => {
  it.each([1, 2])(
    'resnext50_32x4d x=[%i, 3, 64, 64]: blocked (the reorder after them) from batch 2, NCHW (the reorder before) at batch 1',
    async (n) => {
      const m = model(resnext50_32x4d, 11);
      const x = randn([n, 3, 64, 64], { seed: 12 });
      const p = await m.profile(x, { backend: 'cpu', layout: 'auto', tune: false });
      const names = p.steps.map((s) => (s.op === 'reorder' ? 'reorder' : s.name));
      const impl = (name: string): string => p.steps.find((s) => s.name === name)!.impl ?? '';
      const blocked = /nchw(16|8)c/;
      const at = (name: string): number => names.indexOf(name);
      const reorders = names.flatMap((v, i) => (v === 'reorder' ? [i] : []));
      if (n === 1) {
        expect(impl('layer3.0.conv1')).not.toMatch(blocked);
        expect(impl('layer3.0.downsample.0')).not.toMatch(blocked);
        expect(reorders).toEqual([at('layer3.0.conv1') - 1]);
      } else {
        expect(impl('layer3.0.conv1')).toMatch(blocked);
        expect(impl('layer3.0.downsample.0')).toMatch(blocked);
        // One reorder each for conv1's output (conv2's input) and the shortcut's (conv3's residual), none before.
        expect(reorders).toHaveLength(2);
        expect(Math.min(...reorders)).toBeGreaterThan(Math.min(at('layer3.0.conv1'), at('layer3.0.downsample.0')));
        expect(Math.max(...reorders)).toBeLessThan(at('layer3.0.conv3'));
      }
      expect(impl('layer3.0.conv2')).not.toMatch(blocked);
      const ref = (await m.forward(x, { backend: 'reference' })).dataSync();
      expect(relErr(p.logits.dataSync(), ref)).toBeLessThanOrEqual(1e-4);
      m.dispose();
    },
    60_000,
  );
});

describe.runIf(hasCpu)('layout option', () => {
  it("forward and prepare check it: 'auto' | 'blocked' | 'nchw'; mode 'layer' refuses 'blocked'", async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 1 });
    const x = randn([1, 3, 32, 32], { seed: 2 });
    await expect(m.forward(x, { layout: 'nhwc' as never })).rejects.toThrow(RangeError);
    await expect(m.forward(x, { layout: 'nhwc' as never })).rejects.toThrow(/layout/);
    await expect(m.forward(x, { layout: 3 as never })).rejects.toThrow(TypeError);
    expect(() => m.prepare({ layout: 'NCHW' as never })).toThrow(RangeError);
    await expect(m.forward(x, { mode: 'layer', layout: 'blocked' })).rejects.toThrow(
      /with mode 'layer'.* for layout but received "blocked"/,
    );
    m.prepare({ layout: 'nchw' });
    expect(m.planInfo().every((p) => p.layout === 'NCHW')).toBe(true);
    m.prepare({ layout: 'blocked' });
    expect(m.planInfo().filter((p) => p.layout !== 'NCHW').length).toBe(52);
    // Undefined keeps the prepared engine's choice.
    await m.forward(x);
    expect(m.planInfo().filter((p) => p.layout !== 'NCHW').length).toBe(52);
  });
});
