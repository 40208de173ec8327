// PyTorch checkpoints as torch.save writes them. The zip format (PyTorch >=
// 1.6): a zip archive <name>/data.pkl (a pickle of the state dict whose
// tensors reference storages by persistent id ('storage', torch.<T>Storage,
// key, location, numel)), <name>/data/<key> (each storage's raw little-endian
// elements) and <name>/version. The pickle is read by a restricted unpickler
// (unpickle.ts) that knows only the globals a state dict needs; tensors are
// views (storage offset, size, stride) into storages and are materialised
// into contiguous float32 host tensors. The legacy format (parseTorchLegacy)
// holds the same pickle between others, storages appended. Storage types read: Float (float32),
// Half (float16), BFloat16, Long (int64: `*.num_batches_tracked` counters are
// dropped as loadSafetensors does, any other int64 tensor is converted to
// float32, exact up to 2^24). The state dict is the top-level dict of tensors
// or the one under a `state_dict` or `model` key (checkpoints that also hold
// an optimizer or epoch); a `module.` prefix on every key (DataParallel) is
// removed. Hostile input: every size and offset is checked against the file
// before anything is allocated, and the tensors together may not hold more
// elements than the file has bytes, so memory stays proportional to the input.

import * as fs from 'node:fs';

import { invalidType, ResnextError } from '../errors';
import { HostStorage, Tensor } from '../tensor';
import { type PyGlobal, PyTuple, unpickle, unpickleAt, type UnpickleOptions } from './unpickle';
import { isZip, readZip, type ZipEntry } from './zip';

type StorageDType = 'float32' | 'float16' | 'bfloat16' | 'int64';

const STORAGE_TYPES: Record<string, { dtype: StorageDType; size: number }> = {
  FloatStorage: { dtype: 'float32', size: 4 },
  HalfStorage: { dtype: 'float16', size: 2 },
  BFloat16Storage: { dtype: 'bfloat16', size: 2 },
  LongStorage: { dtype: 'int64', size: 8 },
};

class Storage {
  constructor(
    readonly dtype: StorageDType,
    readonly size: number,
    readonly numel: number,
    /** Empty until the legacy format's data section is read (it follows the pickle). */
    public bytes: Uint8Array,
  ) {}
}

/** A tensor as the pickle describes it: a strided view of a storage, not yet materialised. */
class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly numel: number,
  ) {}
}

function bad(source: string, what: string): ResnextError {
  return new ResnextError('ERR_RESNEXT_TORCH', `Malformed PyTorch checkpoint ${source}: ${what}`);
}

function intTuple(v: unknown, what: string, source: string): number[] {
  if (!(v instanceof PyTuple) || v.items.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0))
    throw bad(source, `${what} is not a tuple of non-negative integers`);
  return (v as PyTuple).items as number[];
}

function globalsFor(source: string, budget: { elements: number }): UnpickleOptions['globals'] {
  const g = new Map<string, Omit<PyGlobal, 'module' | 'name'>>();
  g.set('collections.OrderedDict', {
    call: (args) => {
      const m = new Map<unknown, unknown>();
      if (args.length > 0 && Array.isArray(args[0]))
        for (const kv of args[0] as unknown[]) if (kv instanceof PyTuple && kv.items.length === 2) m.set(kv.items[0], kv.items[1]);
      return m;
    },
  });
  const rebuildTensor = (args: readonly unknown[]): TensorRef => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) throw bad(source, '_rebuild_tensor_v2 without a storage');
    const st = storage;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad(source, `storage offset ${String(offset)}`);
    const shape = intTuple(size, 'a tensor size', source);
    const strides = intTuple(stride, 'a tensor stride', source);
    if (shape.length !== strides.length) throw bad(source, `size [${shape}] and stride [${strides}] differ in length`);
    let numel = 1;
    for (const d of shape) numel = Math.min(numel * d, Number.MAX_SAFE_INTEGER);
    if (numel > 0) {
      let last = offset;
      for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
      if (last >= st.numel)
        throw bad(source, `a tensor of size [${shape}], stride [${strides}], offset ${offset} reads past its ${st.numel}-element storage`);
    }
    if (numel > st.numel)
      throw bad(
        source,
        `a tensor of size [${shape}] has more elements than its ${st.numel}-element storage (repeating views are not read)`,
      );
    budget.elements -= numel;
    if (budget.elements < 0) throw bad(source, 'the tensors hold more elements than the file has bytes (views repeating one storage?)');
    return new TensorRef(st, offset, shape, strides, numel);
  };
  g.set('torch._utils._rebuild_tensor_v2', { call: rebuildTensor });
  const rebuildParameter = (args: readonly unknown[]): unknown => {
    if (!(args[0] instanceof TensorRef)) throw bad(source, '_rebuild_parameter of something other than a tensor');
    return args[0];
  };
  g.set('torch._utils._rebuild_parameter', { call: rebuildParameter });
  g.set('torch._utils._rebuild_parameter_with_state', { call: rebuildParameter });
  for (const name of Object.keys(STORAGE_TYPES)) {
    g.set(`torch.${name}`, {
      call: () => {
        throw bad(source, `torch.${name} called outside a persistent id`);
      },
    });
  }
  return g;
}

/** The storage a persistent id ('storage', torch.<T>Storage, key, location, numel[, view]) names, made once per key by `make`. */
function storageLoader(source: string, legacy: boolean, make: (key: string, dtype: StorageDType, size: number, numel: number) => Storage) {
  const storages = new Map<string, Storage>();
  return (pid: unknown): Storage => {
    if (!(pid instanceof PyTuple) || pid.items.length !== (legacy ? 6 : 5) || pid.items[0] !== 'storage')
      throw bad(source, "a persistent id that is not ('storage', type, key, location, numel)");
    if (legacy && pid.items[5] !== null) throw bad(source, 'a storage view (legacy view_metadata) is not read');
    const [, type, key, , numel] = pid.items;
    const typeName = typeof type === 'object' && type !== null ? (type as { name?: unknown }).name : undefined;
    const info = typeof typeName === 'string' ? STORAGE_TYPES[typeName] : undefined;
    if (!info) throw bad(source, `storage type ${String(typeName)} is not one of ${Object.keys(STORAGE_TYPES).join(', ')}`);
    if (typeof key !== 'string') throw bad(source, 'a storage key that is not a string');
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      throw bad(source, `storage ${key} has numel ${String(numel)}`);
    const cached = storages.get(key);
    if (cached) {
      if (cached.dtype !== info.dtype) throw bad(source, `storage ${key} is referenced as both ${cached.dtype} and ${info.dtype}`);
      return cached;
    }
    const st = make(key, info.dtype, info.size, numel);
    storages.set(key, st);
    return st;
  };
}

/**
 * The legacy format (torch.save before 1.6, or _use_new_zipfile_serialization=False): five pickles back to back
 * (magic number, protocol version 1001, system info, the object, the sorted storage keys), then each storage in
 * key order as an int64 element count and its raw little-endian elements.
 */
function parseTorchLegacy(bytes: Uint8Array, source: string): unknown {
  const budget = { elements: bytes.length };
  const plain = { source, globals: new Map() };
  const magic = unpickleAt(bytes, 0, plain);
  if (magic.value !== LEGACY_MAGIC) throw bad(source, 'not a torch.save file (no zip header and no legacy magic number)');
  const version = unpickleAt(bytes, magic.end, plain);
  if (version.value !== 1001) throw bad(source, `legacy protocol version ${String(version.value)} (1001 is read)`);
  const info = unpickleAt(bytes, version.end, plain);
  if (info.value instanceof Map && info.value.get('little_endian') === false) throw bad(source, 'big-endian legacy files are not read');
  const storages = new Map<string, Storage>();
  const load = storageLoader(source, true, (key, dtype, size, numel) => {
    const st = new Storage(dtype, size, numel, new Uint8Array(0));
    storages.set(key, st);
    return st;
  });
  const main = unpickleAt(bytes, info.end, { source, globals: globalsFor(source, budget), persistentLoad: load });
  const keys = unpickleAt(bytes, main.end, plain);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string'))
    throw bad(source, 'the storage key list is not a list of strings');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    if (pos + 8 > bytes.length) throw bad(source, `storage ${key}'s data is missing (truncated file?)`);
    const n = dv.getBigInt64(pos, true);
    pos += 8;
    const st = storages.get(key);
    const size = st?.size ?? 1;
    if (n < 0n || n > BigInt(bytes.length - pos) / BigInt(size))
      throw bad(source, `storage ${key} claims ${n} elements, past the end of the file`);
    const count = Number(n);
    if (st) {
      if (count !== st.numel) throw bad(source, `storage ${key} has ${count} elements but the pickle declares ${st.numel}`);
      st.bytes = bytes.subarray(pos, pos + count * size);
    }
    pos += count * size;
  }
  for (const [key, st] of storages) if (st.numel > 0 && st.bytes.length === 0) throw bad(source, `storage ${key} has no data`);
  return main.value;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function parseTorchZip(entries: Map<string, ZipEntry>, source: string, fileBytes: number): unknown {
  const pkl = [...entries.keys()].find((k) => k.endsWith('data.pkl') && k.split('/').length === 2);
  if (!pkl) throw bad(source, `no <name>/data.pkl entry in the archive (entries: ${[...entries.keys()].slice(0, 5).join(', ')})`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const budget = { elements: fileBytes };
  return unpickle(entries.get(pkl)!.data, {
    source,
    globals: globalsFor(source, budget),
    persistentLoad: storageLoader(source, false, (key, dtype, size, numel) => {
      const entry = entries.get(`${prefix}data/${key}`);
      if (!entry) throw bad(source, `storage ${key} has no entry ${prefix}data/${key} in the archive`);
      if (entry.data.length < numel * size)
        throw bad(source, `storage ${key} declares ${numel} ${dtype} elements but its entry holds ${entry.data.length} bytes`);
      return new Storage(dtype, size, numel, entry.data);
    }),
  });
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

let halfTable: Float32Array | null = null;

/** The storage's elements [first, first + count) as float32, decoded with typed arrays (fast paths per type). */
function decode(st: Storage, first: number, count: number): Float32Array {
  // A copy into a fresh, aligned buffer: the entry need not be aligned in the file (and Buffer#slice would not copy).
  const raw = new Uint8Array(count * st.size);
  raw.set(st.bytes.subarray(first * st.size, (first + count) * st.size));
  switch (st.dtype) {
    case 'float32':
      return new Float32Array(raw.buffer, 0, count);
    case 'float16': {
      if (!halfTable) {
        halfTable = new Float32Array(65536);
        for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
      }
      const src = new Uint16Array(raw.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfTable[src[i]];
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(raw.buffer, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'int64': {
      const src = new BigInt64Array(raw.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(src[i]);
      return out;
    }
  }
}

/** The view's elements, row-major, as float32. */
function materialize(t: TensorRef): Tensor {
  const rank = t.shape.length;
  if (t.numel === 0) return new Tensor(new HostStorage(new Float32Array(0)), [...t.shape]);
  // The storage span the view reads: [offset, last].
  let last = t.offset;
  for (let i = 0; i < rank; i++) last += (t.shape[i] - 1) * t.stride[i];
  const vals = decode(t.storage, t.offset, last - t.offset + 1);
  let contiguous = true;
  for (let i = rank - 1, expect = 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= t.shape[i];
  }
  if (contiguous) return new Tensor(new HostStorage(vals), [...t.shape]);
  // Strided: walk the view with an odometer over the outer dimensions, the last one in a tight loop.
  const out = new Float32Array(t.numel);
  const inner = rank > 0 ? t.shape[rank - 1] : 1,
    innerStride = rank > 0 ? t.stride[rank - 1] : 0;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let src = 0;
  for (let o = 0; o < t.numel; o += inner) {
    for (let j = 0, p = src; j < inner; j++, p += innerStride) out[o + j] = vals[p];
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) {
        src += t.stride[d];
        break;
      }
      src -= (t.shape[d] - 1) * t.stride[d];
      idx[d] = 0;
    }
  }
  return new Tensor(new HostStorage(out), [...t.shape]);
}

/** The dict of tensors in a checkpoint: the top level, or under 'state_dict' / 'model'. */
function findStateDict(obj: unknown, source: string, path: string): Map<unknown, unknown> {
  if (obj instanceof TensorRef) throw bad(source, `${path} is a single tensor, not a state dict`);
  if (!(obj instanceof Map)) throw bad(source, `${path} is not a dict of tensors`);
  if ([...obj.values()].every((v) => v instanceof TensorRef) && obj.size > 0) return obj;
  for (const k of ['state_dict', 'model']) if (obj.get(k) instanceof Map) return findStateDict(obj.get(k), source, `${path}['${k}']`);
  const keys = [...obj.keys()].slice(0, 8).map((k) => JSON.stringify(k));
  throw bad(
    source,
    `${path} holds no state dict: neither a dict of tensors nor one under 'state_dict' or 'model' (keys: ${keys.join(', ')})`,
  );
}

/** Parses the bytes of a torch.save file; `source` names it in errors. */
export function parseTorch(bytes: Uint8Array, source = '<buffer>'): Map<string, Tensor> {
  if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'a Uint8Array or Buffer', bytes);
  let root: unknown;
  if (isZip(bytes)) root = parseTorchZip(readZip(bytes, source), source, bytes.length);
  else if (bytes.length >= 2 && bytes[0] === 0x80) root = parseTorchLegacy(bytes, source);
  else throw bad(source, 'neither a zip archive (torch.save files start with "PK") nor the legacy pickle format');
  const dict = findStateDict(root, source, 'the checkpoint');
  const keys = [...dict.keys()];
  for (const k of keys) if (typeof k !== 'string') throw bad(source, `state dict key ${String(k)} is not a string`);
  const strip = keys.length > 0 && keys.every((k) => (k as string).startsWith('module.'));
  const out = new Map<string, Tensor>();
  for (const [k, v] of dict) {
    const ref = v as TensorRef;
    const name = strip ? (k as string).slice('module.'.length) : (k as string);
    if (ref.storage.dtype === 'int64' && name.endsWith('num_batches_tracked')) continue;
    out.set(name, materialize(ref));
  }
  return out;
}

/** Reads a torch.save checkpoint (file path or bytes) into float32 host tensors by name. */
export function loadTorch(pathOrBytes: string | Uint8Array): Map<string, Tensor> {
  if (typeof pathOrBytes === 'string') return parseTorch(fs.readFileSync(pathOrBytes), pathOrBytes);
  if (pathOrBytes instanceof Uint8Array) return parseTorch(pathOrBytes);
  throw invalidType('pathOrBytes', 'a file path string or a Uint8Array', pathOrBytes);
}
