// Whole-network forward: the paper's three bottleneck forms agree; the fused
// CPU path (BN folded, epilogues fused, prepared once) and the unfused CPU
// path agree with the reference backend on resnext50_32x4d with random BN
// statistics; repeated forwards reuse buffers (no memory growth) and never
// block the event loop for the whole network.

import { describe, expect, it } from 'vitest';

import type { ResNeXtModel } from '../lib/models/model';
import { bottleneckForward } from '../lib/models/bottleneck_forms';
import { resnext, resnext50_32x4d, resnext29_8x64d } from '../lib/models/presets';
import { Rng } from '../lib/random';
import { randn } from '../lib/tensor';
import { cpuBinding } from '../lib/binding';
import { nativeHostBackends } from './helpers/backends';
import { relErr } from './helpers/compare';

const backends = nativeHostBackends();

/** Random BN statistics and affine parameters, so folding is not the identity. */
function randomizeBatchNorm(m: ResNeXtModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of m.stateDict()) {
    const d = t.dataSync();
    if (name.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.2 * rng.normal();
    else if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.weight')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.bias') && !name.startsWith('fc'))
      for (let i = 0; i < d.length; i++) d[i] = 0.1 * rng.normal();
  }
}

describe("the paper's three equivalent bottleneck forms (Figure 3)", () => {
  // layer2.0 of a ResNeXt with C = 8, d = 4: stride 2 on the 3x3, projection shortcut.
  const m = resnext({ depth: 50, cardinality: 8, width: 4, numClasses: 10, seed: 3 });
  randomizeBatchNorm(m, 4);
  const state = m.stateDict();
  const block = m.architecture.stages[1][0];
  const x = randn([2, block.inC, 12, 12], { seed: 5 });

  it.each(['reference', ...backends] as const)(
    'forms (a) C paths summed, (b) split-concat, (c) grouped conv agree: layer2.0 x [2, 256, 12, 12], C=8, d=4 on %s',
    (backend) => {
      const c = bottleneckForward('c', block, state, x, backend as 'reference');
      const b = bottleneckForward('b', block, state, x, backend as 'reference');
      const a = bottleneckForward('a', block, state, x, backend as 'reference');
      expect(c.shape).toEqual([2, 512, 6, 6]);
      const eb = relErr(b.dataSync(), c.dataSync()),
        ea = relErr(a.dataSync(), c.dataSync());
      console.log(`three forms on ${backend}: max relative error (b) vs (c) ${eb.toExponential(2)}, (a) vs (c) ${ea.toExponential(2)}`);
      // Same arithmetic up to float32 rounding of the per-path partial sums.
      expect(eb).toBeLessThan(1e-5);
      expect(ea).toBeLessThan(1e-5);
      // Not vacuous: a nonzero, non-degenerate output.
      expect(Math.max(...Array.from(c.dataSync()))).toBeGreaterThan(0.1);
    },
  );
});

describe('resnext50_32x4d forward, batch 2 of 64x64, random BN statistics', () => {
  const m = resnext50_32x4d({ seed: 11 });
  randomizeBatchNorm(m, 12);
  const x = randn([2, 3, 64, 64], { seed: 13 });
  let ref: Float32Array | null = null;
  const reference = async (): Promise<Float32Array> => (ref ??= (await m.forward(x, { backend: 'reference' })).dataSync());

  it('reference logits [2, 1000] are finite and input-dependent', async () => {
    const r = await reference();
    expect(r.length).toBe(2000);
    expect(r.every(Number.isFinite)).toBe(true);
    expect(relErr(r.subarray(0, 1000), r.subarray(1000))).toBeGreaterThan(1e-3);
  });

  it.each(backends)('%s fused (BN folded) and unfused agree with the reference within 1e-4 (normwise relative)', async (backend) => {
    const r = await reference();
    const fused = await m.forward(x, { backend: backend as 'cpu', mode: 'network' });
    const layered = await m.forward(x, { backend: backend as 'cpu', mode: 'layer' });
    const unfused = await m.forward(x, { backend: backend as 'cpu', fuse: false });
    const ef = relErr(fused.dataSync(), r),
      el = relErr(layered.dataSync(), r),
      eu = relErr(unfused.dataSync(), r);
    console.log(
      `resnext50_32x4d [2, 3, 64, 64] ${backend}: fused network-mode rel err ${ef.toExponential(2)}, fused layer-mode ${el.toExponential(2)}, unfused ${eu.toExponential(2)}`,
    );
    expect(fused.shape).toEqual([2, 1000]);
    expect(ef).toBeLessThan(1e-4);
    expect(el).toBeLessThan(1e-4);
    expect(eu).toBeLessThan(1e-4);
    // The per-layer mode runs the NCHW kernels of the network mode's layout 'nchw' (the cost model's choices, as
    // with tune: false) on the same buffers.
    const fusedNchw = await m.forward(x, { backend: backend as 'cpu', mode: 'network', layout: 'nchw', tune: false });
    expect(Array.from(layered.dataSync())).toEqual(Array.from(fusedNchw.dataSync()));
    await m.forward(x, { backend: backend as 'cpu', mode: 'network', layout: 'auto', tune: true });
    // Same result on a second run (buffers reused, nothing stale).
    const again = await m.forward(x, { backend: backend as 'cpu', mode: 'network' });
    expect(Array.from(again.dataSync())).toEqual(Array.from(fused.dataSync()));
  });
});

describe('fused engine lifecycle', () => {
  it.runIf(backends.includes('cpu'))('weights written through stateDict() take effect at the next forward', async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 1 });
    const x = randn([1, 3, 32, 32], { seed: 2 });
    const y0 = await m.forward(x, { backend: 'cpu' });
    m.stateDict().get('fc.bias')!.dataSync()[0] += 1;
    const y1 = await m.forward(x, { backend: 'cpu' });
    expect(y1.dataSync()[0] - y0.dataSync()[0]).toBeCloseTo(1, 5);
    expect(y1.dataSync()[1]).toBe(y0.dataSync()[1]);
  });

  it.runIf(backends.includes('cpu'))(
    'forwards in flight finish when the engine is dropped meanwhile (stateDict(), dispose())',
    async () => {
      const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 3 });
      const x = randn([1, 3, 32, 32], { seed: 4 });
      const want = Array.from((await m.forward(x, { backend: 'cpu' })).dataSync());
      const a = m.forward(x, { backend: 'cpu' }),
        b = m.forward(x, { backend: 'cpu' });
      m.stateDict();
      const c = m.forward(x, { backend: 'cpu' });
      m.dispose();
      for (const y of await Promise.all([a, b, c])) expect(Array.from(y.dataSync())).toEqual(want);
    },
  );

  it.runIf(backends.includes('cpu'))(
    'CIFAR resnext29 layout (no max pool, 3 stages) runs fused on [1, 3, 32, 32] and agrees with the reference',
    async () => {
      const m = resnext({ depth: 29, cardinality: 2, width: 4, numClasses: 10, seed: 5 });
      randomizeBatchNorm(m, 6);
      expect(resnext29_8x64d().architecture.maxPool).toBe(false);
      const x = randn([1, 3, 32, 32], { seed: 7 });
      const r = await m.forward(x, { backend: 'reference' });
      const f = await m.forward(x, { backend: 'cpu' });
      expect(relErr(f.dataSync(), r.dataSync())).toBeLessThan(1e-4);
    },
  );

  it.runIf(backends.includes('cpu'))(
    '1,000 forwards of a tiny model: no memory growth, one buffer set per input shape, event loop keeps turning',
    async () => {
      const m = resnext({ depth: 50, cardinality: 2, width: 1, numClasses: 3, seed: 9 });
      const x = randn([1, 3, 16, 16], { seed: 10 });
      const first = await m.forward(x, { backend: 'cpu' });
      for (let i = 0; i < 50; i++) await m.forward(x, { backend: 'cpu' });
      (globalThis as { gc?: () => void }).gc?.();
      const before = process.memoryUsage();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      let last = first;
      for (let i = 0; i < 1000; i++) last = await m.forward(x, { backend: 'cpu' });
      clearInterval(timer);
      (globalThis as { gc?: () => void }).gc?.();
      const after = process.memoryUsage();
      const growth = {
        rss: (after.rss - before.rss) / 2 ** 20,
        external: (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / 2 ** 20,
      };
      console.log(
        `1,000 forwards: RSS ${growth.rss.toFixed(1)} MiB, external+arrayBuffers ${growth.external.toFixed(1)} MiB, timer ticks ${ticks}`,
      );
      expect(Array.from(last.dataSync())).toEqual(Array.from(first.dataSync()));
      // The model's weights and buffers are ~25 MB; per-call leaks of even one buffer would add far more than this.
      expect(growth.external).toBeLessThan(8);
      expect(growth.rss).toBeLessThan(48);
      expect(ticks).toBeGreaterThan(10);
    },
    120_000,
  );

  it.runIf(backends.includes('cpu'))(
    'prepared once: one native Network (weights packed once) and one program per input shape across many forwards',
    async () => {
      const b = cpuBinding()!;
      const Original = b.Network!;
      let constructed = 0,
        programs = 0;
      b.Network = class extends (Original as unknown as new (...a: unknown[]) => { addProgram(...a: unknown[]): number }) {
        constructor(...a: unknown[]) {
          super(...a);
          constructed++;
        }
        override addProgram(...a: unknown[]): number {
          programs++;
          return super.addProgram(...a);
        }
      } as unknown as typeof Original;
      try {
        const m = resnext({ depth: 50, cardinality: 2, width: 1, numClasses: 3, seed: 1 });
        const xa = randn([1, 3, 32, 32], { seed: 2 }),
          xb = randn([2, 3, 48, 40], { seed: 3 });
        const ya = await m.forward(xa, { backend: 'cpu' });
        for (let i = 0; i < 5; i++) await m.forward(xa, { backend: 'cpu' });
        for (let i = 0; i < 3; i++) await m.forward(xb, { backend: 'cpu' });
        const ya2 = await m.forward(xa, { backend: 'cpu' });
        expect(constructed).toBe(1);
        expect(programs).toBe(2);
        expect(Array.from(ya2.dataSync())).toEqual(Array.from(ya.dataSync()));
        expect(m.planInfo().length).toBe(m.architecture.stages.flat().length * 3 + 4 + 1);
      } finally {
        b.Network = Original;
      }
    },
  );

  it.runIf(backends.includes('cpu'))(
    'per-shape programs: 4 kept, the least recently used one dropped (dropProgram) when a 5th input shape arrives',
    async () => {
      const b = cpuBinding()!;
      const Original = b.Network!;
      const added: number[] = [],
        dropped: number[] = [];
      b.Network = class extends (Original as unknown as new (...a: unknown[]) => {
        addProgram(...a: unknown[]): number;
        dropProgram(id: number): void;
      }) {
        override addProgram(...a: unknown[]): number {
          const id = super.addProgram(...a);
          added.push(id);
          return id;
        }
        override dropProgram(id: number): void {
          dropped.push(id);
          super.dropProgram(id);
        }
      } as unknown as typeof Original;
      try {
        const m = resnext({ depth: 50, cardinality: 2, width: 1, numClasses: 3, seed: 1 });
        const xs = [32, 40, 48, 56, 64].map((h, i) => randn([1, 3, h, 32], { seed: 20 + i }));
        const first = Array.from((await m.forward(xs[0], { backend: 'cpu' })).dataSync());
        for (const x of xs.slice(1, 4)) await m.forward(x, { backend: 'cpu' });
        expect(added.length).toBe(4);
        expect(dropped).toEqual([]);
        // Shape 0 used again: now shape 1 is the least recently used.
        await m.forward(xs[0], { backend: 'cpu' });
        await m.forward(xs[4], { backend: 'cpu' });
        expect(added.length).toBe(5);
        expect(dropped).toEqual([added[1]]);
        // Shape 0 still has its program; shape 1 needs a new one (and evicts shape 2).
        expect(Array.from((await m.forward(xs[0], { backend: 'cpu' })).dataSync())).toEqual(first);
        expect(added.length).toBe(5);
        await m.forward(xs[1], { backend: 'cpu' });
        expect(added.length).toBe(6);
        expect(dropped).toEqual([added[1], added[2]]);
        m.dispose();
      } finally {
        b.Network = Original;
      }
    },
  );

  it.runIf(backends.includes('cpu'))(
    'network mode: the native Network re-checks programs (no out-of-bounds access from a direct call)',
    () => {
      const N = cpuBinding()!.Network!;
      const net = new N([
        {
          weight: new Float32Array(8),
          shape: [2, 4, 1, 1],
          bias: null,
          groups: 1,
          stride: [1, 1],
          padding: [0, 0, 0, 0],
          activation: 'relu',
        },
      ]);
      const conv = (o: Partial<Record<string, unknown>>) =>
        ({ op: 'conv', conv: 0, input: null, inputShape: [1, 4, 3, 3], output: new Float32Array(18), residual: null, ...o }) as never;
      expect(() => net.addProgram([conv({ output: new Float32Array(17) })], 36)).toThrow(/output: expected 18/);
      expect(() => net.addProgram([conv({ conv: 1 })], 36)).toThrow(RangeError);
      expect(() => net.addProgram([conv({})], 35)).toThrow(/program input/);
      expect(() => net.addProgram([conv({ inputShape: [1, 3, 3, 3] })], 27)).toThrow(/channels/);
      const id = net.addProgram([conv({})], 36);
      expect(() => net.run(id, new Float32Array(35))).toThrow(/x: expected 36/);
      net.run(id, new Float32Array(36));
      net.dropProgram(id);
      expect(() => net.run(id, new Float32Array(36))).toThrow(/dropped/);
    },
  );

  it('forward checks its arguments', async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4 });
    await expect(m.forward(randn([1, 4, 32, 32]))).rejects.toThrow(/3 input channels/);
    await expect(m.forward(randn([3, 32, 32]) as never)).rejects.toThrow(/rank 4/);
    await expect(m.forward(randn([1, 3, 32, 32]), { backend: 'bogus' as never })).rejects.toThrow(RangeError);
    await expect(m.forward(randn([1, 3, 32, 32]), { fuse: 1 as never })).rejects.toThrow(TypeError);
    await expect(m.forward(randn([1, 3, 32, 32]), { batch: 1 } as never)).rejects.toThrow(/batch/);
    await expect(m.forward(randn([1, 3, 32, 32]), { mode: 'graph' as never })).rejects.toThrow(/mode/);
  });
});
