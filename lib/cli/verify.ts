// `resnext verify`: every available non-reference backend against the float64
// TypeScript reference, on a fixed battery of convolution shapes chosen to hit
// the edge cases kernels get wrong (odd channel counts, groups that do not
// divide 4 or 8, stride, dilation, asymmetric padding, batch > 1, depthwise,
// 1x1, 7x7, fused bias/ReLU/residual, shapes large enough for the CPU's
// Winograd paths) and on each network of the bench suites
// at a small input size. Prints pass/fail per case with the max error; exit 1
// on any failure.

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { BackendName } from '../backends/backend';
import { backends as listBackends } from '../backends/registry';
import type { Conv2dPlanOptions } from '../ops/conv2d';
import { conv2d } from '../ops/conv2d';
import type { ResNeXtModel } from '../models/model';
import { resnext } from '../models/presets';
import { Rng } from '../random';
import type { Padding, Pair } from '../shape';
import { randn, type Tensor } from '../tensor';
import type { VerifyArgs } from './args';
import { maxAbs, maxAbsDiff } from './onnx_compare';
import { type Output, Progress } from './output';
import { type NetworkSpec, TABLE2, TABLE4 } from './suites';

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  groups?: number;
  stride?: Pair;
  dilation?: Pair;
  padding?: Padding;
  bias?: boolean;
  activation?: 'relu';
  residual?: boolean;
}

/** The battery. Names spell out the shape: x NCHW, w KCRS, then the options. */
export const CONV_CASES: ConvCase[] = [
  { name: 'odd channels: x 2x17x11x13, w 9x17x3x3, pad 1', x: [2, 17, 11, 13], w: [9, 17, 3, 3], padding: 1 },
  { name: 'groups 3: x 1x12x9x9, w 6x4x3x3, pad 1', x: [1, 12, 9, 9], w: [6, 4, 3, 3], groups: 3, padding: 1 },
  { name: 'groups 3, odd per group: x 1x21x10x10, w 15x7x3x3', x: [1, 21, 10, 10], w: [15, 7, 3, 3], groups: 3 },
  { name: 'stride 2: x 1x8x15x16, w 16x8x3x3, pad 1', x: [1, 8, 15, 16], w: [16, 8, 3, 3], stride: 2, padding: 1 },
  {
    name: 'stride [2,1]: x 1x8x12x11, w 8x4x3x3, groups 2, pad 1',
    x: [1, 8, 12, 11],
    w: [8, 4, 3, 3],
    groups: 2,
    stride: [2, 1],
    padding: 1,
  },
  { name: 'dilation 2: x 1x8x14x14, w 8x8x3x3, pad 2', x: [1, 8, 14, 14], w: [8, 8, 3, 3], dilation: 2, padding: 2 },
  { name: 'asymmetric padding [0,1,2,0]: x 1x6x10x7, w 4x6x3x2', x: [1, 6, 10, 7], w: [4, 6, 3, 2], padding: [0, 1, 2, 0] },
  { name: 'batch 5: x 5x16x8x8, w 16x4x3x3, groups 4, pad 1', x: [5, 16, 8, 8], w: [16, 4, 3, 3], groups: 4, padding: 1 },
  { name: 'depthwise: x 1x32x12x12, w 32x1x3x3, groups 32, pad 1', x: [1, 32, 12, 12], w: [32, 1, 3, 3], groups: 32, padding: 1 },
  {
    name: 'depthwise stride 2: x 2x24x13x13, w 24x1x3x3, groups 24, pad 1',
    x: [2, 24, 13, 13],
    w: [24, 1, 3, 3],
    groups: 24,
    stride: 2,
    padding: 1,
  },
  { name: '1x1: x 2x64x7x7, w 32x64x1x1', x: [2, 64, 7, 7], w: [32, 64, 1, 1] },
  { name: '1x1 stride 2 (projection): x 1x64x14x14, w 128x64x1x1', x: [1, 64, 14, 14], w: [128, 64, 1, 1], stride: 2 },
  { name: '7x7 stride 2 (stem): x 1x3x32x32, w 16x3x7x7, pad 3', x: [1, 3, 32, 32], w: [16, 3, 7, 7], stride: 2, padding: 3 },
  {
    name: 'ResNeXt 32x4d block conv2: x 1x128x14x14, w 128x4x3x3, groups 32, pad 1, bias + residual + ReLU',
    x: [1, 128, 14, 14],
    w: [128, 4, 3, 3],
    groups: 32,
    padding: 1,
    bias: true,
    activation: 'relu',
    residual: true,
  },
  // The Winograd kernels that decide per input size (plan.info().perRun): large enough to take their transform paths.
  {
    name: 'dense stride 2, 196 tiles (cpu: winograd_s2): x 1x24x56x56, w 32x24x3x3, stride 2, pad 1, bias + ReLU',
    x: [1, 24, 56, 56],
    w: [32, 24, 3, 3],
    stride: 2,
    padding: 1,
    bias: true,
    activation: 'relu',
  },
  {
    name: 'grouped, 16 per group, 14x14 (cpu: F(4x4,3x3) tiles): x 1x64x14x14, w 64x16x3x3, groups 4, pad 1, residual',
    x: [1, 64, 14, 14],
    w: [64, 16, 3, 3],
    groups: 4,
    padding: 1,
    residual: true,
  },
  {
    name: 'grouped, 32 per group, 7x7 (cpu: F(2x2,3x3) tiles): x 2x64x7x7, w 64x32x3x3, groups 2, pad 1',
    x: [2, 64, 7, 7],
    w: [64, 32, 3, 3],
    groups: 2,
    padding: 1,
  },
  {
    name: 'groups 64, 8 per group: x 2x512x7x7, w 512x8x3x3, stride 2, pad 1, bias + ReLU',
    x: [2, 512, 7, 7],
    w: [512, 8, 3, 3],
    groups: 64,
    stride: 2,
    padding: 1,
    bias: true,
    activation: 'relu',
  },
];

/**
 * Random BatchNorm statistics and affine parameters, so BN folding is
 * exercised and the logits have a sensible scale (the default initialisation
 * makes every BN the identity).
 */
export function randomizeBatchNorm(model: ResNeXtModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of model.stateDict()) {
    if (t.shape.length !== 1 || name.startsWith('fc.')) continue;
    const d = t.dataSync();
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    for (let i = 0; i < d.length; i++) {
      if (leaf === 'running_var') d[i] = 0.5 + 1.5 * rng.uniform();
      else if (leaf === 'running_mean') d[i] = 0.1 * rng.normal();
      else if (leaf === 'weight') d[i] = 0.4 + 0.6 * rng.uniform();
      else if (leaf === 'bias') d[i] = 0.1 * rng.normal();
    }
  }
}

/** Conv tolerance: float32 accumulation against float64, scaled by the output's magnitude. */
export const CONV_RTOL = 1e-4;
/** Whole networks: 50+ layers of float32 rounding. */
export const NET_RTOL = 5e-4;

export interface VerifyRow {
  kind: 'conv' | 'network';
  name: string;
  backend: string;
  maxAbsErr: number;
  /** maxAbsErr / max |reference| (the absolute error when the reference is all zeros). */
  relErr: number;
  /** max |reference|, so a reader can judge the scale. */
  refMax: number;
  tolerance: number;
  pass: boolean;
  error?: string;
}

function check(name: string, kind: VerifyRow['kind'], backend: string, got: Float32Array, ref: Float32Array, tol: number): VerifyRow {
  if (got.length !== ref.length) {
    return {
      kind,
      name,
      backend,
      maxAbsErr: NaN,
      relErr: NaN,
      refMax: NaN,
      tolerance: tol,
      pass: false,
      error: `length ${got.length}, reference ${ref.length}`,
    };
  }
  const err = maxAbsDiff(got, ref);
  const refMax = maxAbs(ref);
  const rel = refMax > 0 ? err / refMax : err;
  return { kind, name, backend, maxAbsErr: err, relErr: rel, refMax, tolerance: tol, pass: rel <= tol };
}

function errorRow(name: string, kind: VerifyRow['kind'], backend: string, tol: number, err: unknown): VerifyRow {
  return {
    kind,
    name,
    backend,
    maxAbsErr: NaN,
    relErr: NaN,
    refMax: NaN,
    tolerance: tol,
    pass: false,
    error: err instanceof Error ? err.message.split('\n')[0] : String(err),
  };
}

/** The device a backend computes on, from the registry (tensors are moved there before the call). */
function deviceOf(backend: BackendName): 'cpu' | 'cuda' {
  return (listBackends().find((b) => b.name === backend)?.device ?? 'cpu') as 'cpu' | 'cuda';
}

export async function verifyConvCase(c: ConvCase, backend: BackendName, seed: number): Promise<VerifyRow> {
  try {
    const x = randn(c.x, { seed });
    const w = randn(c.w, { seed: seed + 1, std: 1 / Math.sqrt(c.w[1] * c.w[2] * c.w[3]) });
    const opts: Conv2dPlanOptions = { groups: c.groups, stride: c.stride, dilation: c.dilation, padding: c.padding };
    const bias = c.bias ? randn([c.w[0]], { seed: seed + 2 }) : null;
    if (c.activation) opts.activation = c.activation;
    let residual: Tensor | undefined;
    if (c.residual) {
      const shape = conv2d(x, w, { ...opts, backend: 'reference' }).shape;
      residual = randn([...shape], { seed: seed + 3 });
    }
    const ref = conv2d(x, w, { ...opts, backend: 'reference', ...(bias ? { bias } : {}), ...(residual ? { residual } : {}) }).dataSync();
    const dev = deviceOf(backend);
    const on = (t: Tensor): Tensor => (dev === 'cpu' ? t : t.to(dev));
    // dataSync() of a device tensor is a host copy.
    const got = conv2d(on(x), on(w), {
      ...opts,
      backend,
      ...(bias ? { bias: on(bias) } : {}),
      ...(residual ? { residual: on(residual) } : {}),
    }).dataSync();
    return check(c.name, 'conv', backend, got, ref, CONV_RTOL);
  } catch (err) {
    return errorRow(c.name, 'conv', backend, CONV_RTOL, err);
  }
}

/** The networks verify runs: each distinct network of the Table 2 and Table 4 suites, plus resnext101_32x8d. */
export function verifyNetworks(): NetworkSpec[] {
  const seen = new Set<string>();
  const out: NetworkSpec[] = [];
  const extra: NetworkSpec = { suite: 'preset', label: '32x8d', model: 'resnext101_32x8d', depth: 101, cardinality: 32, width: 8 };
  for (const n of [...TABLE2, ...TABLE4, extra]) {
    const key = `${n.depth}-${n.cardinality}-${n.width}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(n);
    }
  }
  return out;
}

export async function runVerify(args: VerifyArgs, out: Output): Promise<number> {
  const known = listBackends();
  const notes: string[] = [];
  let targets: BackendName[];
  if (args.backends.length > 0) {
    targets = [];
    for (const name of args.backends) {
      const b = known.find((k) => k.name === name);
      if (name === 'reference') notes.push('reference: it is the oracle every backend is compared with, not checked against itself');
      else if (!b || !b.available) notes.push(`${name}: skipped, unavailable (${b?.reason ?? 'not in this build'})`);
      else targets.push(b.name);
    }
  } else {
    targets = known.filter((b) => b.available && b.name !== 'reference').map((b) => b.name);
    for (const b of known) if (!b.available) notes.push(`${b.name}: skipped, unavailable (${b.reason ?? 'no reason given'})`);
  }
  const rows: VerifyRow[] = [];
  // Building and checking a network takes seconds (the reference backend computes in float64): show which.
  const networks = args.convOnly ? [] : verifyNetworks();
  const bar = new Progress(networks.length, out.interactive, undefined, args.quiet ? undefined : (l) => out.stderr(l));
  const print = (r: VerifyRow): void => {
    bar.finish();
    rows.push(r);
    if (args.quiet && r.pass) return;
    const err = r.error
      ? `error: ${r.error}`
      : `max |err| ${r.maxAbsErr.toExponential(2)}, max |ref| ${r.refMax.toPrecision(3)}, relative ${r.relErr.toExponential(2)} (tolerance ${r.tolerance.toExponential(0)})`;
    out.stdout(`${r.pass ? 'PASS' : 'FAIL'}  ${r.backend.padEnd(9)} ${r.kind.padEnd(7)} ${r.name}: ${err}`);
  };
  const skipped: { name: string; backend: string; reason: string }[] = [];
  const skip = (name: string, backend: string, reason: string): void => {
    skipped.push({ name, backend, reason });
    if (!args.quiet) out.stdout(`SKIP  ${backend.padEnd(9)} network ${name}: ${reason}`);
  };
  for (const n of notes) out.stdout(`note: ${n}`);
  if (targets.length === 0) {
    out.stdout(
      args.backends.length > 0
        ? `Nothing to verify: none of the requested backends (${args.backends.join(', ')}) can be checked against the reference here (see resnext info).`
        : 'Nothing to verify: no backend other than the reference is available (see resnext info).',
    );
    return args.backends.length > 0 && !args.backends.every((b) => b === 'reference') ? 1 : 0;
  }
  for (const backend of targets) {
    for (const [i, c] of CONV_CASES.entries()) print(await verifyConvCase(c, backend, 100 + 10 * i));
  }
  if (!args.convOnly) {
    const size = args.size;
    for (const spec of networks) {
      const name = `${spec.model} (${spec.label}) at 1x3x${size}x${size}, random BN statistics`;
      bar.tick(`checking ${spec.model} (${spec.label})`, 0);
      let ref: Float32Array;
      let model;
      try {
        model = resnext({ depth: spec.depth, cardinality: spec.cardinality, width: spec.width, seed: 5 });
        randomizeBatchNorm(model, 6);
        const x = randn([1, 3, size, size], { seed: 9 });
        ref = (await model.forward(x, { backend: 'reference' })).dataSync();
        for (const backend of targets) {
          try {
            const dev = deviceOf(backend);
            const got = (await model.forward(dev === 'cpu' ? x : x.to(dev), { backend })).dataSync();
            print(check(name, 'network', backend, got, ref, NET_RTOL));
          } catch (err) {
            const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
            // A backend that has no whole-network forward yet is not wrong, it is absent: say so, do not fail.
            if (/not implemented/i.test(msg)) skip(name, backend, msg);
            else print(errorRow(name, 'network', backend, NET_RTOL, err));
          }
        }
      } catch (err) {
        for (const backend of targets) print(errorRow(name, 'network', backend, NET_RTOL, err));
      } finally {
        model?.dispose();
        bar.tick(`checked ${spec.model} (${spec.label})`);
      }
    }
    bar.finish();
  }
  const failed = rows.filter((r) => !r.pass);
  out.stdout(
    `${failed.length === 0 ? 'OK' : 'FAILED'}: ${rows.length - failed.length}/${rows.length} cases passed on ${targets.join(', ')}` +
      (skipped.length > 0 ? ` (${skipped.length} skipped: no whole-network forward on that backend yet)` : ''),
  );
  if (args.json) {
    fs.mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
    fs.writeFileSync(args.json, JSON.stringify({ tool: 'resnext verify', backends: targets, notes, rows, skipped }, null, 1) + '\n');
  }
  return failed.length === 0 ? 0 : 1;
}
