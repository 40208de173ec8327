// `resnext bench`: builds the suite's networks once per backend, warms each
// configuration up, then times them in interleaved rounds (every round runs
// every configuration once, starting one later each round) so that noise from
// other processes spreads over all rows instead of biasing some. Reports
// params and MACs from the models' own counts, latency percentiles, throughput,
// GFLOP/s against the measured FMA peak, and time relative to the baseline.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { BackendName } from '../backends/backend';
import { backends as listBackends } from '../backends/registry';
import { allConvs, type ConvDef } from '../models/architecture';
import type { ResNeXtModel } from '../models/model';
import { resnext } from '../models/presets';
import { conv2dPlan } from '../ops/conv2d';
import { randn, type Tensor, zeros } from '../tensor';
import { cpuInfo, getNumThreads, setNumThreads } from '../threads';
import type { BenchArgs } from './args';
import { renderReport } from './format';
import { machineInfo } from './machine';
import { openOrtRunner, type OrtRunner } from './onnx_compare';
import { type Output, Progress } from './output';
import { measurePeak, type Peak } from './peak';
import type { BenchResult, LayerRow, NetworkRow } from './results';
import { roundOrder, summarize } from './stats';
import { LAYER_MODELS, type NetworkSpec, networkSuites } from './suites';
import { chartsFromResult, renderSvgPanels } from './svg';

/** One thing timed per round: a network forward, or one conv of the layers suite. */
interface Config {
  label: string;
  /** 'resnext' or 'onnxruntime': rounds keep each runtime's configurations together. */
  runtime: string;
  run: () => Promise<void> | void;
  samples: number[];
  warmupMs: number[];
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Candidate backends: the named ones that are available (others skipped with
 * a note), else every available backend, best first (runBench keeps the first
 * that can run the networks).
 */
export function chooseBackends(requested: readonly string[], notes: string[]): { names: BackendName[]; pickBest: boolean } {
  const known = listBackends();
  if (requested.length === 0) {
    const names = known
      .filter((b) => b.available)
      .sort((a, b) => b.priority - a.priority)
      .map((b) => b.name);
    if (names.length === 0) throw new Error('No backend is available (see resnext info)');
    return { names, pickBest: true };
  }
  const out: BackendName[] = [];
  for (const name of requested) {
    const b = known.find((k) => k.name === name);
    if (!b) notes.push(`backend ${name} skipped: this build does not know it`);
    else if (!b.available) notes.push(`backend ${name} skipped: ${b.reason ?? 'unavailable'}`);
    else out.push(b.name);
  }
  if (out.length === 0) {
    throw new Error(`None of the requested backends is available: ${notes.join('; ')}. Run 'resnext info' to see why.`);
  }
  return { names: out, pickBest: false };
}

/** The device a backend computes on ('cpu' or 'cuda'), from the registry. */
function deviceOf(backend: BackendName): 'cpu' | 'cuda' {
  return (listBackends().find((b) => b.name === backend)?.device ?? 'cpu') as 'cpu' | 'cuda';
}

/** Untimed pause between runtimes (onnxruntime's workers spin about 40 ms after a run). */
const SETTLE_MS = 60;

function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The order of one round when several runtimes are timed: each runtime's
 * configurations together (so a runtime switches, and pays a settle pause,
 * only once per round), runtimes alternating which goes first, and each
 * runtime's configurations rotated as in roundOrder(). With one runtime this
 * is roundOrder().
 */
export function compareRoundOrder(runtimes: readonly string[], round: number): number[] {
  const names = [...new Set(runtimes)];
  const groups = names.map((n) => runtimes.map((r, i) => (r === n ? i : -1)).filter((i) => i >= 0));
  const out: number[] = [];
  for (let g = 0; g < groups.length; g++) {
    const group = groups[(g + round) % groups.length];
    for (const k of roundOrder(group.length, round)) out.push(group[k]);
  }
  return out;
}

/** Timed rounds from the warm-up estimate: as many as fit the budget, at least 5, at most 50. */
export function chooseRuns(estimatesMs: readonly number[], budgetS: number): { runs: number; why: string } {
  const per = estimatesMs.reduce((a, b) => a + b, 0);
  if (!(per > 0)) return { runs: 5, why: 'no warm-up to estimate from: the minimum of 5' };
  const fit = Math.floor((budgetS * 1000) / per);
  const runs = Math.max(5, Math.min(50, fit));
  return { runs, why: `chosen to fit a ${budgetS} s budget at ${per.toFixed(0)} ms per round, within [5, 50]` };
}

function buildModel(spec: { depth: NetworkSpec['depth']; cardinality: number; width: number }, seed: number): ResNeXtModel {
  return resnext({ depth: spec.depth, cardinality: spec.cardinality, width: spec.width, seed });
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

export async function runBench(args: BenchArgs, out: Output): Promise<number> {
  const t0 = nowMs();
  const loadStart = os.loadavg()[0];
  const notes: string[] = [];
  const info = (line: string): void => {
    if (!args.quiet) out.stderr(line);
  };
  const chosenBackends = chooseBackends(args.backends, notes);
  let backendNames = chosenBackends.names;
  if (args.threads !== undefined) setNumThreads(args.threads);
  const threads = getNumThreads();
  const refOnly = chosenBackends.pickBest ? backendNames[0] === 'reference' : backendNames.includes('reference');
  const size = args.size ?? (args.suite === 'tiny' ? 32 : refOnly ? 64 : 224);
  if (args.size === undefined && size !== 224)
    notes.push(
      `input size ${size}x${size} chosen (${args.suite === 'tiny' ? 'the tiny suite is CIFAR-sized' : 'the reference backend is too slow for 224x224'}); set it with --size`,
    );

  let ort: OrtRunner | null = null;
  if (args.compare.includes('onnxruntime')) {
    const r = await openOrtRunner(threads);
    if (typeof r === 'string') throw new Error(r);
    ort = r;
  }

  const tPeak = nowMs();
  const ci = cpuInfo();
  const cpuIsa = ci ? ci.cap : null;
  let peak: Peak;
  if (args.peak !== undefined) {
    peak = { gflops: args.peak, isa: cpuIsa, threads, source: 'given with --peak', entries: [] };
  } else {
    peak = measurePeak(cpuIsa, threads, info, args.remeasurePeak);
  }

  const tBuild = nowMs();
  const specs = networkSuites(args.suite);
  const configs: Config[] = [];
  const netMeta: { spec: NetworkSpec; backend: string; batch: number; model: ResNeXtModel; cfg: Config }[] = [];
  const layerMeta: {
    model: string;
    backend: string;
    batch: number;
    conv: ConvDef;
    macs: number;
    inShape: number[];
    outShape: number[];
    cfg: Config;
  }[] = [];
  const layerNet: { model: string; backend: string; batch: number; cfg: Config }[] = [];
  const models: ResNeXtModel[] = [];
  const inputs = new Map<string, Tensor>();
  const inputFor = (batch: number, device: 'cpu' | 'cuda' = 'cpu'): Tensor => {
    let x = inputs.get(`${batch}|${device}`);
    if (!x) {
      const host = randn([batch, 3, size, size], { seed: args.seed + 1000 + batch });
      x = device === 'cpu' ? host : host.to(device);
      inputs.set(`${batch}|${device}`, x);
    }
    return x;
  };
  // A backend can be available for convolutions yet unable to run a whole
  // network (no forward on its device yet): try each candidate once on the
  // first network and keep those that work (only the best one by default).
  // --algorithm applies to the host backends (cuda is always direct; cudnn picks its own).
  const fwdOptions = (backend: BackendName) => (deviceOf(backend) === 'cpu' ? { backend, algorithm: args.algorithm } : { backend });
  let probed = false;
  const probe = async (model: ResNeXtModel): Promise<void> => {
    if (probed) return;
    probed = true;
    const works: BackendName[] = [];
    for (const backend of backendNames) {
      if (chosenBackends.pickBest && works.length > 0) break;
      try {
        await model.forward(inputFor(args.batches[0], deviceOf(backend)), fwdOptions(backend));
        works.push(backend);
      } catch (err) {
        notes.push(
          `backend ${backend} skipped: it cannot run ${model.name} (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
        );
      }
    }
    if (works.length === 0) throw new Error(`No backend could run ${model.name}: ${notes.join('; ')}`);
    backendNames = works;
  };

  // One prepared model per backend. A model keeps one prepared GPU engine, so
  // a second GPU backend gets its own copy (same seed, same weights) and
  // interleaved rounds never re-prepare.
  const modelsPerBackend = (
    base: ResNeXtModel,
    spec: Parameters<typeof buildModel>[0],
  ): { backend: BackendName; model: ResNeXtModel }[] => {
    let gpuModels = 0;
    return backendNames.map((backend) => {
      let m = base;
      if (deviceOf(backend) !== 'cpu' && gpuModels++ > 0) {
        m = buildModel(spec, args.seed);
        models.push(m);
      }
      if (backend !== 'reference') m.prepare(deviceOf(backend) === 'cpu' ? { backend, algorithm: args.algorithm } : { backend });
      return { backend, model: m };
    });
  };
  // A timed whole-network forward; a device result may still be computing, so reading it waits for the GPU.
  const forwardConfig = (label: string, m: ResNeXtModel, x: Tensor, backend: BackendName): Config => ({
    label,
    runtime: 'resnext',
    run: async () => {
      const y = await m.forward(x, fwdOptions(backend));
      if (y.device !== 'cpu') await y.data();
    },
    samples: [],
    warmupMs: [],
  });

  const buildTotal = specs.length + (args.suite === 'layers' || args.suite === 'all' ? 1 : 0);
  const buildBar = new Progress(buildTotal, out.interactive, undefined, args.quiet ? undefined : (l) => out.stderr(l));
  info(`building ${buildTotal} network${buildTotal === 1 ? '' : 's'} (random weights, seed ${args.seed}) ...`);
  for (const spec of specs) {
    buildBar.tick(`building ${spec.label}`, 0);
    const model = buildModel(spec, args.seed);
    models.push(model);
    await probe(model);
    for (const { backend, model: m } of modelsPerBackend(model, spec)) {
      for (const batch of args.batches) {
        const cfg = forwardConfig(`${spec.label} ${backend} b${batch}`, m, inputFor(batch, deviceOf(backend)), backend);
        configs.push(cfg);
        netMeta.push({ spec, backend, batch, model: m, cfg });
      }
    }
    if (ort) {
      for (const batch of args.batches) {
        const x = inputFor(batch);
        const ours = (await model.forward(inputFor(batch, deviceOf(backendNames[0])), fwdOptions(backendNames[0]))).dataSync();
        const session = await ort.prepare(model, x, ours);
        const cfg: Config = {
          label: `${spec.label} onnxruntime b${batch}`,
          runtime: 'onnxruntime',
          run: () => session.run(x),
          samples: [],
          warmupMs: [],
        };
        configs.push(cfg);
        netMeta.push({ spec, backend: 'onnxruntime', batch, model, cfg });
        if (session.maxAbsDiff !== undefined) {
          notes.push(
            `${spec.label} batch ${batch}: onnxruntime's logits agree with ${backendNames[0]}'s to max |diff| ${session.maxAbsDiff.toExponential(2)} (checked before timing)`,
          );
        }
      }
    }
    buildBar.tick(`built ${spec.label}`);
  }

  if (args.suite === 'layers' || args.suite === 'all') {
    const preset = LAYER_MODELS[args.model];
    if (!preset)
      throw new Error(`Expected one of ${Object.keys(LAYER_MODELS).join(', ')} for --model but received ${JSON.stringify(args.model)}`);
    const model = buildModel(preset, args.seed);
    models.push(model);
    await probe(model);
    const state = model.stateDict();
    const convs = new Map(allConvs(model.architecture).map((c) => [c.name, c]));
    for (const { backend, model: m } of modelsPerBackend(model, preset)) {
      for (const batch of args.batches) {
        const x = inputFor(batch, deviceOf(backend));
        const netCfg = forwardConfig(`${model.name} ${backend} b${batch}`, m, x, backend);
        configs.push(netCfg);
        layerNet.push({ model: model.name, backend, batch, cfg: netCfg });
        for (const l of model.layers([batch, 3, size, size])) {
          if (l.op !== 'conv') continue;
          const c = convs.get(l.name)!;
          const dev = deviceOf(backend);
          const bias = randn([c.outC], { seed: 7 });
          const weight = state.get(`${c.name}.weight`)!;
          const plan = conv2dPlan(dev === 'cpu' ? weight : weight.to(dev), {
            groups: c.groups,
            stride: c.stride,
            padding: c.padding,
            bias: dev === 'cpu' ? bias : bias.to(dev),
            activation: 'relu',
            backend,
            ...(dev === 'cpu' ? { algorithm: args.algorithm } : {}),
          });
          const hostIn = randn(l.inputShape as [number, number, number, number], { seed: 11 });
          const xin = dev === 'cpu' ? hostIn : hostIn.to(dev);
          const hostOut = zeros(l.outputShape as [number, number, number, number]);
          const o = dev === 'cpu' ? hostOut : hostOut.to(dev);
          // Host backends: the synchronous call is the kernel's time. Device backends
          // only enqueue in run(); runAsync() resolves when the GPU has finished.
          const run = dev === 'cpu' ? () => void plan.run(xin, { out: o }) : async () => void (await plan.runAsync(xin, { out: o }));
          const cfg: Config = { label: `${l.name} ${backend} b${batch}`, runtime: 'resnext', run, samples: [], warmupMs: [] };
          configs.push(cfg);
          layerMeta.push({ model: model.name, backend, batch, conv: c, macs: l.macs, inShape: l.inputShape, outShape: l.outputShape, cfg });
        }
      }
    }
    buildBar.tick(`built ${model.name}`);
  }
  buildBar.finish();

  const tWarm = nowMs();
  // Warm-up: first runs pay for packing, buffer allocation and page faults.
  const warmBar = new Progress(configs.length * args.warmup, out.interactive);
  if (args.warmup > 0) info(`warming up ${configs.length} configurations (${args.warmup} run${args.warmup === 1 ? '' : 's'} each) ...`);
  for (const c of configs) {
    for (let i = 0; i < args.warmup; i++) {
      const s = nowMs();
      await c.run();
      c.warmupMs.push(nowMs() - s);
      warmBar.tick(`warm-up ${c.label}`);
    }
  }
  warmBar.finish();

  const tTimed = nowMs();
  const chosen =
    args.runs !== undefined
      ? { runs: args.runs, why: 'given with --runs' }
      : chooseRuns(
          configs.map((c) => c.warmupMs.at(-1) ?? 0),
          args.budget,
        );
  info(`timing ${configs.length} configurations x ${chosen.runs} interleaved rounds (${chosen.why}) ...`);
  const bar = new Progress(configs.length * chosen.runs, out.interactive);
  let roundsDone = 0;
  for (let r = 0; r < chosen.runs; r++) {
    // An automatic run count was sized from the warm-up; if the machine slows
    // down meanwhile, stop at a round boundary (every configuration equally
    // often) once twice the budget is spent, rather than run on for minutes.
    if (args.runs === undefined && r >= 5 && nowMs() - tTimed > 2000 * args.budget) {
      notes.push(
        `timing stopped after ${r} of ${chosen.runs} rounds: the rounds took longer than at warm-up (twice the ${args.budget} s budget was spent)`,
      );
      chosen.why += `; stopped after ${r} rounds, twice the budget spent`;
      break;
    }
    let last = '';
    for (const i of compareRoundOrder(
      configs.map((c) => c.runtime),
      r,
    )) {
      const c = configs[i];
      // onnxruntime's intra-op workers keep spinning for tens of ms after a run
      // and would take a core from the next runtime's run: let them settle first.
      if (last !== '' && c.runtime !== last) await settle(SETTLE_MS);
      last = c.runtime;
      const s = nowMs();
      await c.run();
      c.samples.push(nowMs() - s);
    }
    bar.tick(`round ${r + 1}/${chosen.runs}`, configs.length);
    roundsDone = r + 1;
  }
  bar.finish();
  chosen.runs = roundsDone;
  const tEnd = nowMs();

  const pct = (gflops: number, backend: string): number | null =>
    peak.gflops !== null && (backend === 'onnxruntime' || deviceOf(backend as BackendName) === 'cpu') ? (100 * gflops) / peak.gflops : null;

  const networks: NetworkRow[] = netMeta.map((m) => {
    const stats = summarize(m.cfg.samples, args.maxSpread);
    const macs = m.model.macs([m.batch, 3, size, size]);
    const gflops = (2 * macs) / (stats.median * 1e6);
    return {
      suite: m.spec.suite,
      label: m.spec.label,
      model: m.model.name,
      depth: m.spec.depth,
      cardinality: m.spec.cardinality,
      width: m.spec.width,
      backend: m.backend,
      batch: m.batch,
      size,
      params: m.model.numParams(),
      macs,
      samples: m.cfg.samples,
      warmupSamples: m.cfg.warmupMs,
      stats,
      imagesPerSecond: (m.batch * 1000) / stats.median,
      gflops,
      pctPeak: pct(gflops, m.backend),
      relTime: NaN,
      macRatio: NaN,
      ...(m.spec.note ? { note: m.spec.note } : {}),
    };
  });
  for (const r of networks) {
    const base = networks.find((b) => b.suite === r.suite && b.backend === r.backend && b.batch === r.batch);
    if (base) {
      r.relTime = r.stats.median / base.stats.median;
      r.macRatio = r.macs / base.macs;
    }
    if (r.backend === 'onnxruntime') {
      const ours = networks.find((b) => b.suite === r.suite && b.label === r.label && b.batch === r.batch && b.backend !== 'onnxruntime');
      if (ours) r.vsOurs = r.stats.median / ours.stats.median;
    }
  }
  for (const spec of specs) if (spec.note) notes.push(`${spec.model} (${spec.label}, ${spec.suite}): ${spec.note}`);

  const layers: LayerRow[] = layerMeta.map((m) => {
    const stats = summarize(m.cfg.samples, args.maxSpread);
    const gflops = (2 * m.macs) / (stats.median * 1e6);
    return {
      model: m.model,
      backend: m.backend,
      batch: m.batch,
      name: m.conv.name,
      inputShape: m.inShape,
      outputShape: m.outShape,
      kernel: m.conv.kernel,
      stride: m.conv.stride,
      groups: m.conv.groups,
      macs: m.macs,
      samples: m.cfg.samples,
      warmupSamples: m.cfg.warmupMs,
      stats,
      gflops,
      pctPeak: pct(gflops, m.backend),
      share: NaN,
    };
  });
  const layerTotals = layerNet.map((n) => {
    const mine = layers.filter((l) => l.model === n.model && l.backend === n.backend && l.batch === n.batch);
    const convSumMs = mine.reduce((a, l) => a + l.stats.median, 0);
    for (const l of mine) l.share = l.stats.median / convSumMs;
    return { model: n.model, backend: n.backend, batch: n.batch, networkMs: summarize(n.cfg.samples).median, convSumMs };
  });

  // A cached peak that a row beats was likely measured on a busy machine (a
  // cache entry lives a day): measure once more now (the best is kept) and
  // recompute the percentages, instead of reporting rows at several times the peak.
  const beatsPeak = (): boolean => [...networks, ...layers].some((r) => r.pctPeak !== null && r.pctPeak > 100);
  if (peak.cached && beatsPeak()) {
    peak = measurePeak(cpuIsa, threads, info, true);
    for (const r of [...networks, ...layers]) r.pctPeak = pct(r.gflops, r.backend);
  }
  const overPeak = [...networks, ...layers].filter((r) => r.pctPeak !== null && r.pctPeak > 100).length;
  if (overPeak > 0) {
    notes.push(
      `${overPeak} row${overPeak === 1 ? '' : 's'} above 100% of the peak: the peak (${peak.gflops?.toFixed(0)} GFLOP/s) was measured while the machine was busy, so "% peak" is not meaningful here; ` +
        "measure again on an idle machine with '--peak measure' (the best measurement is kept) or give it with '--peak GFLOPS'",
    );
  }
  const noisy = [...networks, ...layers].filter((r) => r.stats.noisy).length;
  if (noisy > 0)
    notes.push(
      `${noisy} row${noisy === 1 ? '' : 's'} flagged noisy (spread above ${(args.maxSpread * 100).toFixed(0)}%): other processes were likely competing for the CPU; rerun with more --runs or on an idle machine`,
    );
  if (ort)
    notes.push(
      `onnxruntime rows: onnxruntime-node ${ort.version} on the same weights (ONNX graph encoded from stateDict() by model.toOnnx(), BatchNormalization nodes that ORT folds itself), ${threads} intra-op thread${threads === 1 ? '' : 's'}, graphOptimizationLevel all; 'time / base' is against ORT's own baseline row; 'ORT / ours' is ORT's median over ours (above 1: ours is faster)`,
    );

  const result: BenchResult = {
    tool: 'resnext bench',
    command: ['resnext', 'bench', ...process.argv.slice(3)].join(' '),
    machine: machineInfo(),
    settings: {
      suite: args.suite,
      backends: [...backendNames, ...(ort ? ['onnxruntime'] : [])],
      batches: args.batches,
      size,
      runs: chosen.runs,
      runsChosen: chosen.why,
      warmup: args.warmup,
      algorithm: args.algorithm,
      threads,
      maxSpread: args.maxSpread,
      seed: args.seed,
      interleaving: ort
        ? `each round times every configuration once: ours and onnxruntime's as two blocks (alternating which goes first, ${SETTLE_MS} ms untimed pause between them so ORT's spinning workers settle), each block starting one configuration later than the previous round`
        : 'each round times every configuration once, starting one configuration later than the previous round',
    },
    peak,
    networks,
    layers,
    layerTotals,
    notes,
    wallSeconds: (nowMs() - t0) / 1000,
    phases: {
      peak: (tBuild - tPeak) / 1000,
      build: (tWarm - tBuild) / 1000,
      warmup: (tTimed - tWarm) / 1000,
      timed: (tEnd - tTimed) / 1000,
    },
    loadAverage: { start: loadStart, end: os.loadavg()[0] },
  };

  out.stdout(renderReport(result, 'text', { wide: args.wide }));
  if (args.json) writeFile(args.json, JSON.stringify(result, null, 1) + '\n');
  if (args.markdown) writeFile(args.markdown, renderReport(result, 'markdown'));
  if (args.svg) writeFile(args.svg, renderSvgPanels(chartsFromResult(result)));
  for (const [k, f] of [
    ['JSON', args.json],
    ['Markdown', args.markdown],
    ['SVG', args.svg],
  ] as const)
    if (f) info(`wrote ${k} to ${f}`);
  for (const m of models) m.dispose();
  if (ort) await ort.close();
  return 0;
}
