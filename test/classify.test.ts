// Classification helpers: softmax and topk along the last axis, the ImageNet
// labels, classify() end to end on a model whose logits we control, and
// grayscale input to preprocessImage (equal to the same bytes as RGB).

import { describe, expect, it } from 'vitest';

import { classify, IMAGENET_CLASSES, loadOnnx, preprocessImage, resnext, softmax, tensor, topk } from '../lib';

describe('softmax and topk', () => {
  it('softmax of [2, 3] rows sums to 1 and matches exp(x) / sum exp(x); large logits stay finite', () => {
    const p = softmax(tensor([1, 2, 3, 1000, 1001, 999], [2, 3])).dataSync();
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0] + e[1] + e[2];
    for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(e[i] / s, 6);
    expect(p[3] + p[4] + p[5]).toBeCloseTo(1, 6);
    expect(p[4]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1) + Math.exp(-1)), 6);
  });
  it('topk of [2, 4]: largest first, ties by index, k checked', () => {
    const r = topk(tensor([0.1, 0.5, 0.5, -1, 4, 3, 2, 1], [2, 4]), 2);
    expect(r.indices).toEqual([
      [1, 2],
      [0, 1],
    ]);
    expect(r.values[1]).toEqual([4, 3]);
    expect(() => topk(tensor([1, 2], [1, 2]), 3)).toThrow(/k/);
    expect(() => topk(tensor([1, 2], [1, 2]), 0)).toThrow(RangeError);
  });
  it('IMAGENET_CLASSES: torchvision 0.14 labels, 1000 of them', () => {
    expect(IMAGENET_CLASSES.length).toBe(1000);
    expect(IMAGENET_CLASSES[0]).toBe('tench');
    expect(IMAGENET_CLASSES[207]).toBe('golden retriever');
    expect(IMAGENET_CLASSES[999]).toBe('toilet tissue');
    expect(Object.isFrozen(IMAGENET_CLASSES)).toBe(true);
  });
});

describe('classify', () => {
  const model = resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 1000 });
  const sd = model.stateDict();
  sd.get('fc.bias')!.dataSync().fill(0);
  sd.get('fc.bias')!.dataSync()[207] = 50;
  sd.get('fc.bias')!.dataSync()[1] = 49;
  const pixels = new Uint8Array(40 * 30 * 3).map((_, i) => (i * 37) % 256);

  it('RGB 40x30 (crop 24): golden retriever first, then goldfish, probabilities from softmax', async () => {
    const r = await classify(model, { data: pixels, width: 40, height: 30 }, { topk: 3, resize: 28, crop: 24 });
    expect(r.length).toBe(3);
    expect(r[0]).toMatchObject({ label: 'golden retriever', index: 207 });
    expect(r[1]).toMatchObject({ label: 'goldfish', index: 1 });
    expect(r[0].probability).toBeGreaterThan(r[1].probability);
    expect(r[0].probability + r[1].probability).toBeLessThanOrEqual(1 + 1e-6);
  });
  it('an OnnxModel (loadOnnx(model.toOnnx())) classifies the same', async () => {
    const onnx = loadOnnx(model.toOnnx());
    const a = await classify(onnx, { data: pixels, width: 40, height: 30 }, { topk: 2, resize: 28, crop: 24 });
    expect(a.map((c) => c.label)).toEqual(['golden retriever', 'goldfish']);
    onnx.dispose();
  });
  it('bad topk and model arguments', async () => {
    await expect(classify(model, { data: pixels, width: 40, height: 30 }, { topk: 0 })).rejects.toThrow(/topk/);
    await expect(classify({} as never, { data: pixels, width: 40, height: 30 })).rejects.toThrow(TypeError);
  });
});

describe('preprocessImage with 1-channel input', () => {
  it('grayscale 20x17 equals the RGB image with R = G = B', () => {
    const gray = new Uint8Array(20 * 17).map((_, i) => (i * 13) % 256);
    const rgb = new Uint8Array(gray.length * 3);
    gray.forEach((v, i) => rgb.fill(v, 3 * i, 3 * i + 3));
    const o = { resize: 16, crop: 12 };
    const a = preprocessImage({ data: gray, width: 20, height: 17 }, o);
    const b = preprocessImage({ data: rgb, width: 20, height: 17 }, o);
    const c = preprocessImage({ data: gray, width: 20, height: 17, channels: 1 }, o);
    expect(a.shape).toEqual([1, 3, 12, 12]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(c.dataSync())).toEqual(Array.from(b.dataSync()));
  });
  it('a channels value that does not match the bytes is refused naming data', () => {
    expect(() => preprocessImage({ data: new Uint8Array(30), width: 5, height: 2, channels: 1 }, { resize: 2, crop: 2 })).toThrow(
      /10 bytes for 5x2 with 1 channel for image\.data/,
    );
    expect(() => preprocessImage({ data: new Uint8Array(10), width: 5, height: 2, channels: 2 as never })).toThrow(/image\.channels/);
  });
});
