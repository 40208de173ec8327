// ONNX out and in. Out: model.toOnnx() (opset 17, dynamic batch) runs on
// onnxruntime-node with logits equal to ours at two batch sizes. In: loadOnnx
// runs a real torch.onnx.export file (test/fixtures/tiny_resnet.onnx, a tiny
// torchvision-style ResNeXt from scripts/make-fixtures.py, BN folded by the
// exporter) with torch's logits on every host backend, fuses its convs, runs
// our own export (BatchNormalization nodes, folded at load), and names every
// unsupported op of a file in one error.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { type BackendName, loadOnnx, randn, resnext, ResnextError, tensor, zeros } from '../lib';
import { modelProto, node, tensorProto, valueInfo } from '../lib/onnx/proto';
import { nativeHostBackends } from './helpers/backends';
import { REL_TOL, relErr } from './helpers/compare';
import { randomizeBatchNorm } from './helpers/models';

const FIX = path.join(__dirname, 'fixtures');
const backends = ['reference', ...nativeHostBackends()] as BackendName[];
const best = backends[backends.length - 1];

/** A small resnext29 with non-trivial BatchNorm statistics (so BN folding is exercised). */
function smallModel() {
  const m = resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 7, seed: 3 });
  randomizeBatchNorm(m, 7);
  return m;
}

describe('loadOnnx on a real torch.onnx.export file (tiny ResNeXt, opset 13)', () => {
  const fx = JSON.parse(fs.readFileSync(path.join(FIX, 'tiny_resnet.json'), 'utf8'));
  const x = tensor(fx.input.data, fx.input.shape);
  for (const backend of backends) {
    it(`x [${fx.input.shape}] on ${backend}: logits equal torch's`, async () => {
      const m = loadOnnx(path.join(FIX, 'tiny_resnet.onnx'));
      const y = await m.forward(x, { backend });
      expect(y.shape).toEqual(fx.logits.shape);
      expect(relErr(y.dataSync(), fx.logits.data)).toBeLessThanOrEqual(REL_TOL);
      m.dispose();
    });
  }
  for (const variant of ['bn', 'reshape']) {
    it(`exporter variant tiny_resnet_${variant}.onnx (${variant === 'bn' ? 'BatchNormalization nodes kept' : 'Reshape flatten with a Constant shape'}) on every host backend`, async () => {
      const m = loadOnnx(path.join(FIX, `tiny_resnet_${variant}.onnx`));
      if (variant === 'bn') expect(m.describe()).not.toContain('bn');
      for (const backend of backends) {
        const y = await m.forward(x, { backend });
        expect(y.shape).toEqual(fx.logits.shape);
        expect(relErr(y.dataSync(), fx.logits.data), backend).toBeLessThanOrEqual(REL_TOL);
      }
      m.dispose();
    });
  }
  it('a real export whose flatten is computed from the dynamic batch: one error naming every unsupported op', () => {
    expect(() => loadOnnx(path.join(FIX, 'tiny_resnet_dynamic_reshape.onnx'))).toThrow(
      /Shape \(1 node\), Gather \(1 node\), Unsqueeze \(1 node\), Concat \(1 node\) are not supported/,
    );
  });
  it('convs are fused: relu into the conv, the residual Add into the later conv', () => {
    const m = loadOnnx(fs.readFileSync(path.join(FIX, 'tiny_resnet.onnx')));
    expect(m.opset).toBe(13);
    expect(m.inputDims).toEqual(['batch', 3, 19, 23]);
    expect(m.describe()).toEqual([
      'conv 7x7/2 groups 1 + relu',
      'maxpool',
      'conv 1x1/1 groups 1 + relu',
      'conv 3x3/1 groups 2 + relu',
      'conv 1x1/1 groups 1 + residual + relu',
      'conv 1x1/1 groups 1 + relu',
      'conv 3x3/2 groups 2 + relu',
      'conv 1x1/1 groups 1',
      'conv 1x1/2 groups 1 + residual + relu',
      'gap',
      'flatten',
      'gemm',
    ]);
    m.dispose();
  });
  it('dynamic batch: batch 1 and batch 0; a fixed dimension is checked', async () => {
    const m = loadOnnx(path.join(FIX, 'tiny_resnet.onnx'));
    const one = tensor(fx.input.data.slice(0, 3 * 19 * 23), [1, 3, 19, 23]);
    const y = await m.forward(one, { backend: best });
    expect(relErr(y.dataSync(), fx.logits.data.slice(0, 5))).toBeLessThanOrEqual(REL_TOL);
    expect((await m.forward(zeros([0, 3, 19, 23]), { backend: best })).shape).toEqual([0, 5]);
    await expect(m.forward(zeros([1, 3, 20, 23]))).rejects.toThrow(/x\.shape\[2\]/);
    m.dispose();
    await expect(m.forward(one)).rejects.toThrow(/disposed/);
  });
});

describe('loadOnnx errors', () => {
  it('one error lists every unsupported op with its count', () => {
    const bytes = modelProto({
      name: 'g',
      producer: 'test',
      nodes: [
        node('Sigmoid', 'a', ['x'], ['y']),
        node('Softmax', 'b', ['y'], ['z']),
        node('Sigmoid', 'c', ['z'], ['w']),
        node('Relu', 'd', ['w'], ['v']),
      ],
      initializers: [],
      inputs: [valueInfo('x', [1, 4])],
      outputs: [valueInfo('v', [1, 4])],
    });
    let err: unknown;
    try {
      loadOnnx(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResnextError);
    expect((err as ResnextError).code).toBe('ERR_RESNEXT_ONNX_UNSUPPORTED');
    expect((err as Error).message).toMatch(/Sigmoid \(2 nodes\), Softmax \(1 node\) are not supported/);
  });
  it('truncated and garbage bytes get a ResnextError', () => {
    const bytes = fs.readFileSync(path.join(FIX, 'tiny_resnet.onnx'));
    for (const cut of [10, 100, 1000, bytes.length - 7]) expect(() => loadOnnx(bytes.subarray(0, cut))).toThrow(ResnextError);
    expect(() => loadOnnx(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(ResnextError);
    expect(() => loadOnnx(3 as never)).toThrow(TypeError);
    const w = tensorProto('w', [2, 2], new Float32Array(3));
    expect(() =>
      loadOnnx(
        modelProto({
          name: 'g',
          producer: 't',
          nodes: [],
          initializers: [w],
          inputs: [valueInfo('x', [1])],
          outputs: [valueInfo('x', [1])],
        }),
      ),
    ).toThrow(/has 12 bytes of float data/);
  });
});

describe('loadOnnx on hostile input', () => {
  it('fuzz: mutated tiny_resnet.onnx loads and runs, or fails with a ResnextError or a RangeError naming a value', async () => {
    const base = new Uint8Array(fs.readFileSync(path.join(FIX, 'tiny_resnet.onnx')));
    const x = randn([1, 3, 19, 23], { seed: 2 });
    let s = 15;
    const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const seen = { ok: 0, refused: 0 };
    for (let it = 0; it < 300; it++) {
      const b = new Uint8Array(base);
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        const m = loadOnnx(b);
        try {
          await m.forward(x, { backend: best });
        } finally {
          m.dispose();
        }
        seen.ok++;
      } catch (err) {
        if (!(err instanceof ResnextError || err instanceof RangeError)) throw err;
        seen.refused++;
      }
    }
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
  it('a backend other than the host ones is refused', async () => {
    const m = loadOnnx(path.join(FIX, 'tiny_resnet.onnx'));
    await expect(m.forward(randn([1, 3, 19, 23]), { backend: 'cuda' })).rejects.toThrow(/options\.backend/);
  });
});

describe('model.toOnnx()', () => {
  it('loadOnnx(model.toOnnx()) gives our logits (BatchNormalization nodes folded at load) on every host backend', async () => {
    const m = smallModel();
    const x = randn([2, 3, 16, 16], { seed: 5 });
    const o = loadOnnx(m.toOnnx());
    for (const backend of backends) {
      const ours = await m.forward(x, { backend });
      const theirs = await o.forward(x, { backend });
      expect(relErr(theirs.dataSync(), ours.dataSync()), backend).toBeLessThanOrEqual(REL_TOL);
    }
    expect(o.describe().filter((s) => s === 'bn')).toEqual([]);
    o.dispose();
  });

  it('onnxruntime-node runs it with dynamic batch (2 and 3) and its logits equal ours', async () => {
    let ort: typeof import('onnxruntime-node');
    try {
      ort = await import('onnxruntime-node');
    } catch {
      console.warn('onnxruntime-node is not installed: skipping the onnxruntime round trip');
      return;
    }
    const m = smallModel();
    const bytes = m.toOnnx();
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['input']);
    for (const N of [2, 3]) {
      const x = randn([N, 3, 20, 20], { seed: N });
      const r = await session.run({ input: new ort.Tensor('float32', x.dataSync(), [...x.shape]) });
      const ours = await m.forward(x, { backend: best });
      expect(r.logits.dims).toEqual([N, 7]);
      expect(relErr(r.logits.data as Float32Array, ours.dataSync())).toBeLessThanOrEqual(REL_TOL);
    }
    await session.release();
  });

  it('options: fixed batch and size, opset >= 13', () => {
    const m = smallModel();
    const o = loadOnnx(m.toOnnx({ batch: 2, size: 32, opset: 13 }));
    expect(o.inputDims).toEqual([2, 3, 32, 32]);
    expect(o.opset).toBe(13);
    expect(() => m.toOnnx({ opset: 12 })).toThrow(/options\.opset/);
  });
});
