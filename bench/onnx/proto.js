'use strict';
// Minimal ONNX protobuf writer (no dependency): the message builders that
// bench/peers (one-node conv models) and bench/networks (whole networks) share.
// Field numbers follow onnx/onnx.proto3; every submessage is length-delimited
// bytes; tensors are float32 with little-endian raw_data.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;
const TENSOR_FLOAT = 1;

function varint(value) {
  let v = BigInt(value);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const fieldVarint = (field, value) => Buffer.concat([key(field, WIRE_VARINT), varint(value)]);
function fieldBytes(field, bytes) {
  const b =
    typeof bytes === 'string'
      ? Buffer.from(bytes, 'utf8')
      : Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.concat([key(field, WIRE_LEN), varint(b.length), b]);
}
function fieldFloat(field, v) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v, 0);
  return Buffer.concat([key(field, WIRE_I32), b]);
}
const message = (parts) => Buffer.concat(parts);

// TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9.
const tensorProto = (name, dims, data) =>
  message([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, TENSOR_FLOAT), fieldBytes(8, name), fieldBytes(9, data)]);

// ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 } } } } }
function valueInfo(name, dims) {
  const shape = message(dims.map((d) => fieldBytes(1, fieldVarint(1, d))));
  const tensorType = message([fieldVarint(1, TENSOR_FLOAT), fieldBytes(2, shape)]);
  return message([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}

// AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20.
const attrInt = (name, v) => message([fieldBytes(1, name), fieldVarint(3, v), fieldVarint(20, ATTR_INT)]);
const attrInts = (name, vs) => message([fieldBytes(1, name), ...vs.map((v) => fieldVarint(8, v)), fieldVarint(20, ATTR_INTS)]);
const attrFloat = (name, v) => message([fieldBytes(1, name), fieldFloat(2, v), fieldVarint(20, ATTR_FLOAT)]);

// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
const node = (op, name, inputs, outputs, attrs = []) =>
  message([
    ...inputs.map((i) => fieldBytes(1, i)),
    ...outputs.map((o) => fieldBytes(2, o)),
    fieldBytes(3, name),
    fieldBytes(4, op),
    ...attrs.map((a) => fieldBytes(5, a)),
  ]);

/**
 * ModelProto bytes (ir_version 8, opset 17) around one graph.
 * GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12;
 * ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 }.
 */
function modelProto({ name, producer, nodes, initializers, inputs, outputs }) {
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
    fieldBytes(8, message([fieldBytes(1, ''), fieldVarint(2, 17)])),
  ]);
}

module.exports = { tensorProto, valueInfo, attrInt, attrInts, attrFloat, node, modelProto };
