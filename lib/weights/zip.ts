// Read-only zip archive reader for the files torch.save writes (PyTorch >=
// 1.6): entries are stored uncompressed (method 0), so an entry is a
// subarray of the input, never a copy. Layout read: the end-of-central-
// directory record (searched in the last 64 KiB + 22 bytes), the zip64 end
// record when the counts or offsets overflow 16/32 bits (torch writes zip64
// for archives over 4 GiB), the central directory (name, sizes, local header
// offset, zip64 extra field 0x0001), then each local header (its own name and
// extra lengths: torch pads data to 64-byte alignment with an extra field).
// Every offset and size is checked against the input before use; anything
// malformed or compressed is a ResnextError naming what was wrong.

import { ResnextError } from '../errors';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipEntry {
  name: string;
  /** The entry's bytes (a view into the archive). */
  data: Uint8Array;
}

function bad(source: string, what: string): ResnextError {
  return new ResnextError('ERR_RESNEXT_TORCH', `Malformed PyTorch checkpoint ${source}: ${what}`);
}

/** A 64-bit little-endian field as a number, refusing values beyond 2^53. */
function u64(dv: DataView, at: number, source: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(source, `${what} ${v} is out of range`);
  return Number(v);
}

/** True when the bytes start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** The archive's entries by name, in central-directory order. */
export function readZip(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let eocd = -1;
  for (let i = len - 22; i >= Math.max(0, len - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad(source, 'no zip end-of-central-directory record (truncated file?)');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== ZIP64_LOCATOR) throw bad(source, 'zip64 sizes without a zip64 end-record locator');
    const rec = u64(dv, loc + 8, source, 'zip64 end-record offset');
    if (rec + 56 > loc || dv.getUint32(rec, true) !== ZIP64_EOCD) throw bad(source, `no zip64 end record at offset ${rec}`);
    count = u64(dv, rec + 32, source, 'zip64 entry count');
    cdSize = u64(dv, rec + 40, source, 'zip64 central directory size');
    cdOffset = u64(dv, rec + 48, source, 'zip64 central directory offset');
  }
  if (cdOffset + cdSize > len) throw bad(source, `central directory [${cdOffset}, ${cdOffset + cdSize}) lies beyond the ${len}-byte file`);
  // Each central entry takes at least 46 bytes: a count beyond that is a lie, not an allocation.
  if (count * 46 > cdSize) throw bad(source, `${count} entries cannot fit a ${cdSize}-byte central directory`);
  const entries = new Map<string, ZipEntry>();
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || dv.getUint32(p, true) !== CENTRAL) throw bad(source, `central directory entry ${i} is corrupt`);
    const method = dv.getUint16(p + 10, true);
    let compSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) throw bad(source, `central directory entry ${i} runs past the directory`);
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 64-bit values of exactly those fields that are 0xffffffff, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const n = dv.getUint16(e + 2, true);
      if (e + 4 + n > extraEnd) throw bad(source, `entry ${JSON.stringify(name)} has a truncated extra field`);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (what: string): number => {
          if (q + 8 > e + 4 + n) throw bad(source, `entry ${JSON.stringify(name)}: zip64 extra field lacks the ${what}`);
          const v = u64(dv, q, source, `${what} of ${JSON.stringify(name)}`);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take('size');
        if (compSize === 0xffffffff) compSize = take('compressed size');
        if (local === 0xffffffff) local = take('local header offset');
      }
      e += 4 + n;
    }
    if (method !== 0)
      throw bad(source, `entry ${JSON.stringify(name)} is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (compSize !== size) throw bad(source, `entry ${JSON.stringify(name)} is stored with size ${size} but compressed size ${compSize}`);
    if (local + 30 > len || dv.getUint32(local, true) !== LOCAL)
      throw bad(source, `entry ${JSON.stringify(name)}: no local header at ${local}`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > len)
      throw bad(source, `entry ${JSON.stringify(name)} [${start}, ${start + size}) lies beyond the ${len}-byte file (truncated?)`);
    if (entries.has(name)) throw bad(source, `entry ${JSON.stringify(name)} appears twice`);
    entries.set(name, { name, data: bytes.subarray(start, start + size) });
    p = end;
  }
  return entries;
}
