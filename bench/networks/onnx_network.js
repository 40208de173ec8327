'use strict';
// ONNX encoder for a whole ResNet/ResNeXt (ModelProto bytes, no protobuf
// dependency), built from a model's architecture and stateDict() so that
// onnxruntime runs the same network with the same weights as our CPU backend.
// Nodes: Conv (no bias) -> BatchNormalization (running stats, eps 1e-5) ->
// Relu, MaxPool 3x3/2 pad 1, Add, GlobalAveragePool, Flatten, Gemm (transB=1,
// torch's fc layout). BN is left as separate nodes: onnxruntime folds it into
// the convs itself at graphOptimizationLevel 'all'. Field numbers follow
// onnx/onnx.proto3; every message is length-delimited bytes.

const { attrFloat, attrInt, attrInts, modelProto, node, tensorProto, valueInfo } = require('../onnx/proto');

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
      node(
        'Conv',
        c.name,
        [input, init(`${c.name}.weight`)],
        [`${c.name}.out`],
        [
          attrInt('group', c.groups),
          attrInts('kernel_shape', [k, k]),
          attrInts('strides', [c.stride, c.stride]),
          attrInts('pads', [c.padding, c.padding, c.padding, c.padding]),
          attrInts('dilations', [1, 1]),
        ],
      ),
    );
    const b = c.bn;
    nodes.push(
      node(
        'BatchNormalization',
        b,
        [`${c.name}.out`, init(`${b}.weight`), init(`${b}.bias`), init(`${b}.running_mean`), init(`${b}.running_var`)],
        [`${b}.out`],
        [attrFloat('epsilon', 1e-5)],
      ),
    );
    if (!relu) return `${b}.out`;
    nodes.push(node('Relu', `${b}.relu`, [`${b}.out`], [`${b}.relu`]));
    return `${b}.relu`;
  };
  let h = convBn(arch.stem, 'x', true);
  if (arch.maxPool) {
    nodes.push(
      node(
        'MaxPool',
        'maxpool',
        [h],
        ['maxpool.out'],
        [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1])],
      ),
    );
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
  return modelProto({
    name: model.name,
    producer: 'resnext-bench-networks',
    nodes,
    initializers: inits,
    inputs: [valueInfo('x', [batch, 3, size, size])],
    outputs: [valueInfo('logits', [batch, arch.numClasses])],
  });
}

module.exports = { networkModel };
