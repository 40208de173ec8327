// Image preprocessing for ImageNet models, on images already decoded to RGB:
// resize so the shorter side is `resize` (256), center-crop `crop` x `crop`
// (224), scale to [0, 1] and normalise with the ImageNet mean and std, as
// torchvision's classification presets do.
//
// Input layout: HWC, row-major, interleaved 8-bit channels, i.e. byte
// (y * width + x) * channels + c, with channels 1 (grayscale, read as R = G =
// B, as PIL's convert('RGB') does), 3 (RGB) or 4 (RGBA; alpha is ignored),
// given by `channels` or inferred from the length. Output: a float32 tensor [1, 3, crop,
// crop] (NCHW, RGB order) ready for model.forward(); preprocessBatch stacks
// several images into [N, 3, crop, crop].
//
// Resampling is separable bilinear with antialiasing (a triangle filter
// widened by the scale factor when shrinking, as PIL and torchvision's
// antialias=True do), computed in float32 without intermediate rounding to
// 8 bits (PIL rounds between passes, so results may differ from PIL by about
// one 8-bit level). Only the rows and columns inside the crop are computed.

import { invalidType, invalidValue } from './errors';
import { HostStorage, Tensor } from './tensor';

export interface PreprocessOptions {
  /** Shorter side after resizing. Default 256. */
  resize?: number;
  /** Side of the center crop. Default 224. */
  crop?: number;
  /** Per-channel mean of [0, 1] values. Default ImageNet [0.485, 0.456, 0.406]. */
  mean?: readonly [number, number, number];
  /** Per-channel std. Default ImageNet [0.229, 0.224, 0.225]. */
  std?: readonly [number, number, number];
}

export interface RgbImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA). Default: inferred from data.length. */
  channels?: 1 | 3 | 4;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Python's round(): halves to even, which torchvision's center_crop uses for the offset. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Filter taps for output indices [o0, o0 + n) of a resize from inSize to outSize. */
function taps(inSize: number, outSize: number, o0: number, n: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n),
    count = new Int32Array(n),
    weights = new Float32Array(n * maxTaps);
  for (let i = 0; i < n; i++) {
    const center = (o0 + i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let sum = 0;
    const w: number[] = [];
    for (let j = lo; j < hi; j++) {
      const t = Math.max(0, 1 - Math.abs((j + 0.5 - center) / support));
      w.push(t);
      sum += t;
    }
    start[i] = lo;
    count[i] = w.length;
    for (let k = 0; k < w.length; k++) weights[i * maxTaps + k] = sum > 0 ? w[k] / sum : 0;
  }
  return { start, count, weights, maxTaps };
}

function checkOptions(options: unknown): Required<PreprocessOptions> {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
  const o = options as PreprocessOptions;
  const resize = o.resize ?? 256,
    crop = o.crop ?? 224;
  for (const [k, v] of [
    ['resize', resize],
    ['crop', crop],
  ] as const) {
    if (typeof v !== 'number') throw invalidType(k, 'a positive integer', v);
    if (!Number.isInteger(v) || v < 1 || v > 65536) throw invalidValue(k, 'an integer in [1, 65536]', v);
  }
  if (crop > resize) throw invalidValue('crop', `at most resize (${resize})`, crop);
  const mean = o.mean ?? IMAGENET_MEAN,
    std = o.std ?? IMAGENET_STD;
  for (const [k, v] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      throw invalidValue(k, 'three finite numbers', v);
  }
  if (std.some((s) => s === 0)) throw invalidValue('std', 'three non-zero numbers', std);
  return { resize, crop, mean, std };
}

function preprocessInto(img: RgbImage, o: Required<PreprocessOptions>, out: Float32Array, offset: number, param: string): void {
  if (typeof img !== 'object' || img === null) throw invalidType(param, 'an image { data, width, height }', img);
  const { data, width: W, height: H } = img;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray))
    throw invalidType(`${param}.data`, 'a Uint8Array or Uint8ClampedArray (grayscale, RGB or RGBA bytes)', data);
  for (const [k, v] of [
    ['width', W],
    ['height', H],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidValue(`${param}.${k}`, 'a positive integer', v);
  }
  const given = img.channels;
  if (given !== undefined && given !== 1 && given !== 3 && given !== 4) throw invalidValue(`${param}.channels`, '1, 3 or 4', given);
  const channels = given ?? (data.length === W * H * 3 ? 3 : data.length === W * H * 4 ? 4 : data.length === W * H ? 1 : 0);
  if (channels === 0 || data.length !== W * H * channels)
    throw invalidValue(
      `${param}.data`,
      given !== undefined
        ? `${W * H * given} bytes for ${W}x${H} with ${given} channel${given > 1 ? 's' : ''}`
        : `${W * H} (grayscale), ${W * H * 3} (RGB) or ${W * H * 4} (RGBA) bytes for ${W}x${H}`,
      data,
    );
  // Grayscale reads its one byte for all three channels.
  const g = channels === 1 ? 0 : 1,
    b2 = channels === 1 ? 0 : 2;
  // torchvision Resize(int): the shorter side becomes `resize`, the other int(resize * long / short).
  const [RH, RW] = H <= W ? [o.resize, Math.floor((o.resize * W) / H)] : [Math.floor((o.resize * H) / W), o.resize];
  if (RH < o.crop || RW < o.crop)
    throw invalidValue(`${param}`, `an image whose resized size ${RW}x${RH} holds the ${o.crop}x${o.crop} crop`, `${W}x${H}`);
  const top = roundHalfEven((RH - o.crop) / 2),
    left = roundHalfEven((RW - o.crop) / 2);
  const C = o.crop;
  const tx = taps(W, RW, left, C),
    ty = taps(H, RH, top, C);
  // Horizontal pass over the source rows the vertical taps read.
  const r0 = ty.start[0],
    r1 = ty.start[C - 1] + ty.count[C - 1];
  const tmp = new Float32Array((r1 - r0) * C * 3);
  for (let y = r0; y < r1; y++) {
    const row = y * W * channels;
    for (let x = 0; x < C; x++) {
      let a = 0,
        b = 0,
        c = 0;
      const s = tx.start[x],
        base = x * tx.maxTaps;
      for (let k = 0; k < tx.count[x]; k++) {
        const w = tx.weights[base + k],
          p = row + (s + k) * channels;
        a += w * data[p];
        b += w * data[p + g];
        c += w * data[p + b2];
      }
      const t = ((y - r0) * C + x) * 3;
      tmp[t] = a;
      tmp[t + 1] = b;
      tmp[t + 2] = c;
    }
  }
  const scale = [1 / (255 * o.std[0]), 1 / (255 * o.std[1]), 1 / (255 * o.std[2])];
  const shift = [o.mean[0] / o.std[0], o.mean[1] / o.std[1], o.mean[2] / o.std[2]];
  for (let y = 0; y < C; y++) {
    const s = ty.start[y],
      base = y * ty.maxTaps;
    for (let x = 0; x < C; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let v = 0;
        for (let k = 0; k < ty.count[y]; k++) v += ty.weights[base + k] * tmp[((s + k - r0) * C + x) * 3 + ch];
        out[offset + (ch * C + y) * C + x] = v * scale[ch] - shift[ch];
      }
    }
  }
}

/** One decoded grayscale, RGB or RGBA image (HWC bytes) to a normalised NCHW tensor [1, 3, crop, crop]. */
export function preprocessImage(image: RgbImage, options?: PreprocessOptions): Tensor {
  const o = checkOptions(options);
  const out = new Float32Array(3 * o.crop * o.crop);
  preprocessInto(image, o, out, 0, 'image');
  return new Tensor(new HostStorage(out), [1, 3, o.crop, o.crop]);
}

/** Several decoded images (any sizes) to one batch [N, 3, crop, crop]. */
export function preprocessBatch(images: readonly RgbImage[], options?: PreprocessOptions): Tensor {
  if (!Array.isArray(images) || images.length === 0) throw invalidValue('images', 'a non-empty array of images', images);
  const o = checkOptions(options);
  const per = 3 * o.crop * o.crop;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => preprocessInto(img, o, out, i * per, `images[${i}]`));
  return new Tensor(new HostStorage(out), [images.length, 3, o.crop, o.crop]);
}
