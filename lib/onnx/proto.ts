// Minimal ONNX protobuf writer (no dependency): the message builders that the
// model exporter (export.ts) and bench/peers (one-node conv models) share.
// Field numbers follow onnx/onnx.proto3; every submessage is length-delimited
// bytes; tensors are float32 with little-endian raw_data.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;
export const TENSOR_FLOAT = 1;

type Bytes = Uint8Array;

function varint(value: number | bigint): Bytes {
  let v = BigInt(value);
  // Negative int64 values are written as their 64-bit two's complement (10 bytes), as protobuf does.
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export function message(parts: Bytes[]): Bytes {
  return Buffer.concat(parts);
}
const key = (field: number, wire: number): Bytes => varint((field << 3) | wire);
export const fieldVarint = (field: number, value: number | bigint): Bytes => message([key(field, WIRE_VARINT), varint(value)]);
export function fieldBytes(field: number, bytes: string | ArrayBufferView): Bytes {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return message([key(field, WIRE_LEN), varint(b.length), b]);
}
function fieldFloat(field: number, v: number): Bytes {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v, 0);
  return message([key(field, WIRE_I32), b]);
}

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (float32, little-endian). */
export const tensorProto = (name: string, dims: readonly number[], data: Float32Array): Bytes =>
  message([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, TENSOR_FLOAT), fieldBytes(8, name), fieldBytes(9, data)]);

/**
 * ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } } } }:
 * a number is a fixed dimension, a string a named (dynamic) one.
 */
export function valueInfo(name: string, dims: readonly (number | string)[]): Bytes {
  const shape = message(dims.map((d) => fieldBytes(1, typeof d === 'string' ? fieldBytes(2, d) : fieldVarint(1, d))));
  const tensorType = message([fieldVarint(1, TENSOR_FLOAT), fieldBytes(2, shape)]);
  return message([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}

/** AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20. */
export const attrInt = (name: string, v: number): Bytes => message([fieldBytes(1, name), fieldVarint(3, v), fieldVarint(20, ATTR_INT)]);
export const attrInts = (name: string, vs: readonly number[]): Bytes =>
  message([fieldBytes(1, name), ...vs.map((v) => fieldVarint(8, v)), fieldVarint(20, ATTR_INTS)]);
export const attrFloat = (name: string, v: number): Bytes => message([fieldBytes(1, name), fieldFloat(2, v), fieldVarint(20, ATTR_FLOAT)]);

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
export const node = (
  op: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: readonly Bytes[] = [],
): Bytes =>
  message([
    ...inputs.map((i) => fieldBytes(1, i)),
    ...outputs.map((o) => fieldBytes(2, o)),
    fieldBytes(3, name),
    fieldBytes(4, op),
    ...attrs.map((a) => fieldBytes(5, a)),
  ]);

export interface ModelParts {
  name: string;
  producer: string;
  nodes: Bytes[];
  initializers: Bytes[];
  inputs: Bytes[];
  outputs: Bytes[];
  /** Default 17. */
  opset?: number;
}

/**
 * ModelProto bytes (ir_version 8) around one graph.
 * GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12;
 * ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 }.
 */
export function modelProto({ name, producer, nodes, initializers, inputs, outputs, opset = 17 }: ModelParts): Bytes {
  const graph = message([
    ...nodes.map((n) => fieldBytes(1, n)),
    fieldBytes(2, name),
    ...initializers.map((t) => fieldBytes(5, t)),
    ...inputs.map((v) => fieldBytes(11, v)),
    ...outputs.map((v) => fieldBytes(12, v)),
  ]);
  return message([
    fieldVarint(1, 8),
    fieldBytes(2, producer),
    fieldBytes(7, graph),
    fieldBytes(8, message([fieldBytes(1, ''), fieldVarint(2, opset)])),
  ]);
}
