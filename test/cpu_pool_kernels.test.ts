// The CPU pooling and fc kernels against the reference, for every ISA this
// CPU has (forced through the addon's ISA cap): max pool NCHW -> blocked
// (NCHW16c / NCHW8c: the stem's pool writing the first stage's layout) and
// blocked -> blocked, for the stem's 3x3 stride 2 pad 1 and other windows,
// element for element (max is exact), padding lanes written zero; global
// average pool from NCHW and from the blocked layout; fc (linear) at batch 1
// and above, rows past a register tile, features past a tile, inputs not a
// multiple of a vector, all against float64 (<= 1e-4 normwise; fc also per
// element <= 1e-5 of its row's scale). Shapes have channels that are not a
// multiple of the block, odd sizes, batch 1 and > 1; NaN, +Inf and -Inf run
// through as on the reference; bad layouts are RangeErrors naming them.
import { afterAll, describe, expect, it } from 'vitest';

import { globalAvgPool, linear, maxPool2d, randn, tensor } from '../lib';
import { cpuBinding } from '../lib/binding';
import { cpuIsaCaps } from './helpers/backends';
import { toBlockedData } from './helpers/blocked';
import { relErr } from './helpers/compare';

const b = cpuBinding();
const isas = cpuIsaCaps();

afterAll(() => {
  if (isas.length > 0) b?.setIsaCap(isas[0]);
});

type Shape = [number, number, number, number];
/** [kh, kw, sh, sw, ph, pw] */
type Window = [number, number, number, number, number, number];

const poolCases: { shape: Shape; win: Window }[] = [
  { shape: [1, 20, 17, 23], win: [3, 3, 2, 2, 1, 1] },
  { shape: [2, 16, 14, 14], win: [3, 3, 2, 2, 1, 1] },
  { shape: [1, 3, 1, 9], win: [3, 3, 2, 2, 1, 1] },
  // 35 output columns (two full vectors and a part), output rows in more than one task.
  { shape: [1, 18, 70, 69], win: [3, 3, 2, 2, 1, 1] },
  { shape: [2, 33, 9, 8], win: [3, 3, 1, 1, 1, 1] },
  { shape: [1, 7, 10, 11], win: [2, 2, 2, 2, 0, 0] },
  { shape: [1, 9, 12, 13], win: [5, 3, 3, 2, 2, 0] },
];

/** Poisons some elements (NaN, +Inf, -Inf) and one whole plane with -Inf. */
function poison<T extends Float32Array<ArrayBufferLike>>(d: T, shape: Shape): T {
  for (let i = 0; i < d.length; i += 37) d[i] = NaN;
  for (let i = 5; i < d.length; i += 43) d[i] = Infinity;
  for (let i = 11; i < d.length; i += 29) d[i] = -Infinity;
  const plane = shape[2] * shape[3];
  if (shape[1] > 1) d.fill(-Infinity, plane, 2 * plane);
  return d;
}

function pooledShape(shape: Shape, win: Window): Shape {
  const [N, C, H, W] = shape;
  const [kh, kw, sh, sw, ph, pw] = win;
  return [N, C, Math.floor((H + 2 * ph - kh) / sh) + 1, Math.floor((W + 2 * pw - kw) / sw) + 1];
}

/** The reference max pool of NCHW data (kernel kh x kw etc.), returned NCHW. */
function referencePool(d: Float32Array, shape: Shape, win: Window): Float32Array {
  const [kh, kw, sh, sw, ph, pw] = win;
  return maxPool2d(tensor(d, shape), { kernelSize: [kh, kw], stride: [sh, sw], padding: [ph, pw], backend: 'reference' }).dataSync();
}

describe.skipIf(isas.length === 0)('max pool on the blocked layout on cpu equals the reference element for element', () => {
  for (const isa of isas) {
    for (const cb of [16, 8]) {
      for (const { shape, win } of poolCases) {
        for (const nonfinite of [false, true]) {
          const what = nonfinite ? ' with NaN, +Inf, -Inf' : '';
          const name = `ISA cap ${isa}, cb ${cb}: x [${shape}] window ${win[0]}x${win[1]} stride ${win[2]},${win[3]} pad ${win[4]},${win[5]}${what}`;
          it(name, () => {
            b!.setIsaCap(isa);
            let d = randn(shape, { seed: shape[1] * 10 + shape[3] })
              .dataSync()
              .slice();
            if (nonfinite) d = poison(d, shape);
            const ref = referencePool(d, shape, win);
            const ys = pooledShape(shape, win);
            const want = toBlockedData(ref, ys, cb);
            if (nonfinite) expect(ref.some(Number.isNaN)).toBe(true);
            // NCHW -> blocked; the output starts non-zero so the padding lanes must be written.
            const y1 = new Float32Array(want.length).fill(7);
            b!.maxPool2d!(d, shape, y1, win, [0, cb]);
            expect(Array.from(y1)).toEqual(Array.from(want));
            // blocked -> blocked.
            const y2 = new Float32Array(want.length).fill(7);
            b!.maxPool2d!(toBlockedData(d, shape, cb), shape, y2, win, [cb, cb]);
            expect(Array.from(y2)).toEqual(Array.from(want));
          });
        }
      }
    }
  }

  it('layouts other than NCHW->NCHW, NCHW->blocked and blocked->blocked (same cb) are RangeErrors naming them', () => {
    const shape: Shape = [1, 16, 8, 8];
    const x = new Float32Array(16 * 64),
      y = new Float32Array(16 * 16);
    const win: Window = [3, 3, 2, 2, 1, 1];
    expect(() => b!.maxPool2d!(x, shape, y, win, [16, 0])).toThrow(
      /layouts: expected a blocked input to give an output of the same block size/,
    );
    expect(() => b!.maxPool2d!(x, shape, y, win, [8, 16])).toThrow(RangeError);
    expect(() => b!.maxPool2d!(x, shape, y, win, [0, 4])).toThrow(
      /layouts: expected block sizes of 0 \(NCHW\), 8 or 16 but received \[0, 4\]/,
    );
    // 20 channels blocked by 16 take 32 channels' room.
    const s20: Shape = [1, 20, 8, 8];
    expect(() => b!.maxPool2d!(new Float32Array(20 * 64), s20, new Float32Array(32 * 16), win, [16, 16])).toThrow(
      /input: expected 2048 elements/,
    );
    expect(() => b!.maxPool2d!(new Float32Array(20 * 64), s20, new Float32Array(20 * 16), win, [0, 16])).toThrow(
      /output: expected 512 elements/,
    );
  });
});

describe.skipIf(isas.length === 0)('global average pool on cpu, NCHW and blocked, equals the float64 reference', () => {
  const shapes: Shape[] = [
    [1, 20, 7, 7],
    [3, 2048, 7, 7],
    [2, 9, 1, 1],
    [1, 33, 5, 11],
  ];
  for (const isa of isas) {
    for (const shape of shapes) {
      for (const nonfinite of [false, true]) {
        it(`ISA cap ${isa}: x [${shape}]${nonfinite ? ' with NaN, +Inf, -Inf' : ''}, NCHW and cb 16 / 8`, () => {
          b!.setIsaCap(isa);
          let d = randn(shape, { seed: shape[1] + shape[3] })
            .dataSync()
            .slice();
          if (nonfinite) d = poison(d, shape);
          const ref = globalAvgPool(tensor(d, shape), { backend: 'reference' }).dataSync();
          const got = globalAvgPool(tensor(d, shape), { backend: 'cpu' }).dataSync();
          const same = (a: Float32Array): void => {
            if (nonfinite) {
              a.forEach((v, i) => {
                if (Number.isFinite(ref[i])) expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i])));
                else expect(v).toBe(ref[i]);
              });
              expect(ref.some(Number.isNaN)).toBe(true);
            } else expect(relErr(a, ref)).toBeLessThanOrEqual(1e-6);
          };
          same(got);
          for (const cb of [16, 8]) {
            // Padding lanes hold NaN: the kernel must not read them into any output.
            const y = new Float32Array(shape[0] * shape[1]).fill(7);
            b!.globalAvgPool!(toBlockedData(d, shape, cb, NaN), shape, y, cb);
            same(y);
          }
        });
      }
    }
  }

  it('a blocked input of the wrong size or a cb other than 0, 8, 16 is a RangeError naming it', () => {
    const shape: Shape = [1, 20, 7, 7];
    expect(() => b!.globalAvgPool!(new Float32Array(20 * 49), shape, new Float32Array(20), 16)).toThrow(/input: expected 1568 elements/);
    expect(() => b!.globalAvgPool!(new Float32Array(20 * 49), shape, new Float32Array(20), 4)).toThrow(
      /cb: expected 0 \(NCHW\), 8 or 16 but received 4/,
    );
  });
});

describe.skipIf(isas.length === 0)('linear (fc) on cpu equals the float64 reference', () => {
  // [rows, in, out]: batch 1 and 8 of ResNet's fc, rows past a tile (9, 13), inputs not a multiple of 16 or 8.
  const cases: [number, number, number][] = [
    [1, 2048, 1000],
    [8, 2048, 1000],
    [9, 37, 50],
    [13, 100, 7],
    [3, 5, 2],
    [2, 16, 1],
  ];
  for (const isa of isas) {
    for (const [n, inF, outF] of cases) {
      it(`ISA cap ${isa}: x [${n}, ${inF}] w [${outF}, ${inF}]`, () => {
        b!.setIsaCap(isa);
        const x = randn([n, inF], { seed: n + inF });
        const w = randn([outF, inF], { seed: outF });
        const bias = randn([outF], { seed: 3 });
        const got = linear(x, w, bias, { backend: 'cpu' }).dataSync();
        const xd = x.dataSync(),
          wd = w.dataSync(),
          bd = bias.dataSync();
        const ref = new Float64Array(n * outF);
        for (let r = 0; r < n; r++)
          for (let o = 0; o < outF; o++) {
            let s = bd[o];
            for (let i = 0; i < inF; i++) s += xd[r * inF + i] * wd[o * inF + i];
            ref[r * outF + o] = s;
          }
        expect(relErr(got, ref)).toBeLessThanOrEqual(1e-6);
        // Per element, against the size of its terms: no output may be wrong while the norm hides it.
        for (let r = 0; r < n; r++)
          for (let o = 0; o < outF; o++) {
            let scale = Math.abs(bd[o]);
            for (let i = 0; i < inF; i++) scale += Math.abs(xd[r * inF + i] * wd[o * inF + i]);
            expect(Math.abs(got[r * outF + o] - ref[r * outF + o])).toBeLessThanOrEqual(1e-5 * scale);
          }
      });
    }

    it(`ISA cap ${isa}: NaN and Inf in x reach exactly the rows they are in`, () => {
      b!.setIsaCap(isa);
      const n = 9,
        inF = 40,
        outF = 11;
      const xd = randn([n, inF], { seed: 1 }).dataSync().slice();
      xd[2 * inF + 39] = NaN; // row 2, the vector tail
      xd[5 * inF + 3] = Infinity; // row 5
      const got = linear(tensor(xd, [n, inF]), randn([outF, inF], { seed: 2 }), null, { backend: 'cpu' }).dataSync();
      for (let r = 0; r < n; r++) {
        const row = Array.from(got.subarray(r * outF, (r + 1) * outF));
        if (r === 2) expect(row.every(Number.isNaN)).toBe(true);
        else if (r === 5) expect(row.every((v) => !Number.isFinite(v))).toBe(true);
        else expect(row.every(Number.isFinite)).toBe(true);
      }
    });
  }
});

describe.skipIf(isas.length === 0)("native Network: the pool steps' layouts are checked and run", () => {
  const conv = {
    weight: randn([32, 16, 1, 1], { seed: 1 }).dataSync(),
    shape: [32, 16, 1, 1],
    bias: null,
    groups: 1,
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    activation: 'relu',
    blockedGroup: 0,
  };
  const f = (n: number): Float32Array => new Float32Array(n);

  it("maxPool2d cbIn / cbOut and globalAvgPool cb: the network's cb or absent; sizes follow the layout; results as the standalone kernels", () => {
    b!.setIsaCap(isas[0]);
    const net = new b!.Network!([conv] as never);
    const cb = net.info()[0].blocked!.cb;
    const shape: Shape = [2, 20, 9, 11];
    const ys = pooledShape(shape, [3, 3, 2, 2, 1, 1]);
    const blockedOut = ys[0] * Math.ceil(20 / cb) * cb * ys[2] * ys[3];
    const pool = { op: 'maxPool2d', input: null, inputShape: shape, output: f(blockedOut), params: [3, 3, 2, 2, 1, 1], cbOut: cb };
    const x = randn(shape, { seed: 4 }).dataSync();
    const avgOut = f(2 * 20);
    const avg = { op: 'globalAvgPool', input: pool.output, inputShape: ys, output: avgOut, cb };
    const id = net.addProgram([pool, avg] as never, x.length);
    net.run(id, x);
    const want = f(blockedOut);
    b!.maxPool2d!(x, shape, want, [3, 3, 2, 2, 1, 1], [0, cb]);
    expect(Array.from(pool.output)).toEqual(Array.from(want));
    const wantAvg = f(40);
    b!.globalAvgPool!(want, ys, wantAvg, cb);
    expect(Array.from(avgOut)).toEqual(Array.from(wantAvg));
    // Another block size, a blocked input to an NCHW output, and NCHW-sized buffers are RangeErrors naming the field.
    expect(() => net.addProgram([{ ...pool, cbOut: 24 - cb }] as never, x.length)).toThrow(
      new RegExp(`steps\\[0\\]\\.cbOut: expected ${cb} but received ${24 - cb}`),
    );
    expect(() => net.addProgram([{ ...pool, cbIn: cb, cbOut: 0 }] as never, blockedOut)).toThrow(
      /steps\[0\]\.layouts: expected a blocked input/,
    );
    expect(() => net.addProgram([{ ...pool, output: f(2 * 20 * ys[2] * ys[3]) }] as never, x.length)).toThrow(/steps\[0\]\.output/);
    expect(() => net.addProgram([{ ...avg, input: f(2 * 20 * ys[2] * ys[3]) }] as never, 1)).toThrow(/steps\[0\]\.input/);
    expect(() => net.addProgram([{ ...avg, cb: 24 - cb }] as never, 1)).toThrow(/steps\[0\]\.cb: expected/);
    // A network with no blocked conv has no cb to give.
    const plain = new b!.Network!([{ ...conv, blockedGroup: undefined }] as never);
    expect(() => plain.addProgram([pool] as never, x.length)).toThrow(/steps\[0\]\.cbOut: the network has no blocked kernel/);
    plain.dispose();
    net.dispose();
  });
});
