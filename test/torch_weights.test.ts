// loadTorch on real torch.save files (test/fixtures/torch, written by
// scripts/make-fixtures.py with torch 1.13): every storage dtype, strided and
// offset views, nested checkpoints, `module.` prefixes; refused globals; and
// hostile input (fast-check mutations of the real fixtures and hand-made
// zips) gets a ResnextError or a result, never another exception or a hang.

import * as fs from 'node:fs';
import * as path from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ResnextError } from '../lib/errors';
import { loadTorch, parseTorch } from '../lib/weights/torch';

const DIR = path.join(__dirname, 'fixtures', 'torch');
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  Record<string, { shape: number[]; data: (number | string)[] }>
>;

describe('loadTorch on torch.save fixtures', () => {
  for (const [file, tensors] of Object.entries(expected)) {
    it(`${file}: names, shapes and values equal torch's`, () => {
      const got = loadTorch(path.join(DIR, file));
      expect([...got.keys()].sort()).toEqual(Object.keys(tensors).sort());
      for (const [name, want] of Object.entries(tensors)) {
        const t = got.get(name)!;
        expect(t.shape, name).toEqual(want.shape);
        // torch.float() of float16/bfloat16/int64 is exact in float32: compare exactly.
        expect(Array.from(t.dataSync()), name).toEqual(Array.from(Float32Array.from(want.data.map(Number))));
      }
    });
  }

  it('reads bytes as well as a path', () => {
    const bytes = fs.readFileSync(path.join(DIR, 'float32.pth'));
    const a = loadTorch(new Uint8Array(bytes));
    expect(Array.from(a.get('conv.weight')!.dataSync())).toEqual(
      expected['float32.pth']['conv.weight'].data.map((v) => Math.fround(Number(v))),
    );
  });

  it('a pickled nn.Module is refused naming the global', () => {
    expect(() => loadTorch(path.join(DIR, 'module_object.pth'))).toThrow(/Python global torch\.nn\.modules\.activation\.ReLU/);
    try {
      loadTorch(path.join(DIR, 'module_object.pth'));
    } catch (err) {
      expect(err).toBeInstanceOf(ResnextError);
      expect((err as ResnextError).code).toBe('ERR_RESNEXT_TORCH_GLOBAL');
    }
  });

  it('bad arguments and non-checkpoints get clear errors', () => {
    expect(() => loadTorch(42 as unknown as string)).toThrow(TypeError);
    expect(() => parseTorch(new Uint8Array([1, 2, 3]))).toThrow(/neither a zip archive/);
    expect(() => parseTorch(new Uint8Array([0x80, 2, 0x8a, 10]))).toThrow(/Malformed pickle/);
    expect(() => parseTorch(new Uint8Array([0x80, 2, 0x4b, 10, 0x2e]))).toThrow(/no legacy magic number/);
  });
});

/** Bytes of the fixture with the central directory's compression method of the first entry set to 8 (deflate). */
function withMethod(bytes: Uint8Array, method: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  for (let i = out.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      const cd = dv.getUint32(i + 16, true);
      dv.setUint16(cd + 10, method, true);
      return out;
    }
  }
  throw new Error('no end record');
}

/** A minimal stored zip holding `files` (as torch writes: archive/data.pkl, archive/data/<key>). */
function makeZip(files: [string, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt32LE(off, 42);
    central.push(c, n);
    parts.push(local, n, Buffer.from(data));
    off += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(off, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, end]));
}

/** The same archive in zip64 form: sizes in the zip64 extra field, counts and offsets in the zip64 end record. */
function makeZip64(files: [string, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(0xffffffff, 18);
    local.writeUInt32LE(0xffffffff, 22);
    local.writeUInt16LE(n.length, 26);
    const extra = Buffer.alloc(4 + 16);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(data.length), 4);
    extra.writeBigUInt64LE(BigInt(data.length), 12);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt32LE(0xffffffff, 20);
    c.writeUInt32LE(0xffffffff, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(off, 42);
    central.push(c, n, extra);
    parts.push(local, n, Buffer.from(data));
    off += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeBigUInt64LE(BigInt(files.length), 24);
  rec.writeBigUInt64LE(BigInt(files.length), 32);
  rec.writeBigUInt64LE(BigInt(cd.length), 40);
  rec.writeBigUInt64LE(BigInt(off), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(off + cd.length), 8);
  loc.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, rec, loc, end]));
}

/** Pickle protocol 2 bytes from opcode strings and raw parts. */
const pkl = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))));

/** {'w': _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride)} as torch would pickle it. */
function tensorPickle(numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const tuple = (xs: number[]): (string | number[])[] => [
    '(',
    ...xs.map((x) => ['J', [x & 255, (x >> 8) & 255, (x >> 16) & 255, (x >>> 24) & 255]] as [string, number[]]).flat(),
    't',
  ];
  return pkl(
    [0x80, 2],
    '}(',
    'X',
    [1, 0, 0, 0],
    'w',
    'ctorch._utils\n_rebuild_tensor_v2\n',
    '((',
    'X',
    [7, 0, 0, 0],
    'storage',
    'ctorch\nFloatStorage\n',
    'X',
    [1, 0, 0, 0],
    '0',
    'X',
    [3, 0, 0, 0],
    'cpu',
    'J',
    [numel & 255, (numel >> 8) & 255, (numel >> 16) & 255, (numel >>> 24) & 255],
    'tQ',
    'J',
    [offset, 0, 0, 0],
    ...tuple(size),
    ...tuple(stride),
    [0x89],
    ')',
    'tRu.',
  );
}

describe('loadTorch on hostile input', () => {
  it('compressed entries are refused', () => {
    const bytes = fs.readFileSync(path.join(DIR, 'float32.pth'));
    expect(() => parseTorch(withMethod(bytes, 8))).toThrow(/compressed \(method 8\)/);
  });

  it('a hand-made zip with a tensor view is read, and views past the storage are refused', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const ok = makeZip([
      ['a/data.pkl', tensorPickle(6, 1, [2, 2], [1, 3])],
      ['a/data/0', data],
    ]);
    expect(Array.from(parseTorch(ok).get('w')!.dataSync())).toEqual([2, 5, 3, 6]);
    const past = makeZip([
      ['a/data.pkl', tensorPickle(6, 1, [2, 3], [3, 1])],
      ['a/data/0', data],
    ]);
    expect(() => parseTorch(past)).toThrow(/reads past its 6-element storage/);
    // A storage that claims more elements than its entry holds: no allocation of the claimed size.
    const lying = makeZip([
      ['a/data.pkl', tensorPickle(2 ** 31 - 1, 0, [2 ** 31 - 1], [1])],
      ['a/data/0', data],
    ]);
    expect(() => parseTorch(lying)).toThrow(/declares 2147483647 float32 elements but its entry holds 24 bytes/);
    // A repeating view (stride 0) would multiply memory: refused.
    const repeat = makeZip([
      ['a/data.pkl', tensorPickle(6, 0, [1000, 6], [0, 1])],
      ['a/data/0', data],
    ]);
    expect(() => parseTorch(repeat)).toThrow(/more elements than its 6-element storage/);
  });

  it('zip64 archives (sizes and offsets in the zip64 records) are read', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const zip = makeZip64([
      ['a/data.pkl', tensorPickle(6, 0, [3, 2], [2, 1])],
      ['a/data/0', data],
    ]);
    expect(Array.from(parseTorch(zip).get('w')!.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    // A zip64 end record pointing nowhere is refused.
    const broken = new Uint8Array(zip);
    new DataView(broken.buffer).setUint32(broken.length - 22 - 20 + 8, 5, true);
    expect(() => parseTorch(broken)).toThrow(/zip64 end record/);
  });

  it('a __proto__ key stays a key (no prototype pollution)', () => {
    const p = tensorPickle(6, 0, [6], [1]);
    // Rename the key 'w' to '__proto__' (same pickle otherwise).
    const s = Buffer.from(p).toString('latin1').replace('X\x01\x00\x00\x00w', 'X\x09\x00\x00\x00__proto__');
    const zip = makeZip([
      ['a/data.pkl', new Uint8Array(Buffer.from(s, 'latin1'))],
      ['a/data/0', new Uint8Array(new Float32Array(6).buffer)],
    ]);
    const m = parseTorch(zip);
    expect([...m.keys()]).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).shape).toBeUndefined();
  });

  it('fuzz: mutated fixtures load or fail with a ResnextError, quickly', () => {
    const seeds = ['float32.pth', 'views.pth', 'nested_state_dict.pth', 'float16.pth', 'legacy.pth'].map(
      (f) => new Uint8Array(fs.readFileSync(path.join(DIR, f))),
    );
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat()),
      // Aim some edits at the pickle (it starts right after the first local header).
      inPickle: fc.boolean(),
    });
    const start = Date.now();
    let loaded = 0,
      refused = 0;
    fc.assert(
      fc.property(mutation, ({ seed, edits, cut, inPickle }) => {
        let b = new Uint8Array(seeds[seed]);
        for (const [at, v] of edits) {
          const i = inPickle ? 30 + 20 + (at % 400) : at % b.length;
          if (i < b.length) b[i] = v;
        }
        if (cut !== null) b = b.subarray(0, cut % b.length);
        try {
          parseTorch(b);
          loaded++;
        } catch (err) {
          if (!(err instanceof ResnextError)) throw err;
          refused++;
        }
      }),
      { numRuns: 3000, seed: 15 },
    );
    expect(loaded + refused).toBe(3000);
    expect(refused).toBeGreaterThan(0);
    expect(Date.now() - start).toBeLessThan(20_000);
  });
});
