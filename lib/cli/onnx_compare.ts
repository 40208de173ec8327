// `bench --compare onnxruntime`: the same network with the same weights on
// onnxruntime-node, in the same process and the same interleaved rounds. The
// ONNX graph comes from the model exporter (lib/onnx/export.ts, built in code
// from stateDict(), no protobuf dependency);
// onnxruntime-node is optional and loaded only here. Before a network is timed
// its logits are checked against ours.

import * as fs from 'node:fs';

import { packageRoot } from '../binding';
import { networkModel } from '../onnx/export';
import type { ResNeXtModel } from '../models/model';
import type { Tensor } from '../tensor';

export interface OrtSession {
  run(x: Tensor): Promise<void>;
  /** max |ORT logits - our logits| on the timing input, checked before timing. */
  maxAbsDiff?: number;
}

export interface OrtRunner {
  version: string;
  /**
   * A session for the model at x's shape; runs it once on x and compares the
   * logits with `ours` (our backend's logits for x), throwing when they disagree.
   */
  prepare(model: ResNeXtModel, x: Tensor, ours: Float32Array): Promise<OrtSession>;
  close(): Promise<void>;
}

/** Opens onnxruntime-node, or returns why the comparison cannot run (a message for the user). */
export async function openOrtRunner(threads: number): Promise<OrtRunner | string> {
  let ort: typeof import('onnxruntime-node');
  let version = 'unknown';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ort = require(require.resolve('onnxruntime-node', { paths: [packageRoot(), process.cwd()] }));
    try {
      version = JSON.parse(
        fs.readFileSync(require.resolve('onnxruntime-node/package.json', { paths: [packageRoot(), process.cwd()] }), 'utf8'),
      ).version;
    } catch {
      // version is informational
    }
  } catch {
    return (
      '--compare onnxruntime needs the optional package onnxruntime-node, which is not installed. Add it with\n' +
      '  npm install onnxruntime-node\n' +
      '(on a machine without access to its GPU binaries host, put onnxruntime-node-install=skip in .npmrc first), then rerun.'
    );
  }
  const sessions: { release(): Promise<void> }[] = [];
  return {
    version,
    async prepare(model, x, ours) {
      if (x.shape[2] !== x.shape[3]) throw new Error(`--compare onnxruntime needs a square input but received ${x.shape.join('x')}`);
      const bytes = networkModel(model, x.shape[0], x.shape[2]);
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
      sessions.push(session);
      const inName = session.inputNames[0];
      const feeds = new Map<Tensor, Record<string, import('onnxruntime-node').Tensor>>();
      const feedFor = (x: Tensor): Record<string, import('onnxruntime-node').Tensor> => {
        let f = feeds.get(x);
        if (!f) {
          f = { [inName]: new ort.Tensor('float32', x.dataSync(), [...x.shape]) };
          feeds.set(x, f);
        }
        return f;
      };
      const first = await session.run(feedFor(x));
      const logits = first[session.outputNames[0]].data as Float32Array;
      if (logits.length !== ours.length) {
        throw new Error(
          `onnxruntime returned ${logits.length} logits for ${model.name} but ours has ${ours.length}: the ONNX graph does not match the model`,
        );
      }
      const diff = maxAbsDiff(logits, ours);
      const scale = Math.max(1, maxAbs(ours));
      if (!(diff <= 1e-3 * scale)) {
        throw new Error(
          `onnxruntime's logits for ${model.name} differ from ours by ${diff.toExponential(2)} (max |logit| ${scale.toFixed(2)}): not timing a different computation`,
        );
      }
      return {
        maxAbsDiff: diff,
        async run(xx) {
          await session.run(feedFor(xx));
        },
      };
    },
    async close() {
      for (const s of sessions) await s.release();
    },
  };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Max |a - b| of two equally long arrays (NaN anywhere gives NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}
