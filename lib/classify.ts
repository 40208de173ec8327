// Classification helpers over logits [N, classes] (any rank: the last axis is
// the classes): softmax, top-k, and classify(), which preprocesses one decoded
// image (preprocess.ts), runs the model and names the best classes with
// IMAGENET_CLASSES (for 1000-class models; others get 'class <i>'). The model
// is a ResNeXtModel or an OnnxModel from loadOnnx.

import { invalidType, invalidValue } from './errors';
import { IMAGENET_CLASSES } from './imagenet_classes';
import type { ForwardOptions, ResNeXtModel } from './models/model';
import type { OnnxModel } from './onnx/load';
import { preprocessImage, type PreprocessOptions, type RgbImage } from './preprocess';
import { checkTensor, HostStorage, Tensor } from './tensor';

/** Rows of the last axis: [rows, length]. */
function rows(x: Tensor, param: string): [number, number] {
  if (x.shape.length === 0) throw invalidValue(`${param}.shape`, 'at least one axis', x.shape);
  const len = x.shape[x.shape.length - 1];
  return [len === 0 ? 0 : x.size / len, len];
}

/** Softmax along the last axis (max-subtracted, sums in float64), as a new float32 tensor. */
export function softmax(x: Tensor): Tensor {
  const xt = checkTensor(x, 'x');
  const [R, L] = rows(xt, 'x');
  const d = xt.dataSync();
  const out = new Float32Array(d.length);
  for (let r = 0; r < R; r++) {
    const o = r * L;
    let m = -Infinity;
    for (let i = 0; i < L; i++) m = Math.max(m, d[o + i]);
    let s = 0;
    for (let i = 0; i < L; i++) s += Math.exp(d[o + i] - m);
    for (let i = 0; i < L; i++) out[o + i] = Math.exp(d[o + i] - m) / s;
  }
  return new Tensor(new HostStorage(out), [...xt.shape]);
}

/** The k largest values of each row of the last axis, largest first (ties: lower index first). */
export function topk(x: Tensor, k: number): { values: number[][]; indices: number[][] } {
  const xt = checkTensor(x, 'x');
  const [R, L] = rows(xt, 'x');
  if (typeof k !== 'number') throw invalidType('k', 'a positive integer', k);
  if (!Number.isInteger(k) || k < 1 || k > L) throw invalidValue('k', `an integer in [1, ${L}] (the last axis)`, k);
  const d = xt.dataSync();
  const values: number[][] = [],
    indices: number[][] = [];
  for (let r = 0; r < R; r++) {
    const o = r * L;
    const idx = Array.from({ length: L }, (_, i) => i);
    // NaN sorts first, as the largest (torch.topk's order).
    const key = (i: number): number => (Number.isNaN(d[o + i]) ? Infinity : d[o + i]);
    idx.sort((a, b) => key(b) - key(a) || (Number.isNaN(d[o + b]) ? 1 : 0) - (Number.isNaN(d[o + a]) ? 1 : 0) || a - b);
    const top = idx.slice(0, k);
    indices.push(top);
    values.push(top.map((i) => d[o + i]));
  }
  return { values, indices };
}

export interface ClassifyOptions extends PreprocessOptions {
  /** How many classes to return, most probable first. Default 5. */
  topk?: number;
  /** Forward options (backend, ...; an OnnxModel reads only backend). */
  forward?: ForwardOptions;
  /** Class names, index = logit index. Default IMAGENET_CLASSES for 1000 classes. */
  labels?: readonly string[];
}

export interface Classification {
  label: string;
  index: number;
  probability: number;
}

/** The most probable classes of one decoded image (grayscale, RGB or RGBA bytes), by a model or a loaded ONNX graph. */
export async function classify(model: ResNeXtModel | OnnxModel, image: RgbImage, options: ClassifyOptions = {}): Promise<Classification[]> {
  if (typeof model !== 'object' || model === null || typeof (model as { forward?: unknown }).forward !== 'function')
    throw invalidType('model', 'a ResNeXtModel', model);
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
  const { topk: k = 5, forward, labels, ...pre } = options;
  if (typeof k !== 'number') throw invalidType('topk', 'a positive integer', k);
  if (!Number.isInteger(k) || k < 1) throw invalidValue('topk', 'a positive integer', k);
  const x = preprocessImage(image, pre);
  const logits = await (model as ResNeXtModel).forward(x, forward);
  const n = logits.shape[logits.shape.length - 1];
  const names = labels ?? (n === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : undefined);
  if (names !== undefined && (!Array.isArray(names) || names.length !== n))
    throw invalidValue('labels', `an array of ${n} class names (one per logit)`, names);
  const probs = softmax(logits);
  const best = topk(probs, Math.min(k, n));
  return best.indices[0].map((index, i) => ({ label: names ? names[index] : `class ${index}`, index, probability: best.values[0][i] }));
}
