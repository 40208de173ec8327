// safetensors files (https://huggingface.co/docs/safetensors): read and write
// float32 tensors by name, so torchvision weights converted with
// `safetensors.torch.save_file(model.state_dict(), path)` load with no renaming.
//
// Layout: 8-byte little-endian u64 header length N, then N bytes of JSON
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} },
// then the data; offsets are relative to the byte after the header, and
// tensors are row-major little-endian. Reading checks everything before
// touching the data (header length, JSON, dtypes, shapes, offsets inside the
// file, sizes matching shapes, no overlapping ranges), so a malformed or
// truncated file gets a clear error and never an out-of-bounds read.
// F32 is read; I64 `*.num_batches_tracked` (torchvision BN counters) is
// accepted and skipped; any other dtype is an error.

import * as fs from 'node:fs';
import * as os from 'node:os';

import { invalidType, ResnextError } from '../errors';
import { HostStorage, Tensor } from '../tensor';

/** safetensors' own limit on the header size. */
const MAX_HEADER = 100 * 1024 * 1024;
const ITEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function malformed(source: string, what: string): ResnextError {
  return new ResnextError('ERR_RESNEXT_SAFETENSORS', `Malformed safetensors file ${source}: ${what}`);
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads `total` bytes of safetensors through `read(position, into)` (which
 * fills `into` from that byte offset): the header first, checked whole, then
 * each tensor straight into its own aligned array, so a file is never held
 * in memory twice (a 100 MB checkpoint would otherwise cost 200 MB at its peak).
 */
function readSafetensors(total: number, read: (position: number, into: Uint8Array) => void, source: string): Map<string, Tensor> {
  if (os.endianness() !== 'LE') throw new ResnextError('ERR_RESNEXT_UNSUPPORTED', 'safetensors: big-endian hosts are not supported');
  if (total < 8) throw malformed(source, `${total} bytes is shorter than the 8-byte header length field`);
  const lengthField = new Uint8Array(8);
  read(0, lengthField);
  const n64 = new DataView(lengthField.buffer).getBigUint64(0, true);
  if (n64 > BigInt(total - 8))
    throw malformed(source, `header length ${n64} exceeds the ${total - 8} bytes after the length field (truncated file?)`);
  const n = Number(n64);
  if (n > MAX_HEADER) throw malformed(source, `header length ${n} exceeds the 100 MiB limit`);
  if (n < 2) throw malformed(source, `header length ${n} is too small for a JSON object`);
  const headerBytes = new Uint8Array(n);
  read(8, headerBytes);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw malformed(source, `header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed(source, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = total - dataStart;
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    if (typeof v !== 'object' || v === null) throw malformed(source, `entry ${JSON.stringify(name)} is not an object`);
    const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
    if (typeof dtype !== 'string') throw malformed(source, `entry ${JSON.stringify(name)} has no dtype string`);
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      throw malformed(
        source,
        `entry ${JSON.stringify(name)} has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`,
      );
    }
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      off.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) ||
      off[0] > off[1]
    ) {
      throw malformed(
        source,
        `entry ${JSON.stringify(name)} has data_offsets ${JSON.stringify(off)}, expected [begin, end] with 0 <= begin <= end`,
      );
    }
    if (off[1] > dataLen) {
      throw malformed(
        source,
        `entry ${JSON.stringify(name)} ends at byte ${off[1]} of the data but the data is only ${dataLen} bytes (truncated file?)`,
      );
    }
    const item = ITEM_SIZE[dtype];
    if (item === undefined) throw malformed(source, `entry ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(dtype)}`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (numel * item !== off[1] - off[0]) {
      throw malformed(
        source,
        `entry ${JSON.stringify(name)}: shape [${shape.join(', ')}] of ${dtype} needs ${numel * item} bytes but data_offsets cover ${off[1] - off[0]}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin: off[0], end: off[1] });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw malformed(
        source,
        `entries ${JSON.stringify(sorted[i - 1].name)} [${sorted[i - 1].begin}, ${sorted[i - 1].end}) and ${JSON.stringify(sorted[i].name)} [${sorted[i].begin}, ${sorted[i].end}) overlap`,
      );
    }
  }
  const out = new Map<string, Tensor>();
  for (const e of entries) {
    if (e.dtype === 'I64' && e.name.endsWith('num_batches_tracked')) continue;
    if (e.dtype !== 'F32') {
      throw new ResnextError(
        'ERR_RESNEXT_UNSUPPORTED',
        `Unsupported dtype ${e.dtype} for tensor ${JSON.stringify(e.name)} in ${source}: only F32 is read (and I64 *.num_batches_tracked, which is skipped); convert with tensor.float()`,
      );
    }
    // A copy into an aligned array: the data need not be 4-byte aligned in the file.
    const f = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    read(dataStart + e.begin, new Uint8Array(f.buffer));
    out.set(e.name, new Tensor(new HostStorage(f), e.shape));
  }
  return out;
}

/** Parses safetensors bytes; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): Map<string, Tensor> {
  if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'a Uint8Array or Buffer', bytes);
  return readSafetensors(bytes.length, (position, into) => into.set(bytes.subarray(position, position + into.length)), source);
}

/**
 * Reads a safetensors file into float32 tensors by name (see the file comment
 * for what is checked), one tensor at a time from the file: peak memory is
 * the tensors, not the tensors plus the file.
 */
export function loadSafetensors(path: string): Map<string, Tensor> {
  if (typeof path !== 'string') throw invalidType('path', 'a file path string', path);
  const fd = fs.openSync(path, 'r');
  try {
    const total = fs.fstatSync(fd).size;
    return readSafetensors(
      total,
      (position, into) => {
        for (let done = 0; done < into.length;) {
          const got = fs.readSync(fd, into, done, into.length - done, position + done);
          if (got === 0) throw malformed(path, `the file ended at byte ${position + done} of ${total} while reading (changed while read?)`);
          done += got;
        }
      },
      path,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of a safetensors file holding `tensors` (F32), in the map's order (a Buffer at run time, typed Uint8Array so the typings need no @types/node). */
export function serializeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  if (!(tensors instanceof Map)) throw invalidType('tensors', 'a Map<string, Tensor>', tensors);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((v) => typeof v !== 'string')) {
      throw invalidType('metadata', 'an object of string values', metadata);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const parts: Float32Array[] = [];
  for (const [name, t] of tensors) {
    if (typeof name !== 'string' || name === '__metadata__') throw invalidType('tensors key', 'a tensor name string', name);
    if (!(t instanceof Tensor)) throw invalidType(`tensors.get(${JSON.stringify(name)})`, 'a Tensor', t);
    const d = t.dataSync();
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + d.byteLength] };
    offset += d.byteLength;
    parts.push(d);
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(8 + hb.length + offset);
  out.writeBigUInt64LE(BigInt(hb.length), 0);
  hb.copy(out, 8);
  let pos = 8 + hb.length;
  for (const d of parts) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Writes float32 tensors to a safetensors file. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): void {
  if (typeof path !== 'string') throw invalidType('path', 'a file path string', path);
  fs.writeFileSync(path, serializeSafetensors(tensors, metadata));
}
