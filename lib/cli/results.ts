// The data a bench run produces, shared by the runner and every renderer
// (terminal, Markdown, JSON, SVG). Times are milliseconds; MACs are
// multiply-adds (the paper's "FLOPs"); GFLOP/s counts 2 flops per MAC.

import type { MachineInfo } from './machine';
import type { Peak } from './peak';
import type { Summary } from './stats';

export interface NetworkRow {
  suite: string;
  /** Short label as in the paper's tables, e.g. '32x4d'. */
  label: string;
  /** Model name, e.g. 'resnext50_32x4d'. */
  model: string;
  depth: number;
  cardinality: number;
  width: number;
  /** Runner: 'cpu', 'reference', 'cuda' or 'onnxruntime'. */
  backend: string;
  batch: number;
  size: number;
  params: number;
  /** Multiply-adds of one forward of the whole batch. */
  macs: number;
  /** Every timed run, in the order taken. */
  samples: number[];
  /** The untimed warm-up runs' times (the first pays for packing, allocation and page faults). */
  warmupSamples: number[];
  stats: Summary;
  imagesPerSecond: number;
  gflops: number;
  /** Percentage of the measured peak; null when no peak is known or the runner is not the CPU backend. */
  pctPeak: number | null;
  /** median / the suite baseline's median (same backend and batch). */
  relTime: number;
  /** macs / the suite baseline's macs. */
  macRatio: number;
  /** For onnxruntime rows: this row's median / the resnext backend's median for the same network. */
  vsOurs?: number;
  note?: string;
}

export interface LayerRow {
  model: string;
  backend: string;
  batch: number;
  name: string;
  inputShape: number[];
  outputShape: number[];
  kernel: number;
  stride: number;
  groups: number;
  macs: number;
  samples: number[];
  warmupSamples: number[];
  stats: Summary;
  gflops: number;
  pctPeak: number | null;
  /** median / the sum of all conv medians of this network, backend and batch. */
  share: number;
}

export interface BenchResult {
  tool: string;
  command: string;
  machine: MachineInfo;
  settings: {
    suite: string;
    backends: string[];
    batches: number[];
    size: number;
    runs: number;
    runsChosen: string;
    warmup: number;
    /** Conv algorithm on the host backends (absent in files written before it existed: 'auto'). */
    algorithm?: 'auto' | 'direct';
    threads: number;
    maxSpread: number;
    seed: number;
    interleaving: string;
  };
  peak: Peak;
  networks: NetworkRow[];
  layers: LayerRow[];
  /** Whole-network medians for the layers suite, to compare with the sum of the convs. */
  layerTotals: { model: string; backend: string; batch: number; networkMs: number; convSumMs: number }[];
  notes: string[];
  wallSeconds: number;
  /** Seconds spent measuring the peak, building and preparing networks, warming up, and timing. */
  phases: { peak: number; build: number; warmup: number; timed: number };
  /** OS 1-minute load average when the run started and ended: above the core count, other work shared the CPU. */
  loadAverage: { start: number; end: number };
}
