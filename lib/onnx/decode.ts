// Minimal protobuf decoder for ONNX ModelProto (no dependency): only the
// fields a CNN graph needs. Field numbers follow onnx/onnx.proto3:
//   ModelProto: ir_version 1, graph 7, opset_import 8 { domain 1, version 2 }
//   GraphProto: node 1, name 2, initializer 5, input 11, output 12
//   NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7
//   AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20
//   TensorProto: dims 1, data_type 2, float_data 4, int32_data 5,
//     int64_data 7, name 8, raw_data 9, double_data 10, data_location 14
//   ValueInfoProto: name 1, type 2 { tensor_type 1 { elem_type 1, shape 2 { dim 1 { dim_value 1, dim_param 2 } } } }
// Unknown fields are skipped by wire type. Every length is checked against
// the bytes that remain, so a malformed file is a ResnextError, never an
// out-of-bounds read; tensor data is copied only for the types we read.

import { ResnextError } from '../errors';

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType: 1 float, 6 int32, 7 int64, 11 double. */
  dataType: number;
  /** Values as numbers (float32 for floats; int64 as numbers). */
  data: Float32Array | number[];
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** A number per fixed dimension, a string per named one, null when unknown. */
  dims: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelProto {
  irVersion: number;
  /** Opset version of the default domain ('' or 'ai.onnx'). */
  opset: number;
  graph: OnnxGraph;
}

function bad(source: string, what: string): ResnextError {
  return new ResnextError('ERR_RESNEXT_ONNX', `Malformed ONNX file ${source}: ${what}`);
}

/** One protobuf message: iterate fields as (field number, wire type, value). */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly source: string,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): bigint {
    let v = 0n,
      shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw bad(this.source, 'truncated varint');
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 63n) throw bad(this.source, 'varint longer than 10 bytes');
    }
  }

  /** A varint as a signed 64-bit number (int64 fields), exact up to 2^53. */
  int(): number {
    const v = BigInt.asIntN(64, this.varint());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw bad(this.source, `integer ${v} out of range`);
    return Number(v);
  }

  /** The next field's [number, wire type], or null at the end. */
  next(): [number, number] | null {
    if (this.pos >= this.end) return null;
    const k = this.varint();
    return [Number(k >> 3n), Number(k & 7n)];
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.end - this.pos)) throw bad(this.source, `a ${n}-byte field exceeds the ${this.end - this.pos} bytes left`);
    this.pos += Number(n);
    return this.buf.subarray(this.pos - Number(n), this.pos);
  }

  sub(): Reader {
    const b = this.bytes();
    return new Reader(this.buf, this.source, b.byteOffset - this.buf.byteOffset, b.byteOffset - this.buf.byteOffset + b.length);
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw bad(this.source, 'truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw bad(this.source, `unsupported wire type ${wire}`);
    if (this.pos > this.end) throw bad(this.source, 'truncated field');
  }

  /** Repeated int64: packed (wire 2) or one value (wire 0). */
  ints(wire: number, out: number[]): void {
    if (wire === 0) out.push(this.int());
    else if (wire === 2) {
      const r = this.sub();
      while (r.pos < r.end) out.push(r.int());
    } else throw bad(this.source, `int list with wire type ${wire}`);
  }

  /** Repeated float: packed (wire 2) or one value (wire 5). */
  floats(wire: number, out: number[]): void {
    if (wire === 5) out.push(this.fixed32());
    else if (wire === 2) {
      const r = this.sub();
      while (r.pos < r.end) out.push(r.fixed32());
    } else throw bad(this.source, `float list with wire type ${wire}`);
  }
}

function readTensor(r: Reader): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0,
    name = '',
    raw: Uint8Array | null = null,
    external = false;
  const floats: number[] = [],
    ints: number[] = [],
    doubles: number[] = [];
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1) r.ints(wire, dims);
    else if (field === 2) dataType = r.int();
    else if (field === 4) r.floats(wire, floats);
    else if (field === 5 || field === 7) r.ints(wire, ints);
    else if (field === 8) name = r.string();
    else if (field === 9) raw = r.bytes();
    else if (field === 10) {
      if (wire !== 2) throw bad(r.source, 'double_data not packed');
      const s = r.sub();
      while (s.pos + 8 <= s.end) {
        doubles.push(new DataView(s.buf.buffer, s.buf.byteOffset + s.pos, 8).getFloat64(0, true));
        s.pos += 8;
      }
    } else if (field === 14) external = r.int() === 1;
    else r.skip(wire);
  }
  if (external)
    throw new ResnextError(
      'ERR_RESNEXT_UNSUPPORTED',
      `ONNX tensor ${JSON.stringify(name)} in ${r.source} keeps its data in an external file, which is not read`,
    );
  if (dims.some((d) => d < 0)) throw bad(r.source, `tensor ${JSON.stringify(name)} has negative dims [${dims}]`);
  const numel = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array | number[];
  if (dataType === 1) {
    if (raw) {
      if (raw.length !== numel * 4) throw bad(r.source, `tensor ${JSON.stringify(name)} [${dims}] has ${raw.length} bytes of float data`);
      data = new Float32Array(numel);
      new Uint8Array(data.buffer).set(raw);
    } else {
      if (floats.length !== numel) throw bad(r.source, `tensor ${JSON.stringify(name)} [${dims}] has ${floats.length} floats`);
      data = Float32Array.from(floats);
    }
  } else if (dataType === 7 || dataType === 6) {
    const size = dataType === 7 ? 8 : 4;
    if (raw) {
      if (raw.length !== numel * size) throw bad(r.source, `tensor ${JSON.stringify(name)} [${dims}] has ${raw.length} bytes of int data`);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = Array.from({ length: numel }, (_, i) => (size === 8 ? Number(dv.getBigInt64(i * 8, true)) : dv.getInt32(i * 4, true)));
    } else {
      if (ints.length !== numel) throw bad(r.source, `tensor ${JSON.stringify(name)} [${dims}] has ${ints.length} ints`);
      data = ints;
    }
  } else if (dataType === 11) {
    if (raw) {
      if (raw.length !== numel * 8) throw bad(r.source, `tensor ${JSON.stringify(name)} has ${raw.length} bytes of double data`);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = Float32Array.from({ length: numel }, (_, i) => dv.getFloat64(i * 8, true));
    } else {
      if (doubles.length !== numel) throw bad(r.source, `tensor ${JSON.stringify(name)} [${dims}] has ${doubles.length} doubles`);
      data = Float32Array.from(doubles);
    }
  } else {
    throw new ResnextError(
      'ERR_RESNEXT_UNSUPPORTED',
      `ONNX tensor ${JSON.stringify(name)} in ${r.source} has data type ${dataType}; float (1), double (11), int32 (6) and int64 (7) are read`,
    );
  }
  return { name, dims, dataType, data };
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', floats: [], ints: [] };
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1) a.name = r.string();
    else if (field === 2) a.f = r.fixed32();
    else if (field === 3) a.i = r.int();
    else if (field === 4) a.s = r.string();
    else if (field === 5) a.t = readTensor(r.sub());
    else if (field === 7) r.floats(wire, a.floats);
    else if (field === 8) r.ints(wire, a.ints);
    else r.skip(wire);
  }
  return a;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1) n.inputs.push(r.string());
    else if (field === 2) n.outputs.push(r.string());
    else if (field === 3) n.name = r.string();
    else if (field === 4) n.opType = r.string();
    else if (field === 5) {
      const a = readAttribute(r.sub());
      n.attributes.set(a.name, a);
    } else if (field === 7) n.domain = r.string();
    else r.skip(wire);
  }
  return n;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', dims: null };
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1) v.name = r.string();
    else if (field === 2) {
      const type = r.sub();
      for (let g = type.next(); g; g = type.next()) {
        if (g[0] !== 1) {
          type.skip(g[1]);
          continue;
        }
        const tt = type.sub();
        for (let h = tt.next(); h; h = tt.next()) {
          if (h[0] !== 2) {
            tt.skip(h[1]);
            continue;
          }
          const shape = tt.sub();
          v.dims = [];
          for (let d = shape.next(); d; d = shape.next()) {
            if (d[0] !== 1) {
              shape.skip(d[1]);
              continue;
            }
            const dim = shape.sub();
            let value: number | string | null = null;
            for (let e = dim.next(); e; e = dim.next()) {
              if (e[0] === 1) value = dim.int();
              else if (e[0] === 2) value = dim.string();
              else dim.skip(e[1]);
            }
            v.dims.push(value);
          }
        }
      }
    } else r.skip(wire);
  }
  return v;
}

function readGraph(r: Reader): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1) g.nodes.push(readNode(r.sub()));
    else if (field === 2) g.name = r.string();
    else if (field === 5) {
      const t = readTensor(r.sub());
      g.initializers.set(t.name, t);
    } else if (field === 11) g.inputs.push(readValueInfo(r.sub()));
    else if (field === 12) g.outputs.push(readValueInfo(r.sub()));
    else r.skip(wire);
  }
  return g;
}

/** Decodes ModelProto bytes; `source` names the file in errors. */
export function decodeModel(bytes: Uint8Array, source: string): OnnxModelProto {
  const r = new Reader(bytes, source);
  let irVersion = 0,
    opset = 0,
    graph: OnnxGraph | null = null;
  for (let f = r.next(); f; f = r.next()) {
    const [field, wire] = f;
    if (field === 1 && wire === 0) irVersion = r.int();
    else if (field === 7 && wire === 2) graph = readGraph(r.sub());
    else if (field === 8 && wire === 2) {
      const o = r.sub();
      let domain = '',
        version = 0;
      for (let g = o.next(); g; g = o.next()) {
        if (g[0] === 1) domain = o.string();
        else if (g[0] === 2) version = o.int();
        else o.skip(g[1]);
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    } else r.skip(wire);
  }
  if (!graph) throw bad(source, 'no graph (is this an ONNX model file?)');
  return { irVersion, opset, graph };
}
