'use strict';
// A minimal ONNX protobuf encoder: just enough of ModelProto to describe one
// Conv node (NCHW input, OIHW weight and optional bias as initializers, the
// group/strides/pads/dilations/kernel_shape attributes). Field numbers follow
// onnx/onnx.proto3; every message is written as length-delimited bytes, so no
// protobuf dependency is needed.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const ATTR_INT = 2;
const ATTR_INTS = 7;
const TENSOR_FLOAT = 1;

function varint(value) {
  // Non-negative values only (all ours are): sizes, dims, enum values.
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

function key(field, wire) {
  return varint((field << 3) | wire);
}

function fieldVarint(field, value) {
  return Buffer.concat([key(field, WIRE_VARINT), varint(value)]);
}

function fieldBytes(field, bytes) {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.concat([key(field, WIRE_LEN), varint(b.length), b]);
}

const message = (parts) => Buffer.concat(parts);

// TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian).
function tensorProto(name, dims, data) {
  return message([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, TENSOR_FLOAT), fieldBytes(8, name), fieldBytes(9, data)]);
}

// ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 } } } } }
function valueInfo(name, dims) {
  const shape = message(dims.map((d) => fieldBytes(1, fieldVarint(1, d))));
  const tensorType = message([fieldVarint(1, TENSOR_FLOAT), fieldBytes(2, shape)]);
  return message([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}

// AttributeProto: name = 1, i = 3, ints = 8, type = 20.
function attrInt(name, v) {
  return message([fieldBytes(1, name), fieldVarint(3, v), fieldVarint(20, ATTR_INT)]);
}
function attrInts(name, vs) {
  return message([fieldBytes(1, name), ...vs.map((v) => fieldVarint(8, v)), fieldVarint(20, ATTR_INTS)]);
}

/**
 * One-node Conv model. conv: {N, C, H, W, K, R, S, groups, stride, pad, dilation}
 * (stride/pad/dilation numbers, symmetric). weight: Float32Array [K][C/groups][R][S];
 * bias: Float32Array [K] or null. Returns the serialized ModelProto bytes.
 */
function convModel(conv, weight, bias) {
  const { N, C, H, W, K, R, S, groups, stride, pad, dilation = 1 } = conv;
  const P = Math.floor((H + 2 * pad - dilation * (R - 1) - 1) / stride) + 1;
  const Q = Math.floor((W + 2 * pad - dilation * (S - 1) - 1) / stride) + 1;
  const inputs = ['x', 'w'];
  if (bias) inputs.push('b');
  // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
  const node = message([
    ...inputs.map((i) => fieldBytes(1, i)),
    fieldBytes(2, 'y'),
    fieldBytes(3, 'conv'),
    fieldBytes(4, 'Conv'),
    fieldBytes(5, attrInt('group', groups)),
    fieldBytes(5, attrInts('kernel_shape', [R, S])),
    fieldBytes(5, attrInts('strides', [stride, stride])),
    fieldBytes(5, attrInts('pads', [pad, pad, pad, pad])),
    fieldBytes(5, attrInts('dilations', [dilation, dilation])),
  ]);
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = message([
    fieldBytes(1, node),
    fieldBytes(2, 'conv_graph'),
    fieldBytes(5, tensorProto('w', [K, C / groups, R, S], weight)),
    ...(bias ? [fieldBytes(5, tensorProto('b', [K], bias))] : []),
    fieldBytes(11, valueInfo('x', [N, C, H, W])),
    fieldBytes(12, valueInfo('y', [N, K, P, Q])),
  ]);
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 }.
  return message([
    fieldVarint(1, 8),
    fieldBytes(2, 'resnext-bench'),
    fieldBytes(7, graph),
    fieldBytes(8, message([fieldBytes(1, ''), fieldVarint(2, 17)])),
  ]);
}

module.exports = { convModel };
