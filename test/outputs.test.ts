// Fresh op outputs (lib/tensor.ts outputArray): not zero-filled, each in an ArrayBuffer of its own (so a caller
// can transfer it to a worker without detaching anything else), and NaN-poisoned in this suite
// (vitest.config.mts sets RESNEXT_POISON_OUTPUTS=1) so that an element a kernel leaves unwritten fails the
// comparisons with the reference instead of passing as a zero.
import { describe, expect, it } from 'vitest';
import { type BackendName, conv2d, globalAvgPool, linear, maxPool2d, randn, relu, tensor } from '../lib';
import { outputArray } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';

describe('fresh op outputs', () => {
  it('are NaN in the suite (RESNEXT_POISON_OUTPUTS=1), so an unwritten element cannot pass as zero', () => {
    expect(process.env.RESNEXT_POISON_OUTPUTS).toBe('1');
    const a = outputArray(1000);
    expect(a.length).toBe(1000);
    expect(a.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('own their ArrayBuffer (byteOffset 0, exact length) and transfer without detaching other outputs', () => {
    const small = [outputArray(1), outputArray(3), outputArray(1024)];
    for (const a of small) {
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(a.length * 4);
    }
    expect(small[0].buffer).not.toBe(small[1].buffer);
    const buf = small[1].buffer as ArrayBuffer;
    expect(buf instanceof ArrayBuffer).toBe(true);
    const moved = structuredClone(buf, { transfer: [buf] });
    expect(moved.byteLength).toBe(12);
    expect(small[1].length).toBe(0);
    expect(small[0].length).toBe(1);
    expect(small[2].length).toBe(1024);
  });

  for (const backend of ['reference', ...nativeHostBackends()] as BackendName[]) {
    it(`${backend}: conv2d x[1,6,5,7] w[4,3,3,3] groups 2, pools, linear and relu write every element of a fresh output`, () => {
      const x = randn([1, 6, 5, 7], { seed: 11 });
      const w = randn([4, 3, 3, 3], { seed: 12 });
      const outs = [
        conv2d(x, w, { groups: 2, padding: 1, stride: [2, 1], backend }),
        maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, backend }),
        globalAvgPool(x, { backend }),
        linear(tensor(new Float32Array([1, -2, 3]), [1, 3]), tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]), null, {
          backend,
        }),
        relu(x, { backend }),
      ];
      for (const o of outs) {
        const d = o.dataSync();
        expect(d.byteOffset).toBe(0);
        expect(d.buffer.byteLength).toBe(d.length * 4);
        expect(d.every((v) => Number.isFinite(v))).toBe(true);
      }
    });
  }
});
