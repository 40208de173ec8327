// safetensors reading and writing, malformed files (each failure mode gets a
// clear error and no out-of-bounds read), and model state dicts with
// torchvision names loaded from and saved to safetensors.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { resnext, resnext50_32x4d } from '../lib/models/presets';
import { randn, tensor, type Tensor } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';
import { loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors } from '../lib/weights/safetensors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-st-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Hand-built file: header JSON (unpadded) + data bytes, with an optional lying length field. */
function craft(header: unknown, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + h.length + data.length);
  out.writeBigUInt64LE(lengthField ?? BigInt(h.length), 0);
  h.copy(out, 8);
  out.set(data, 8 + h.length);
  return out;
}

const f32bytes = (v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

describe('safetensors round trip', () => {
  it('save then load gives equal names, shapes and values', () => {
    const m = new Map<string, Tensor>([
      ['a.weight', randn([3, 2, 1, 1], { seed: 1 })],
      ['b', tensor([1.5], [1])],
      ['c', randn([7], { seed: 2 })],
    ]);
    const file = path.join(dir, 'rt.safetensors');
    saveSafetensors(file, m, { format: 'pt' });
    const bytes = fs.readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    expect(JSON.parse(bytes.subarray(8, 8 + n).toString()).__metadata__).toEqual({ format: 'pt' });
    const back = loadSafetensors(file);
    expect([...back.keys()]).toEqual([...m.keys()]);
    for (const [k, t] of m) {
      expect(back.get(k)!.shape).toEqual(t.shape);
      expect(Array.from(back.get(k)!.dataSync())).toEqual(Array.from(t.dataSync()));
    }
  });

  it('reads unaligned data and skips I64 num_batches_tracked (torchvision BN counters)', () => {
    const data = new Uint8Array(8 + 12);
    new DataView(data.buffer).setBigInt64(0, 123n, true);
    data.set(f32bytes([1, 2, 3]), 8);
    const bytes = craft(
      {
        'bn1.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] },
        'bn1.weight': { dtype: 'F32', shape: [3], data_offsets: [8, 20] },
        __metadata__: {},
      },
      data,
    );
    const m = parseSafetensors(bytes);
    expect([...m.keys()]).toEqual(['bn1.weight']);
    expect(Array.from(m.get('bn1.weight')!.dataSync())).toEqual([1, 2, 3]);
  });
});

describe('malformed safetensors files', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  it.each([
    ['a file shorter than the 8-byte length field', new Uint8Array(5), /shorter than the 8-byte header length/],
    ['a header length past the end of the file', craft(ok, f32bytes([1, 2]), 10_000n), /header length 10000 exceeds/],
    ['a header length of 2^64 - 1', craft(ok, f32bytes([1, 2]), 2n ** 64n - 1n), /exceeds/],
    ['a header that is not JSON', craft('{"w": [', f32bytes([1, 2])), /not valid UTF-8 JSON/],
    ['a header that is a JSON array', craft('[1, 2, 3]', f32bytes([1, 2])), /not a JSON object/],
    [
      'data offsets past the end (truncated data)',
      craft({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32bytes([1, 2])),
      /ends at byte 16 .* only 8 bytes/,
    ],
    [
      'offsets that disagree with the shape',
      craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32bytes([1, 2])),
      /needs 12 bytes/,
    ],
    ['reversed offsets', craft({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f32bytes([1, 2])), /data_offsets/],
    ['negative shape', craft({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32bytes([1, 2])), /shape/],
    [
      'overlapping ranges',
      craft(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        f32bytes([1, 2, 3]),
      ),
      /overlap/,
    ],
    ['an unknown dtype', craft({ w: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, f32bytes([1, 2])), /unknown dtype "F33"/],
    [
      'an unsupported dtype (F16)',
      craft({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, f32bytes([1, 2])),
      /Unsupported dtype F16 .* "w"/,
    ],
    [
      'an I64 tensor other than num_batches_tracked',
      craft({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, f32bytes([1, 2])),
      /Unsupported dtype I64/,
    ],
  ])('%s gets a clear error', (_label, bytes, message) => {
    let err: unknown;
    try {
      parseSafetensors(bytes as Uint8Array, 'test.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as { code?: string }).code).toMatch(/ERR_RESNEXT_(SAFETENSORS|UNSUPPORTED)/);
  });

  it('a truncated copy of a valid file is rejected, at every cut point', () => {
    const good = serializeSafetensors(
      new Map<string, Tensor>([
        ['x', randn([4, 3], { seed: 2 })],
        ['y', randn([5], { seed: 3 })],
      ]),
    );
    for (let cut = 0; cut < good.length; cut += 7) expect(() => parseSafetensors(good.subarray(0, cut))).toThrow(/Malformed/);
    expect(parseSafetensors(good).size).toBe(2);
  });

  it('argument checks', () => {
    expect(() => loadSafetensors(42 as unknown as string)).toThrow(TypeError);
    expect(() => saveSafetensors(path.join(dir, 'x'), {} as never)).toThrow(TypeError);
    expect(() => loadSafetensors(path.join(dir, 'missing.safetensors'))).toThrow(/ENOENT/);
  });
});

describe('state dicts with torchvision names', () => {
  it('resnext50_32x4d has torchvision names and shapes', () => {
    const sd = resnext50_32x4d().stateDict();
    // torchvision's state_dict has 320 entries: these 267 plus 53 int64 num_batches_tracked counters.
    expect(sd.size).toBe(267);
    expect(sd.get('conv1.weight')!.shape).toEqual([64, 3, 7, 7]);
    expect(sd.get('bn1.running_mean')!.shape).toEqual([64]);
    expect(sd.get('layer1.0.conv2.weight')!.shape).toEqual([128, 4, 3, 3]);
    expect(sd.get('layer1.0.downsample.0.weight')!.shape).toEqual([256, 64, 1, 1]);
    expect(sd.get('layer1.0.downsample.1.running_var')!.shape).toEqual([256]);
    expect(sd.get('layer4.2.conv3.weight')!.shape).toEqual([2048, 1024, 1, 1]);
    expect(sd.get('fc.weight')!.shape).toEqual([1000, 2048]);
    expect(sd.get('fc.bias')!.shape).toEqual([1000]);
    expect(sd.has('layer1.1.downsample.0.weight')).toBe(false);
    // copy: true gives equal values in separate memory.
    const m = resnext50_32x4d();
    const live = m.stateDict(),
      copy = m.stateDict({ copy: true });
    expect(Array.from(copy.get('fc.bias')!.dataSync())).toEqual(Array.from(live.get('fc.bias')!.dataSync()));
    copy.get('fc.bias')!.dataSync()[0] = 123;
    expect(live.get('fc.bias')!.dataSync()[0]).not.toBe(123);
  });

  it('seeded Kaiming init: same seed same weights, std sqrt(2 / fan_out), BN 1/0, fc bound 1/sqrt(in)', () => {
    const a = resnext({ depth: 50, cardinality: 2, width: 4, numClasses: 10, seed: 7 }).stateDict();
    const b = resnext({ depth: 50, cardinality: 2, width: 4, numClasses: 10, seed: 7 }).stateDict();
    const c = resnext({ depth: 50, cardinality: 2, width: 4, numClasses: 10, seed: 8 }).stateDict();
    expect(Array.from(a.get('layer1.0.conv1.weight')!.dataSync())).toEqual(Array.from(b.get('layer1.0.conv1.weight')!.dataSync()));
    expect(a.get('conv1.weight')!.dataSync()[0]).not.toBe(c.get('conv1.weight')!.dataSync()[0]);
    const w = a.get('conv1.weight')!.dataSync();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std / Math.sqrt(2 / (64 * 49))).toBeGreaterThan(0.95);
    expect(std / Math.sqrt(2 / (64 * 49))).toBeLessThan(1.05);
    expect(new Set(a.get('bn1.weight')!.dataSync())).toEqual(new Set([1]));
    expect(new Set(a.get('bn1.bias')!.dataSync())).toEqual(new Set([0]));
    expect(new Set(a.get('bn1.running_var')!.dataSync())).toEqual(new Set([1]));
    const fc = a.get('fc.weight')!.dataSync();
    expect(Math.max(...Array.from(fc, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(2048));
  });

  it('save to safetensors, load into a fresh model: identical weights and logits', async () => {
    const opts = { depth: 50, cardinality: 2, width: 2, numClasses: 5 } as const;
    const a = resnext({ ...opts, seed: 1 });
    const sd = a.stateDict();
    sd.get('layer2.0.bn2.running_mean')!.dataSync().fill(0.25);
    const file = path.join(dir, 'model.safetensors');
    saveSafetensors(file, sd);
    const b = resnext({ ...opts, seed: 2, weights: loadSafetensors(file) });
    for (const [k, t] of b.stateDict()) expect(Array.from(t.dataSync())).toEqual(Array.from(sd.get(k)!.dataSync()));
    const x = randn([1, 3, 32, 32], { seed: 3 });
    const backend = nativeHostBackends().includes('cpu') ? 'cpu' : 'reference';
    const [ya, yb] = [await a.forward(x, { backend }), await b.forward(x, { backend })];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
  });

  it('weights by path: a .safetensors file or a PyTorch checkpoint, through loadStateDict(path) and the weights option', async () => {
    const opts = { depth: 50, cardinality: 2, width: 2, numClasses: 5 } as const;
    const sd = resnext({ ...opts, seed: 4 }).stateDict();
    const file = path.join(dir, 'by-path.safetensors');
    saveSafetensors(file, sd);
    const fromOption = resnext({ ...opts, seed: 5, weights: file });
    const fromCall = resnext({ ...opts, seed: 6 });
    expect(fromCall.loadStateDict(file)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    for (const m of [fromOption, fromCall])
      for (const [k, t] of m.stateDict()) expect(Array.from(t.dataSync())).toEqual(Array.from(sd.get(k)!.dataSync()));
    // Any other name is read as a PyTorch checkpoint (here a real torch.save file with different keys).
    const pth = path.join(__dirname, 'fixtures', 'torch', 'float32.pth');
    expect(resnext({ ...opts, seed: 7 }).loadStateDict(pth, { strict: false }).missing.length).toBe(sd.size);
    expect(() => resnext({ ...opts, weights: path.join(dir, 'missing.safetensors') })).toThrow(/ENOENT/);
    expect(() => resnext({ ...opts }).loadStateDict('')).toThrow(TypeError);
    expect(() => resnext({ ...opts }).loadStateDict(42 as unknown as string)).toThrow(/Map<string, Tensor> or a file path/);
  });

  it('loadStateDict reports every mismatch at once; num_batches_tracked is ignored', () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 5 });
    const sd = m.stateDict();
    sd.delete('layer3.1.bn2.bias');
    sd.set('fc.weight', randn([6, 2048]));
    sd.set('layer9.conv.weight', randn([1]));
    sd.set('bn1.num_batches_tracked', tensor([0], [1]));
    let msg = '';
    try {
      m.loadStateDict(sd);
    } catch (e) {
      expect(e).toBeInstanceOf(RangeError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/1 missing: layer3\.1\.bn2\.bias;/);
    expect(msg).toMatch(/1 with other shapes: fc\.weight \[6, 2048\] \(expected \[5, 2048\]\)/);
    expect(msg).toMatch(/1 unexpected: layer9\.conv\.weight/);
    expect(msg).not.toMatch(/num_batches_tracked/);
    expect(() => m.loadStateDict({} as never)).toThrow(TypeError);
    // The failed load changed nothing; a correct one (with the BN counter) succeeds.
    const good = m.stateDict();
    good.set('bn1.num_batches_tracked', tensor([0], [1]));
    expect(() => m.loadStateDict(good)).not.toThrow();
  });
});
