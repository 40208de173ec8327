'use strict';
// ONNX encoder for a whole ResNet/ResNeXt (ModelProto bytes, no protobuf
// dependency), built from a model's architecture and stateDict() so that
// onnxruntime runs the same network with the same weights as our CPU backend.
// Nodes: Conv (no bias) -> BatchNormalization (running stats, eps 1e-5) ->
// Relu, MaxPool 3x3/2 pad 1, Add, GlobalAveragePool, Flatten, Gemm (transB=1,
// torch's fc layout). BN is left as separate nodes: onnxruntime folds it into
// the convs itself at graphOptimizationLevel 'all'. Field numbers follow
// onnx/onnx.proto3; every message is length-delimited bytes.

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
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.concat([key(field, WIRE_LEN), varint(b.length), b]);
}
function fieldFloat(field, v) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v, 0);
  return Buffer.concat([key(field, WIRE_I32), b]);
}
const message = (parts) => Buffer.concat(parts);

// TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9.
const tensorProto = (name, dims, data) => message([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, TENSOR_FLOAT), fieldBytes(8, name), fieldBytes(9, data)]);
// ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 } } } } }
function valueInfo(name, dims) {
  const shape = message(dims.map((d) => fieldBytes(1, fieldVarint(1, d))));
  return message([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, message([fieldVarint(1, TENSOR_FLOAT), fieldBytes(2, shape)])))]);
}
// AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20.
const attrInt = (name, v) => message([fieldBytes(1, name), fieldVarint(3, v), fieldVarint(20, ATTR_INT)]);
const attrInts = (name, vs) => message([fieldBytes(1, name), ...vs.map((v) => fieldVarint(8, v)), fieldVarint(20, ATTR_INTS)]);
const attrFloat = (name, v) => message([fieldBytes(1, name), fieldFloat(2, v), fieldVarint(20, ATTR_FLOAT)]);
// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
const node = (op, name, inputs, outputs, attrs = []) =>
  message([...inputs.map((i) => fieldBytes(1, i)), ...outputs.map((o) => fieldBytes(2, o)), fieldBytes(3, name), fieldBytes(4, op), ...attrs.map((a) => fieldBytes(5, a))]);

/**
 * model: a ResNeXtModel (architecture + stateDict()); batch: fixed N of the
 * input [N, 3, size, size]. Returns ModelProto bytes; input 'x', output 'logits'.
 */
function networkModel(model, batch, size) {
  const arch = model.architecture;
  // Copies: the model keeps its prepared engine (no re-preparation before timing).
  const sd = model.stateDict({ copy: true });
  const nodes = [];
  const inits = [];
  const used = new Set();
  const init = (name) => {
    if (used.has(name)) return name;
    used.add(name);
    const t = sd.get(name);
    if (!t) throw new Error(`stateDict has no ${name}`);
    inits.push(tensorProto(name, [...t.shape], t.dataSync()));
    return name;
  };
  const convBn = (c, input, relu) => {
    const k = c.kernel;
    nodes.push(
      node('Conv', c.name, [input, init(`${c.name}.weight`)], [`${c.name}.out`], [
        attrInt('group', c.groups),
        attrInts('kernel_shape', [k, k]),
        attrInts('strides', [c.stride, c.stride]),
        attrInts('pads', [c.padding, c.padding, c.padding, c.padding]),
        attrInts('dilations', [1, 1]),
      ]),
    );
    const b = c.bn;
    nodes.push(
      node('BatchNormalization', b, [`${c.name}.out`, init(`${b}.weight`), init(`${b}.bias`), init(`${b}.running_mean`), init(`${b}.running_var`)], [`${b}.out`], [
        attrFloat('epsilon', 1e-5),
      ]),
    );
    if (!relu) return `${b}.out`;
    nodes.push(node('Relu', `${b}.relu`, [`${b}.out`], [`${b}.relu`]));
    return `${b}.relu`;
  };
  let h = convBn(arch.stem, 'x', true);
  if (arch.maxPool) {
    nodes.push(node('MaxPool', 'maxpool', [h], ['maxpool.out'], [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1])]));
    h = 'maxpool.out';
  }
  for (const stage of arch.stages) {
    for (const b of stage) {
      let t = convBn(b.conv1, h, true);
      t = convBn(b.conv2, t, true);
      t = convBn(b.conv3, t, false);
      const id = b.downsample ? convBn(b.downsample, h, false) : h;
      nodes.push(node('Add', `${b.name}.add`, [t, id], [`${b.name}.sum`]));
      nodes.push(node('Relu', `${b.name}.relu`, [`${b.name}.sum`], [`${b.name}.out`]));
      h = `${b.name}.out`;
    }
  }
  nodes.push(node('GlobalAveragePool', 'avgpool', [h], ['avgpool.out']));
  nodes.push(node('Flatten', 'flatten', ['avgpool.out'], ['flat'], [attrInt('axis', 1)]));
  nodes.push(node('Gemm', 'fc', ['flat', init('fc.weight'), init('fc.bias')], ['logits'], [attrInt('transB', 1)]));
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = message([
    ...nodes.map((n) => fieldBytes(1, n)),
    fieldBytes(2, model.name),
    ...inits.map((t) => fieldBytes(5, t)),
    fieldBytes(11, valueInfo('x', [batch, 3, size, size])),
    fieldBytes(12, valueInfo('logits', [batch, arch.numClasses])),
  ]);
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 }.
  return message([fieldVarint(1, 8), fieldBytes(2, 'resnext-bench-networks'), fieldBytes(7, graph), fieldBytes(8, message([fieldBytes(1, ''), fieldVarint(2, 17)]))]);
}

module.exports = { networkModel };
