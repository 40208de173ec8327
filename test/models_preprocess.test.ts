// Image preprocessing: HWC uint8 RGB(A) in, normalised NCHW float32 out;
// resize shorter side / center crop geometry as torchvision, antialiased
// bilinear resampling.

import { describe, expect, it } from 'vitest';

import { IMAGENET_MEAN, IMAGENET_STD, preprocessBatch, preprocessImage } from '../lib/preprocess';

function solid(width: number, height: number, rgb: [number, number, number], channels = 3): Uint8Array {
  const d = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) d.set(channels === 4 ? [...rgb, 255] : rgb, i * channels);
  return d;
}

describe('preprocessImage', () => {
  it('a solid 640x480 RGB image becomes [1, 3, 224, 224] of (c/255 - mean)/std per channel', () => {
    const t = preprocessImage({ data: solid(640, 480, [200, 100, 50]), width: 640, height: 480 });
    expect(t.shape).toEqual([1, 3, 224, 224]);
    const d = t.dataSync();
    [200, 100, 50].forEach((c, ch) => {
      const want = (c / 255 - IMAGENET_MEAN[ch]) / IMAGENET_STD[ch];
      for (const i of [0, 1000, 224 * 224 - 1]) expect(d[ch * 224 * 224 + i]).toBeCloseTo(want, 5);
    });
  });

  it('RGBA input ignores alpha', () => {
    const a = preprocessImage({ data: solid(300, 260, [10, 20, 30], 4), width: 300, height: 260 });
    const b = preprocessImage({ data: solid(300, 260, [10, 20, 30]), width: 300, height: 260 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  });

  it('no resampling when the image already has the target size: pixels map 1:1 (HWC -> CHW)', () => {
    const W = 6,
      H = 6;
    const data = new Uint8Array(W * H * 3).map((_, i) => (i * 7) % 256);
    const t = preprocessImage({ data, width: W, height: H }, { resize: 6, crop: 4, mean: [0, 0, 0], std: [1, 1, 1] });
    const d = t.dataSync();
    // crop offset 1: output (c, y, x) = input (y + 1, x + 1, c) / 255
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          expect(d[(c * 4 + y) * 4 + x]).toBeCloseTo(data[((y + 1) * W + x + 1) * 3 + c] / 255, 6);
        }
  });

  it('halving a 2x2 checkerboard averages it (antialiased, not point-sampled)', () => {
    const W = 8,
      H = 8;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.fill((x + y) % 2 ? 255 : 0, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const d = preprocessImage({ data, width: W, height: H }, { resize: 4, crop: 4, mean: [0, 0, 0], std: [1, 1, 1] }).dataSync();
    for (let i = 5; i < 11; i++) expect(d[i]).toBeCloseTo(0.5, 1);
  });

  it('geometry: 500x375 resizes to 341x256; crop offsets use round-half-even like torchvision', () => {
    // Left half dark, right half bright: the crop window position shows in the first column.
    const W = 500,
      H = 375;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.fill(x < 250 ? 0 : 255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const t = preprocessImage({ data, width: W, height: H }, { mean: [0, 0, 0], std: [1, 1, 1] });
    const d = t.dataSync();
    // Resized width 341 (int(256 * 500 / 375)), left = round(58.5) = 58; the edge at 170.5 resized px is at crop column ~112.
    const row = Array.from(d.subarray(100 * 224, 101 * 224));
    const firstBright = row.findIndex((v) => v > 0.5);
    expect(firstBright).toBeGreaterThanOrEqual(111);
    expect(firstBright).toBeLessThanOrEqual(113);
  });

  it('preprocessBatch stacks images of different sizes into [N, 3, 224, 224]', () => {
    const t = preprocessBatch([
      { data: solid(256, 256, [0, 0, 0]), width: 256, height: 256 },
      { data: solid(300, 700, [255, 255, 255]), width: 300, height: 700 },
    ]);
    expect(t.shape).toEqual([2, 3, 224, 224]);
    expect(t.dataSync()[0]).toBeCloseTo(-IMAGENET_MEAN[0] / IMAGENET_STD[0], 5);
    expect(t.dataSync()[3 * 224 * 224]).toBeCloseTo((1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
  });

  it('argument checks', () => {
    expect(() => preprocessImage({ data: new Uint8Array(10), width: 4, height: 4 })).toThrow(/RGB/);
    expect(() => preprocessImage({ data: [1, 2, 3] as never, width: 1, height: 1 })).toThrow(TypeError);
    expect(() => preprocessImage({ data: solid(4, 4, [1, 2, 3]), width: 4, height: 4 }, { crop: 300 })).toThrow(/crop/);
    expect(() => preprocessImage({ data: solid(4, 4, [1, 2, 3]), width: 4, height: 0 })).toThrow(/height/);
    expect(() => preprocessBatch([])).toThrow(RangeError);
  });
});
