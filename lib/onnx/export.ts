// ONNX export of a whole ResNet/ResNeXt (ModelProto bytes, no protobuf
// dependency), built from a model's architecture and stateDict() so that
// onnxruntime runs the same network with the same weights as our backends.
// Nodes: Conv (no bias) -> BatchNormalization (running stats, eps 1e-5) ->
// Relu, MaxPool 3x3/2 pad 1, Add, GlobalAveragePool, Flatten, Gemm (transB=1,
// torch's fc layout), opset 17. BN is left as separate nodes: onnxruntime
// folds it into the convs itself (and loadOnnx does too). Input 'input'
// [batch, 3, height, width] with a named (dynamic) batch unless a fixed one is
// asked for, and named height and width; output 'logits' [batch, classes].

import { invalidValue } from '../errors';
import type { ConvDef } from '../models/architecture';
import type { ResNeXtModel } from '../models/model';
import { attrFloat, attrInt, attrInts, modelProto, node, tensorProto, valueInfo } from './proto';

export interface ToOnnxOptions {
  /** A fixed batch size; default: dynamic ('batch'). */
  batch?: number;
  /** A fixed input height and width; default: dynamic ('height', 'width'). */
  size?: number;
  /** Default 17 (at least 13). */
  opset?: number;
}

/** ModelProto bytes for the model's network and current weights. */
export function exportOnnx(model: ResNeXtModel, options: ToOnnxOptions = {}): Uint8Array {
  const { batch, size, opset = 17 } = options;
  for (const [k, v, min] of [
    ['batch', batch, 1],
    ['size', size, 1],
    ['opset', opset, 13],
  ] as const)
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min))
      throw invalidValue(`options.${k}`, `an integer >= ${min}`, v);
  const arch = model.architecture;
  // Copies: the model keeps its prepared engine.
  const sd = model.stateDict({ copy: true });
  const nodes: Uint8Array[] = [];
  const inits: Uint8Array[] = [];
  const used = new Set<string>();
  const init = (name: string): string => {
    if (used.has(name)) return name;
    used.add(name);
    const t = sd.get(name);
    if (!t) throw new Error(`stateDict has no ${name}`);
    inits.push(tensorProto(name, [...t.shape], t.dataSync()));
    return name;
  };
  const convBn = (c: ConvDef, input: string, relu: boolean): string => {
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
  let h = convBn(arch.stem, 'input', true);
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
  const N = batch ?? 'batch';
  return modelProto({
    name: model.name,
    producer: 'resnext',
    nodes,
    initializers: inits,
    inputs: [valueInfo('input', [N, arch.stem.inC, size ?? 'height', size ?? 'width'])],
    outputs: [valueInfo('logits', [N, arch.numClasses])],
    opset,
  });
}

/** The graph at a fixed input [batch, 3, size, size] (bench and `bench --compare onnxruntime`). */
export function networkModel(model: ResNeXtModel, batch: number, size: number): Uint8Array {
  return exportOnnx(model, { batch, size });
}
