// loadOnnx: runs an ONNX CNN graph (as torch.onnx.export writes torchvision's
// resnet / resnext / wide_resnet: Conv with bias, Relu, MaxPool, Add,
// GlobalAveragePool, Flatten, Gemm, Identity; or BatchNormalization nodes when
// the exporter did not fold them) on our ops. At load the graph is checked
// (every unsupported op is named in one error) and compiled into steps with
// our fusions: BatchNormalization after a Conv is folded into its weights,
// an Add of a Conv's output is fused into that Conv as its residual, and a
// following Relu becomes the Conv's activation; each Conv gets a prepared
// plan (weights packed once per backend). forward() binds the input and runs
// the steps; layout NCHW float32 throughout.

import * as fs from 'node:fs';

import type { BackendName } from '../backends/backend';
import { invalidType, invalidValue, ResnextError } from '../errors';
import { add } from '../ops/add';
import { avgPool2d } from '../ops/avg_pool2d';
import { batchNorm } from '../ops/batch_norm';
import { type Conv2dPlan, conv2dPlan } from '../ops/conv2d';
import { globalAvgPoolAsync } from '../ops/global_avg_pool';
import { linearAsync } from '../ops/linear';
import { maxPool2dAsync } from '../ops/max_pool2d';
import { relu } from '../ops/relu';
import { checkTensor, HostStorage, Tensor } from '../tensor';
import { decodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './decode';

const SUPPORTED = new Set([
  'Conv',
  'BatchNormalization',
  'Relu',
  'Add',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Gemm',
  'Identity',
  'Constant',
]);

type Step =
  | {
      op: 'conv';
      input: string;
      output: string;
      weight: Tensor;
      bias: Tensor | null;
      stride: [number, number];
      dilation: [number, number];
      pads: [number, number, number, number];
      groups: number;
      relu: boolean;
      residual: string | null;
    }
  | {
      op: 'bn';
      input: string;
      output: string;
      params: { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor; eps: number };
    }
  | { op: 'relu'; input: string; output: string }
  | { op: 'add'; a: string; b: string; output: string }
  | { op: 'maxpool' | 'avgpool'; input: string; output: string; options: Record<string, unknown> }
  | { op: 'gap'; input: string; output: string }
  | { op: 'flatten'; input: string; output: string; axis: number }
  | { op: 'reshape'; input: string; output: string; shape: number[] }
  | { op: 'gemm'; input: string; output: string; weight: Tensor; bias: Tensor | null };

export interface OnnxForwardOptions {
  /** 'cpu' (default when the addon is built) or 'reference'. */
  backend?: BackendName;
}

function unsupported(source: string, what: string): ResnextError {
  return new ResnextError('ERR_RESNEXT_ONNX_UNSUPPORTED', `Unsupported ONNX graph ${source}: ${what}`);
}

const hostTensor = (data: Float32Array, shape: number[]): Tensor => new Tensor(new HostStorage(data), shape);

/** A runnable ONNX graph (see the file comment). */
export class OnnxModel {
  readonly inputName: string;
  readonly outputName: string;
  /** The input's dims as the file declares them (numbers fixed, strings named). */
  readonly inputDims: readonly (number | string | null)[] | null;
  readonly opset: number;
  #steps: Step[];
  #plans = new Map<string, Conv2dPlan[]>();
  #disposed = false;

  constructor(bytes: Uint8Array, source = '<buffer>') {
    if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'a Uint8Array or Buffer', bytes);
    const model = decodeModel(bytes, source);
    const g = model.graph;
    this.opset = model.opset;
    const counts = new Map<string, number>();
    for (const n of g.nodes) {
      const op = n.domain === '' || n.domain === 'ai.onnx' ? n.opType : `${n.domain}.${n.opType}`;
      if (!SUPPORTED.has(op)) counts.set(op, (counts.get(op) ?? 0) + 1);
    }
    if (counts.size > 0)
      throw unsupported(
        source,
        `${[...counts].map(([op, c]) => `${op} (${c} node${c > 1 ? 's' : ''})`).join(', ')} ${counts.size > 1 ? 'are' : 'is'} not supported; supported ops: ${[...SUPPORTED].join(', ')}`,
      );
    const inputs = g.inputs.filter((v) => !g.initializers.has(v.name));
    if (inputs.length !== 1) throw unsupported(source, `${inputs.length} graph inputs (one image batch expected)`);
    if (g.outputs.length !== 1) throw unsupported(source, `${g.outputs.length} graph outputs (one expected)`);
    this.inputName = inputs[0].name;
    this.inputDims = inputs[0].dims;
    this.outputName = g.outputs[0].name;
    this.#steps = compile(g.nodes, g.initializers, this.inputName, this.outputName, source);
  }

  /** Runs the graph on x [N, C, H, W] (a host tensor); resolves to the graph's output. */
  async forward(x: Tensor, options: OnnxForwardOptions = {}): Promise<Tensor> {
    if (this.#disposed) throw new TypeError('Expected a live OnnxModel but received a disposed one');
    const xt = checkTensor(x, 'x');
    if (xt.device !== 'cpu') throw invalidValue('x.device', "'cpu' (a host tensor)", xt.device);
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    const dims = this.inputDims;
    if (dims) {
      if (dims.length !== xt.shape.length) throw invalidValue('x.shape', `a rank-${dims.length} shape [${dims.join(', ')}]`, xt.shape);
      dims.forEach((d, i) => {
        if (typeof d === 'number' && d !== xt.shape[i]) throw invalidValue(`x.shape[${i}]`, `${d} (fixed in the ONNX file)`, xt.shape[i]);
      });
    }
    const backend = options.backend;
    if (backend !== undefined && backend !== 'cpu' && backend !== 'reference')
      throw invalidValue('options.backend', "'cpu' or 'reference' (the host backends)", backend);
    const key = backend ?? '';
    let plans = this.#plans.get(key);
    if (!plans) {
      plans = this.#steps
        .filter((s) => s.op === 'conv')
        .map((s) => {
          const c = s as Extract<Step, { op: 'conv' }>;
          return conv2dPlan(c.weight, {
            stride: c.stride,
            dilation: c.dilation,
            padding: c.pads,
            groups: c.groups,
            bias: c.bias,
            activation: c.relu ? 'relu' : 'none',
            backend,
          });
        });
      this.#plans.set(key, plans);
    }
    const values = new Map<string, Tensor>([[this.inputName, xt]]);
    const get = (name: string): Tensor => {
      const t = values.get(name);
      if (!t) throw new ResnextError('ERR_RESNEXT_ONNX', `ONNX value ${JSON.stringify(name)} is used before it is computed`);
      return t;
    };
    const layer = backend === undefined ? {} : { backend };
    let ci = 0;
    for (const s of this.#steps) {
      let y: Tensor;
      switch (s.op) {
        case 'conv':
          y = await plans[ci++].runAsync(get(s.input), s.residual ? { residual: get(s.residual) } : undefined);
          break;
        case 'bn':
          y = batchNorm(get(s.input), s.params, layer);
          break;
        case 'relu':
          y = relu(get(s.input), layer);
          break;
        case 'add':
          y = add(get(s.a), get(s.b), layer);
          break;
        case 'maxpool':
          y = await maxPool2dAsync(get(s.input), { ...s.options, ...layer });
          break;
        case 'avgpool':
          y = avgPool2d(get(s.input), { ...(s.options as { kernelSize: number }), ...layer });
          break;
        case 'gap':
          y = await globalAvgPoolAsync(get(s.input), layer);
          break;
        case 'flatten': {
          const t = get(s.input);
          const prod = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
          y = t.reshape([prod(t.shape.slice(0, s.axis)), prod(t.shape.slice(s.axis))]);
          break;
        }
        case 'reshape': {
          const t = get(s.input);
          y = t.reshape(resolveReshape(t.shape, s.shape));
          break;
        }
        case 'gemm':
          y = await linearAsync(get(s.input), s.weight, s.bias, layer);
          break;
      }
      values.set(s.output, y);
    }
    return get(this.outputName);
  }

  /** The compiled steps, one line each (e.g. 'conv 3x3/1 groups 2 + residual + relu'), for diagnostics. */
  describe(): string[] {
    return this.#steps.map((s) =>
      s.op === 'conv'
        ? `conv ${s.weight.shape[2]}x${s.weight.shape[3]}/${s.stride[0]} groups ${s.groups}${s.residual ? ' + residual' : ''}${s.relu ? ' + relu' : ''}`
        : s.op,
    );
  }

  /** Releases the prepared conv plans. Idempotent. */
  dispose(): void {
    for (const plans of this.#plans.values()) for (const p of plans) p.dispose();
    this.#plans.clear();
    this.#disposed = true;
  }
}

/** ONNX Reshape's shape with 0 (copy the input's dim) and one -1 (inferred) resolved. */
function resolveReshape(input: readonly number[], shape: readonly number[]): number[] {
  const size = input.reduce((a, b) => a * b, 1);
  const out = shape.map((d, i) => (d === 0 ? input[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const inferred = out.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (inferred.reduce((a, b) => a * b, 1) !== size || inferred.some((d) => !Number.isInteger(d) || d < 0))
    throw invalidValue('Reshape shape', `a shape of ${size} elements for input [${input.join(', ')}]`, [...shape]);
  return inferred;
}

function compile(nodes: OnnxNode[], inits: Map<string, OnnxTensor>, input: string, output: string, source: string): Step[] {
  const consts = new Map<string, OnnxTensor>(inits);
  const alias = new Map<string, string>();
  const name = (v: string): string => alias.get(v) ?? v;
  const floatConst = (v: string, what: string, node: OnnxNode): Tensor => {
    const t = consts.get(name(v));
    if (!t || !(t.data instanceof Float32Array))
      throw unsupported(source, `${node.opType} ${JSON.stringify(node.name)}: its ${what} (${JSON.stringify(v)}) is not a float constant`);
    return hostTensor(t.data, t.dims.length === 0 ? [1] : [...t.dims]);
  };
  const attr = (n: OnnxNode, key: string): OnnxAttribute | undefined => n.attributes.get(key);
  const ints = (n: OnnxNode, key: string, def: number[]): number[] => {
    const a = attr(n, key);
    return a && a.ints.length > 0 ? a.ints : def;
  };
  const int = (n: OnnxNode, key: string, def: number): number => attr(n, key)?.i ?? def;
  const noAutoPad = (n: OnnxNode): void => {
    const a = attr(n, 'auto_pad')?.s;
    if (a !== undefined && a !== 'NOTSET')
      throw unsupported(source, `${n.opType} ${JSON.stringify(n.name)} has auto_pad ${a} (only explicit pads are read)`);
  };
  const steps: Step[] = [];
  for (const n of nodes) {
    const out = n.outputs[0];
    const inp = name(n.inputs[0] ?? '');
    switch (n.opType) {
      case 'Constant': {
        const t = attr(n, 'value')?.t;
        if (!t) throw unsupported(source, `Constant ${JSON.stringify(n.name)} without a tensor value`);
        consts.set(out, t);
        break;
      }
      case 'Identity':
        alias.set(out, inp);
        break;
      case 'Conv': {
        noAutoPad(n);
        const weight = floatConst(n.inputs[1], 'weight', n);
        if (weight.shape.length !== 4) throw unsupported(source, `Conv ${JSON.stringify(n.name)} is not 2-D (weight [${weight.shape}])`);
        const pads = ints(n, 'pads', [0, 0, 0, 0]);
        // ONNX pads are [top, left, bottom, right] for 2-D: our four-sides order.
        steps.push({
          op: 'conv',
          input: inp,
          output: out,
          weight,
          bias: n.inputs[2] ? floatConst(n.inputs[2], 'bias', n) : null,
          stride: ints(n, 'strides', [1, 1]) as [number, number],
          dilation: ints(n, 'dilations', [1, 1]) as [number, number],
          pads: pads as [number, number, number, number],
          groups: int(n, 'group', 1),
          relu: false,
          residual: null,
        });
        break;
      }
      case 'BatchNormalization':
        steps.push({
          op: 'bn',
          input: inp,
          output: out,
          params: {
            weight: floatConst(n.inputs[1], 'scale', n),
            bias: floatConst(n.inputs[2], 'bias', n),
            runningMean: floatConst(n.inputs[3], 'mean', n),
            runningVar: floatConst(n.inputs[4], 'var', n),
            eps: attr(n, 'epsilon')?.f ?? 1e-5,
          },
        });
        break;
      case 'Relu':
        steps.push({ op: 'relu', input: inp, output: out });
        break;
      case 'Add':
        steps.push({ op: 'add', a: inp, b: name(n.inputs[1]), output: out });
        break;
      case 'MaxPool':
      case 'AveragePool': {
        noAutoPad(n);
        if (ints(n, 'dilations', [1, 1]).some((d) => d !== 1))
          throw unsupported(source, `${n.opType} ${JSON.stringify(n.name)} with dilations`);
        if (int(n, 'storage_order', 0) !== 0) throw unsupported(source, `MaxPool ${JSON.stringify(n.name)} with storage_order 1`);
        if (n.outputs.length > 1 && n.outputs[1] !== '')
          throw unsupported(source, `MaxPool ${JSON.stringify(n.name)} with an Indices output`);
        const k = ints(n, 'kernel_shape', []);
        if (k.length !== 2) throw unsupported(source, `${n.opType} ${JSON.stringify(n.name)} is not 2-D`);
        const options: Record<string, unknown> = {
          kernelSize: k,
          stride: ints(n, 'strides', [1, 1]),
          padding: ints(n, 'pads', [0, 0, 0, 0]),
          ceilMode: int(n, 'ceil_mode', 0) === 1,
        };
        if (n.opType === 'AveragePool') options.countIncludePad = int(n, 'count_include_pad', 0) === 1;
        steps.push({ op: n.opType === 'MaxPool' ? 'maxpool' : 'avgpool', input: inp, output: out, options });
        break;
      }
      case 'GlobalAveragePool':
        steps.push({ op: 'gap', input: inp, output: out });
        break;
      case 'Flatten':
        steps.push({ op: 'flatten', input: inp, output: out, axis: int(n, 'axis', 1) });
        break;
      case 'Reshape': {
        const t = consts.get(name(n.inputs[1]));
        if (!t || t.data instanceof Float32Array) throw unsupported(source, `Reshape ${JSON.stringify(n.name)} with a computed shape`);
        steps.push({ op: 'reshape', input: inp, output: out, shape: [...t.data] });
        break;
      }
      case 'Gemm': {
        if (int(n, 'transA', 0) !== 0) throw unsupported(source, `Gemm ${JSON.stringify(n.name)} with transA`);
        const alpha = attr(n, 'alpha')?.f ?? 1,
          beta = attr(n, 'beta')?.f ?? 1;
        const b = floatConst(n.inputs[1], 'B', n);
        if (b.shape.length !== 2) throw unsupported(source, `Gemm ${JSON.stringify(n.name)} with B of shape [${b.shape}]`);
        // Our linear takes weight [out, in] (transB = 1); alpha is folded into it, beta into the bias.
        const [r, c] = b.shape;
        const transB = int(n, 'transB', 0) === 1;
        const w = new Float32Array(r * c);
        const src = b.dataSync();
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) w[transB ? i * c + j : j * r + i] = alpha * src[i * c + j];
        const weight = hostTensor(w, transB ? [r, c] : [c, r]);
        let bias: Tensor | null = null;
        if (n.inputs[2]) {
          const bt = floatConst(n.inputs[2], 'C', n);
          if (bt.size !== weight.shape[0])
            throw unsupported(source, `Gemm ${JSON.stringify(n.name)} with C of shape [${bt.shape}] (a bias per output expected)`);
          bias = hostTensor(
            bt.dataSync().map((v) => v * beta),
            [bt.size],
          );
        }
        steps.push({ op: 'gemm', input: inp, output: out, weight, bias });
        break;
      }
    }
  }
  // Graph outputs resolved through Identity nodes.
  const finalOut = name(output);
  const fused = fuse(steps, input, finalOut, output);
  checkOrder(fused, input, output, source);
  return fused;
}

/** Our fusions over the step list: Conv+BN folding, residual Add into a Conv, ReLU into a Conv. */
function fuse(steps: Step[], input: string, finalOut: string, outputName: string): Step[] {
  const uses = (): Map<string, number> => {
    const m = new Map<string, number>([[finalOut, 1]]);
    const use = (v: string | null): void => {
      if (v) m.set(v, (m.get(v) ?? 0) + 1);
    };
    for (const s of steps) {
      if (s.op === 'add') {
        use(s.a);
        use(s.b);
      } else {
        use(s.input);
        if (s.op === 'conv') use(s.residual);
      }
    }
    return m;
  };
  const producer = (v: string): number => steps.findIndex((s) => s.output === v);
  let u = uses();
  // Conv -> BatchNormalization: fold (w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps)).
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.op !== 'bn') continue;
    const p = producer(s.input);
    const c = p >= 0 ? steps[p] : null;
    if (!c || c.op !== 'conv' || c.relu || c.residual || u.get(c.output) !== 1) continue;
    const { weight: g, bias: beta, runningMean: mean, runningVar: v, eps } = s.params;
    const K = c.weight.shape[0];
    const per = c.weight.size / K;
    const w = c.weight.dataSync().slice(),
      b = new Float32Array(K);
    for (let k = 0; k < K; k++) {
      const sc = g.dataSync()[k] / Math.sqrt(v.dataSync()[k] + eps);
      for (let j = k * per; j < (k + 1) * per; j++) w[j] *= sc;
      b[k] = ((c.bias ? c.bias.dataSync()[k] : 0) - mean.dataSync()[k]) * sc + beta.dataSync()[k];
    }
    steps[p] = { ...c, weight: hostTensor(w, [...c.weight.shape]), bias: hostTensor(b, [K]), output: s.output };
    steps.splice(i--, 1);
  }
  u = uses();
  // Add(conv output, earlier value) -> the conv's residual. The later of the two producers takes it, so
  // the other value exists when the conv runs (torchvision's downsample conv runs after conv3).
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.op !== 'add') continue;
    const cands = [
      [s.a, s.b],
      [s.b, s.a],
    ]
      .map(([x, y]) => ({ x, y, px: producer(x), py: producer(y) }))
      .filter(({ x, px, py, y }) => {
        const c = px >= 0 ? steps[px] : null;
        return c && c.op === 'conv' && !c.relu && !c.residual && u.get(x) === 1 && ((py >= 0 && py < px) || y === input) && x !== y;
      })
      .sort((a, b) => b.px - a.px);
    if (cands.length === 0) continue;
    const { px, y } = cands[0];
    const c = steps[px] as Extract<Step, { op: 'conv' }>;
    steps[px] = { ...c, residual: y, output: s.output };
    steps.splice(i--, 1);
  }
  u = uses();
  // Conv -> Relu: the conv's activation.
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.op !== 'relu') continue;
    const p = producer(s.input);
    const c = p >= 0 ? steps[p] : null;
    if (!c || c.op !== 'conv' || c.relu || u.get(c.output) !== 1) continue;
    steps[p] = { ...c, relu: true, output: s.output };
    steps.splice(i--, 1);
  }
  // The graph's output name may sit behind Identity nodes: name the last producer's output after it.
  if (finalOut !== outputName) for (const s of steps) if (s.output === finalOut) s.output = outputName;
  return steps;
}

/** Every step reads only the graph input or values computed before it; the output is computed. */
function checkOrder(steps: Step[], input: string, output: string, source: string): void {
  const known = new Set([input]);
  for (const s of steps) {
    const reads = s.op === 'add' ? [s.a, s.b] : s.op === 'conv' && s.residual ? [s.input, s.residual] : [s.input];
    for (const r of reads)
      if (!known.has(r))
        throw new ResnextError(
          'ERR_RESNEXT_ONNX',
          `Malformed ONNX file ${source}: ${s.op} reads ${JSON.stringify(r)} before any node computes it`,
        );
    known.add(s.output);
  }
  if (!known.has(output))
    throw new ResnextError('ERR_RESNEXT_ONNX', `Malformed ONNX file ${source}: no node computes the output ${JSON.stringify(output)}`);
}

/** Loads an ONNX model (file path or bytes) for forward() on our backends. */
export function loadOnnx(pathOrBytes: string | Uint8Array): OnnxModel {
  if (typeof pathOrBytes === 'string') return new OnnxModel(fs.readFileSync(pathOrBytes), pathOrBytes);
  if (pathOrBytes instanceof Uint8Array) return new OnnxModel(pathOrBytes);
  throw invalidType('pathOrBytes', 'a file path string or a Uint8Array', pathOrBytes);
}
