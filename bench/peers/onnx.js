'use strict';
// A minimal ONNX protobuf encoder: just enough of ModelProto to describe one
// Conv node (NCHW input, OIHW weight and optional bias as initializers, the
// group/strides/pads/dilations/kernel_shape attributes). Field numbers follow
// onnx/onnx.proto3; every message is written as length-delimited bytes, so no
// protobuf dependency is needed.

const { attrInt, attrInts, modelProto, node, tensorProto, valueInfo } = require('../../dist/cjs/onnx/proto');

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
  const conv2d = node(
    'Conv',
    'conv',
    inputs,
    ['y'],
    [
      attrInt('group', groups),
      attrInts('kernel_shape', [R, S]),
      attrInts('strides', [stride, stride]),
      attrInts('pads', [pad, pad, pad, pad]),
      attrInts('dilations', [dilation, dilation]),
    ],
  );
  return modelProto({
    name: 'conv_graph',
    producer: 'resnext-bench',
    nodes: [conv2d],
    initializers: [tensorProto('w', [K, C / groups, R, S], weight), ...(bias ? [tensorProto('b', [K], bias)] : [])],
    inputs: [valueInfo('x', [N, C, H, W])],
    outputs: [valueInfo('y', [N, K, P, Q])],
  });
}

module.exports = { convModel };
