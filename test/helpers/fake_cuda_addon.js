// A CPU stand-in for build*/Release/resnext_cuda.node with the same exports and
// semantics (see lib/cuda_types.ts), loaded through RESNEXT_CUDA_ADDON. It lets
// the TS side of the GPU backends (loader, CudaStorage's NHWC layout and
// reshaped views, dtype rounding, conv2d's plumbing, memory accounting) be
// tested on machines without a GPU. It checks nothing about the CUDA kernels:
// those are covered by test/cuda_emulate.test.ts (CPU emulation) and
// test/cuda.test.ts (on a GPU).
//
// CUDA graphs are emulated faithfully enough to catch capture bugs: between
// beginCapture() and endCapture() every enqueue (conv run, model ops,
// copyFrom) is recorded instead of run, and launch() replays the records on
// the same buffers; uploads, downloads and allocations while capturing throw,
// as they would break a real capture.
'use strict';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function roundBf16(v) {
  f32[0] = v;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000) return f32[0];
  u32[0] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 0) & 0xffff0000;
  return f32[0];
}

function roundF16(v) {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  if (a >= 65520) return Math.sign(v) * Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14;
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const fl = Math.floor(q);
  const d = q - fl;
  const r = d > 0.5 ? fl + 1 : d < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
  return Math.sign(v) * r * ulp;
}

const ROUND = [(v) => Math.fround(v), roundF16, roundBf16];
const mem = { bytesInUse: 0, peakBytes: 0, allocations: 0 };

// The capture in progress (an array of recorded enqueues) or null.
let capture = null;
function enqueue(fn) {
  if (capture) capture.push(fn);
  else fn();
}
function notCapturing(what) {
  if (capture) throw new Error(`${what} while a CUDA graph is being captured (the real addon refuses or breaks the capture)`);
}

function nchwToNhwc(src, [N, C, H, W]) {
  const out = new Float64Array(src.length);
  const HW = H * W;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) out[(n * HW + i) * C + c] = src[(n * C + c) * HW + i];
  return out;
}

function nhwcToNchw(src, [N, C, H, W]) {
  const out = new Float64Array(src.length);
  const HW = H * W;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) out[(n * C + c) * HW + i] = src[(n * HW + i) * C + c];
  return out;
}

class DeviceBuffer {
  constructor(elements, dtype, parent) {
    if (!Number.isInteger(elements) || elements < 0) throw new RangeError(`elements: expected a non-negative integer but received ${elements}`);
    if (![0, 1, 2].includes(dtype)) throw new RangeError(`dtype: expected 0, 1 or 2 but received ${dtype}`);
    this.elements = elements;
    this.dtype = dtype;
    this.bytes = elements * (dtype === 0 ? 4 : 2);
    if (parent !== undefined && parent !== null) {
      if (!(parent instanceof DeviceBuffer)) throw new TypeError('parent: expected a DeviceBuffer');
      if (parent.parent) throw new RangeError('parent: expected an owning DeviceBuffer but received a view');
      if (parent.dtype !== dtype) throw new RangeError("dtype: expected the parent's");
      if (elements > parent.elements) throw new RangeError(`elements: expected at most the parent's ${parent.elements} but received ${elements}`);
      this.parent = parent;
      this.data = parent.live().subarray(0, elements);
      return;
    }
    notCapturing('device allocation');
    this.parent = null;
    this.data = new Float64Array(elements);
    mem.bytesInUse += Math.max(this.bytes, 1);
    mem.allocations++;
    mem.peakBytes = Math.max(mem.peakBytes, mem.bytesInUse);
  }
  live() {
    if (!this.data || (this.parent && !this.parent.data)) throw new TypeError('DeviceBuffer: expected a live buffer but received a disposed one');
    return this.data;
  }
  store(values) {
    const d = this.live();
    const round = ROUND[this.dtype];
    for (let i = 0; i < d.length; i++) d[i] = round(values[i]);
  }
  upload(host, dims) {
    notCapturing('upload');
    if (host.length !== this.elements) throw new RangeError(`data: expected ${this.elements} elements but received ${host.length}`);
    this.store(dims ? nchwToNhwc(host, dims) : host);
  }
  download(dims) {
    notCapturing('download');
    const d = this.live();
    return Float32Array.from(dims ? nhwcToNchw(d, dims) : d);
  }
  downloadAsync(dims) {
    const r = this.download(dims);
    return new Promise((resolve) => setImmediate(() => resolve(r)));
  }
  copyFrom(src, mode, dims) {
    src.live();
    this.live();
    if (mode !== 'convert' && mode !== 'toNhwc' && mode !== 'toNchw') throw new RangeError(`mode: unknown ${mode}`);
    enqueue(() => {
      const s = src.live();
      if (mode === 'convert') this.store(s);
      else if (mode === 'toNhwc') this.store(nchwToNhwc(s, dims));
      else this.store(nhwcToNchw(s, dims));
    });
  }
  dispose() {
    if (!this.data) return;
    this.data = null;
    if (this.parent) return;
    mem.bytesInUse -= Math.max(this.bytes, 1);
    mem.allocations--;
  }
}

class CudaConvPlan {
  constructor(weight, shape, bias, o) {
    this.w = Float64Array.from(weight, ROUND[o.dtype]);
    this.shape = shape;
    this.bias = bias ? Float64Array.from(bias) : null;
    this.o = o;
    this.disposed = false;
    // The same kernel choice as native/cuda/conv_plan_grouped.cc.
    const [K, Cg] = shape;
    const vec4 = Cg % 4 === 0 && (K / o.groups) % 4 === 0;
    const mma = o.dtype !== 0 && Cg % 16 === 0 && (K / o.groups) % 8 === 0 && K / o.groups <= 64;
    // grouped_mma_pipe: the batch >= 8 row, chosen beside the kernel for smaller batches.
    const pipe = o.dtype !== 0 && Cg === K / o.groups && [4, 8, 16, 32, 64].includes(Cg) && o.groups % (64 / Cg) === 0;
    this.batched = null;
    if (o.impl === 'cudnn') {
      if (o.kernel) throw new RangeError('kernel: the cudnn backend chooses its own algorithm');
      this.kernel = 'cudnn';
    } else if (o.kernel === undefined) {
      this.kernel = mma ? 'grouped_mma' : vec4 ? 'grouped_vec4' : 'grouped_direct';
      if (pipe) this.batched = 'grouped_mma_pipe';
    } else if (
      o.kernel === 'grouped_direct' ||
      (o.kernel === 'grouped_vec4' && vec4) ||
      (o.kernel === 'grouped_mma' && mma) ||
      (o.kernel === 'grouped_mma_pipe' && pipe)
    ) {
      this.kernel = o.kernel;
    } else {
      throw new RangeError(`impl: cannot use ${o.kernel} here`);
    }
  }
  run(x, xShape, out, residual) {
    if (this.disposed) throw new TypeError('CudaConvPlan: expected a live plan but received a disposed one');
    const [K, Cg, R, S] = this.shape;
    const { groups: G, stride, dilation, padding, activation, dtype } = this.o;
    const [N, C, H, W] = xShape;
    if (C !== Cg * G) throw new RangeError(`x.shape[1] (channels): expected ${Cg * G} but received ${C}`);
    for (const [b, name] of [[x, 'x'], [out, 'out'], [residual, 'residual']]) {
      if (b && b.dtype !== dtype) throw new RangeError(`${name}: expected the plan's dtype`);
    }
    const P = Math.floor((H + padding[0] + padding[2] - dilation[0] * (R - 1) - 1) / stride[0]) + 1;
    const Q = Math.floor((W + padding[1] + padding[3] - dilation[1] * (S - 1) - 1) / stride[1]) + 1;
    if (x.elements !== N * C * H * W || out.elements !== N * K * P * Q) throw new RangeError('x/out: element counts do not match the shapes');
    x.live();
    out.live();
    if (residual) residual.live();
    enqueue(() => this.compute(x, out, residual, N, C, H, W, P, Q));
  }
  compute(x, out, residual, N, C, H, W, P, Q) {
    const [K, Cg, R, S] = this.shape;
    const { groups: G, stride, dilation, padding, activation } = this.o;
    const xd = x.live();
    const rd = residual ? residual.live() : null;
    const y = new Float64Array(N * P * Q * K);
    const Kg = K / G;
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++)
        for (let q = 0; q < Q; q++)
          for (let k = 0; k < K; k++) {
            const g = Math.floor(k / Kg);
            let acc = 0;
            for (let r = 0; r < R; r++) {
              const h = p * stride[0] - padding[0] + r * dilation[0];
              if (h < 0 || h >= H) continue;
              for (let s = 0; s < S; s++) {
                const w = q * stride[1] - padding[1] + s * dilation[1];
                if (w < 0 || w >= W) continue;
                for (let c = 0; c < Cg; c++) acc += xd[((n * H + h) * W + w) * C + g * Cg + c] * this.w[((k * Cg + c) * R + r) * S + s];
              }
            }
            const o = ((n * P + p) * Q + q) * K + k;
            if (this.bias) acc += this.bias[k];
            if (rd) acc += rd[o];
            if (activation === 'relu' && acc < 0) acc = 0;
            y[o] = acc;
          }
    out.store(y);
  }
  runAsync(x, xShape, out, residual) {
    this.run(x, xShape, out, residual);
    return new Promise((resolve) => setImmediate(resolve));
  }
  info() {
    const batched = this.batched ? `; batch >= 8 runs ${this.batched} (CPU stand-in), smaller batches ${this.kernel}` : '';
    return { impl: this.kernel, detail: `CPU stand-in (test/helpers/fake_cuda_addon.js)${batched}`, dtype: ['float32', 'float16', 'bfloat16'][this.o.dtype], packedBytes: 0 };
  }
  dispose() {
    this.disposed = true;
  }
}

function maxPool2d(x, xShape, out, params) {
  const [N, C, H, W] = xShape;
  const [kh, kw, sh, sw, ph, pw] = params;
  const P = Math.floor((H + 2 * ph - kh) / sh) + 1, Q = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (x.elements !== N * C * H * W) throw new RangeError(`x: expected ${N * C * H * W} elements but received ${x.elements}`);
  if (out.elements !== N * C * P * Q) throw new RangeError(`out: expected ${N * C * P * Q} elements but received ${out.elements}`);
  if (out.dtype !== x.dtype) throw new RangeError("out: expected dtype x's");
  enqueue(() => {
    const xd = x.live();
    const y = new Float64Array(N * P * Q * C);
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++)
        for (let q = 0; q < Q; q++)
          for (let c = 0; c < C; c++) {
            let m = -Infinity;
            for (let r = 0; r < kh; r++)
              for (let s = 0; s < kw; s++) {
                const h = p * sh - ph + r, w = q * sw - pw + s;
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                const v = xd[((n * H + h) * W + w) * C + c];
                if (Number.isNaN(v) || v > m) m = v;
              }
            y[((n * P + p) * Q + q) * C + c] = m;
          }
    out.store(y);
  });
}

function globalAvgPool(x, xShape, out) {
  const [N, C, H, W] = xShape;
  if (x.elements !== N * C * H * W) throw new RangeError(`x: expected ${N * C * H * W} elements but received ${x.elements}`);
  if (out.elements !== N * C) throw new RangeError(`out: expected ${N * C} elements but received ${out.elements}`);
  if (out.dtype !== x.dtype) throw new RangeError("out: expected dtype x's");
  enqueue(() => {
    const xd = x.live();
    const y = new Float64Array(N * C);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) y[n * C + c] += xd[(n * H * W + i) * C + c];
    for (let i = 0; i < y.length; i++) y[i] /= H * W;
    out.store(y);
  });
}

function linear(x, xShape, weight, bias, out, M) {
  const [N, C] = xShape;
  if (x.elements !== N * C) throw new RangeError(`x: expected ${N * C} elements but received ${x.elements}`);
  if (weight.elements !== M * C || weight.dtype !== 0) throw new RangeError(`weight: expected ${M * C} float32 elements`);
  if (bias && (bias.elements !== M || bias.dtype !== 0)) throw new RangeError(`bias: expected ${M} float32 elements`);
  if (out.elements !== N * M) throw new RangeError(`out: expected ${N * M} elements but received ${out.elements}`);
  if (out.dtype !== x.dtype) throw new RangeError("out: expected dtype x's");
  enqueue(() => {
    const xd = x.live(), wd = weight.live(), bd = bias ? bias.live() : null;
    const y = new Float64Array(N * M);
    for (let n = 0; n < N; n++)
      for (let m = 0; m < M; m++) {
        let acc = bd ? bd[m] : 0;
        for (let c = 0; c < C; c++) acc += xd[n * C + c] * wd[m * C + c];
        y[n * M + m] = acc;
      }
    out.store(y);
  });
}

class CudaGraph {
  constructor(steps) {
    this.steps = steps;
  }
  launch() {
    if (!this.steps) throw new TypeError('CudaGraph: expected a live graph but received a disposed one');
    notCapturing('graph launch');
    for (const f of this.steps) f();
  }
  launchAsync() {
    this.launch();
    return new Promise((resolve) => setImmediate(resolve));
  }
  dispose() {
    this.steps = null;
  }
}

module.exports = {
  abiVersion: 2,
  probe: () => ({
    ok: true,
    driverFound: true,
    driverVersion: 13000,
    runtimeVersion: 13000,
    deviceCount: 1,
    devices: [{ name: 'fake (CPU stand-in)', computeCapability: '9.0', multiprocessors: 1, totalMemory: 0 }],
    cudnn: process.env.FAKE_CUDNN === '1' ? { compiled: true, loaded: true, version: 92400 } : { compiled: false, loaded: false, reason: 'cuDNN not found when the addon was built (fake addon)' },
  }),
  memory: () => ({ ...mem }),
  resetPeakMemory: () => {
    mem.peakBytes = mem.bytesInUse;
  },
  synchronize: () => {},
  synchronizeAsync: () => new Promise((resolve) => setImmediate(resolve)),
  DeviceBuffer,
  CudaConvPlan,
  maxPool2d,
  globalAvgPool,
  linear,
  CudaGraph,
  beginCapture: () => {
    if (capture) throw new Error('a CUDA graph capture is already in progress');
    capture = [];
  },
  endCapture: () => {
    if (!capture) throw new Error('no CUDA graph capture is in progress');
    const g = new CudaGraph(capture);
    capture = null;
    return g;
  },
  /** Test hook: how many enqueues the last graph recorded (not part of the real addon). */
  graphSteps: (g) => (g.steps ? g.steps.length : 0),
};
