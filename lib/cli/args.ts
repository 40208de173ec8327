// Command-line parsing for `resnext bench | verify | info`: node:util parseArgs
// for the syntax, then our own checks for values, so every mistake becomes a
// UsageError with one readable line (the bin prints it and exits 2, no stack).

import { parseArgs, type ParseArgsConfig } from 'node:util';

import { LAYER_MODELS } from './suites';

/** A mistake on the command line: printed as is, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const SUITES = ['table2', 'table4', 'layers', 'all', 'tiny'] as const;
export type SuiteName = (typeof SUITES)[number];
export const BACKENDS = ['cpu', 'cuda', 'cudnn', 'reference'] as const;
export type CliBackend = (typeof BACKENDS)[number];
export const COMPARE_TARGETS = ['onnxruntime'] as const;

export interface BenchArgs {
  command: 'bench';
  suite: SuiteName;
  /** Empty: the best available backend, chosen at run time. */
  backends: CliBackend[];
  batches: number[];
  /** Input height = width. Undefined: chosen at run time (224 on native backends). */
  size?: number;
  /** Network for --suite layers. */
  model: string;
  /** 0 = one per core (the backend's default). Undefined: leave as is. */
  threads?: number;
  /** Timed rounds; undefined: chosen from a time budget at run time. */
  runs?: number;
  warmup: number;
  /** Conv algorithm on the host backends: 'direct' excludes Winograd (equal multiply counts). */
  algorithm: 'auto' | 'direct';
  /** Seconds of timed work the automatic run count aims at, all configurations together. */
  budget: number;
  /** Relative spread (p90 - p10) / median above which a row is flagged as noisy. */
  maxSpread: number;
  /** GFLOP/s given by the user instead of measuring the peak. */
  peak?: number;
  /** --peak measure: measure the peak again even when a recent measurement is cached. */
  remeasurePeak: boolean;
  compare: string[];
  json?: string;
  markdown?: string;
  svg?: string;
  quiet: boolean;
  seed: number;
  /** Every column in the terminal tables (default: the ones that fit 100 columns). */
  wide: boolean;
}

export interface VerifyArgs {
  command: 'verify';
  backends: CliBackend[];
  /** Input height = width of the network cases. */
  size: number;
  /** Skip the whole-network cases (conv battery only). */
  convOnly: boolean;
  quiet: boolean;
  json?: string;
}

export interface InfoArgs {
  command: 'info';
  json: boolean;
}

export interface ConvertArgs {
  command: 'convert';
  /** A torch.save checkpoint. */
  input: string;
  /** The safetensors file to write. */
  output: string;
}

export interface HelpArgs {
  command: 'help';
  topic?: 'bench' | 'verify' | 'info' | 'convert';
}

export interface VersionArgs {
  command: 'version';
}

export type CliArgs = BenchArgs | VerifyArgs | InfoArgs | ConvertArgs | HelpArgs | VersionArgs;

export const HELP: Record<'main' | 'bench' | 'verify' | 'info' | 'convert', string> = {
  main: `Usage: resnext <command> [options]

Commands:
  bench     time the paper's cardinality settings on this machine, per backend
  verify    check every available backend against the float64 TS reference
  info      backends (and why any is unavailable), CPU features, threads, versions
  convert   a PyTorch checkpoint (torch.save, .pth) to safetensors

Run 'resnext <command> --help' for the options of a command.
Options: --help, -h   this text;  --version, -v   the package version`,
  bench: `Usage: resnext bench [options]

  --suite NAME        table2 (default): ResNeXt-50 complexity, 1x64d 2x40d 4x24d 8x14d 32x4d
                      table4: twice that complexity, 2x64d and 64x4d vs wider/deeper ResNets
                      layers: per-conv breakdown of one network (see --model)
                      all: table2, table4 and layers;  tiny: narrow networks for quick checks
  --backend LIST      comma-separated: cpu, cuda, cudnn, reference (default: the best available
                      backend that runs the networks)
  --batch LIST        comma-separated batch sizes (default 1)
  --size N            input height and width (default 224; 64 on the reference backend)
  --model NAME        network for --suite layers (default resnext50_32x4d)
  --threads N         CPU threads (0 = one per core; default: the backend's default)
  --runs N            timed rounds; each round times every configuration once, in rotated
                      order (default: chosen from --budget, at least 5)
  --warmup N          untimed runs per configuration before timing (default 2)
  --algorithm A       auto (default: Winograd for 3x3 convs where faster, on cpu) or direct
                      (direct convolution only: the networks compared at their multiply counts)
  --budget SECONDS    timed work the automatic --runs aims at, all configurations (default 30)
  --max-spread R      flag rows whose (p90 - p10) / median exceeds R (default 0.2)
  --peak GFLOPS       the machine's fp32 peak to report % of peak against (default: measured
                      by bench/peak/peak.cc and cached a day; '--peak measure' measures again)
  --compare onnxruntime  also run the same networks and weights on onnxruntime-node
  --json FILE         every raw timing plus machine information
  --markdown FILE     the tables as Markdown
  --svg FILE          a chart of latency and MACs per configuration, one panel per batch size
  --seed N            weight initialisation seed (default 1)
  --wide              every column in the terminal tables (params, min, spread, GFLOP/s; the
                      default tables fit 100 columns; --json and --markdown always have them all)
  --quiet, -q         no progress bar`,
  verify: `Usage: resnext verify [options]

  --backend LIST   comma-separated: cpu, cuda, cudnn, reference (default: every available one)
  --size N         input height and width of the whole-network cases (default 32)
  --conv-only      only the convolution battery, not the networks
  --json FILE      the results as JSON
  --quiet, -q      print failures and the summary only
Exits 1 when any case fails.`,
  convert: `Usage: resnext convert model.pth model.safetensors

Reads a torch.save checkpoint (zip or legacy format; the state dict at
the top level or under 'state_dict' / 'model'; float32, float16, bfloat16 and
int64 tensors; 'module.' prefixes removed) without running any pickled code,
and writes its tensors as float32 safetensors (num_batches_tracked dropped).`,
  info: `Usage: resnext info [--json]

Prints the backends (and why any is unavailable), the CPU features in use,
the thread count and the versions. --json prints the same as JSON.`,
};

function fail(message: string): never {
  throw new UsageError(message);
}

/** Rewrites node:util's parse errors into one line that names the command. */
function parse(command: string, argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  // parseArgs takes "-3" after "--size" for an option and calls it ambiguous:
  // join a negative number to its string option, so our range check reports it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && i + 1 < argv.length && /^-[\d.]/.test(argv[i + 1])) {
      args.push(`${argv[i]}=${argv[++i]}`);
    } else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const msg = String(e.message ?? err).split('\n')[0];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      fail(`${msg} for 'resnext ${command}'. Run 'resnext ${command} --help' for the options.`);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      fail(`${msg.replace(/\. This command.*$/, '')} for 'resnext ${command}' (it takes only --options).`);
    }
    fail(`${msg} (resnext ${command}).`);
  }
}

/** An integer in [min, max] from a flag value, or a UsageError naming the flag. */
export function parseIntFlag(flag: string, value: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(value.trim())) fail(`Expected an integer for --${flag} but received ${JSON.stringify(value)}.`);
  const n = Number(value);
  if (n < min || n > max) fail(`Expected an integer in [${min}, ${max}] for --${flag} but received ${value}.`);
  return n;
}

function parseNumberFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) fail(`Expected a number for --${flag} but received ${JSON.stringify(value)}.`);
  if (n < min || n > max) fail(`Expected a number in [${min}, ${max}] for --${flag} but received ${value}.`);
  return n;
}

/** The items of a comma-separated list, trimmed; [] for an empty value, '' for an empty item ("1,,8", "1,"). */
function listItems(value: string): string[] {
  return value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
}

/** A comma-separated list of names from `allowed`, without duplicates. */
export function parseListFlag<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = listItems(value);
  if (items.length === 0 || items.includes(''))
    fail(`Expected a comma-separated list of ${allowed.join(', ')} for --${flag} but received ${JSON.stringify(value)}.`);
  const out: T[] = [];
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      fail(`Expected one of ${allowed.join(', ')} for --${flag} but received ${JSON.stringify(item)}.`);
    }
    if (!out.includes(item as T)) out.push(item as T);
  }
  return out;
}

function parseIntList(flag: string, value: string, min: number, max: number): number[] {
  const items = listItems(value);
  if (items.length === 0 || items.includes(''))
    fail(`Expected a comma-separated list of integers for --${flag} but received ${JSON.stringify(value)}.`);
  const out: number[] = [];
  for (const item of items) {
    const n = parseIntFlag(flag, item, min, max);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

function parseBench(argv: string[]): BenchArgs | HelpArgs {
  const { values: v } = parse('bench', argv, {
    suite: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
    size: { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    algorithm: { type: 'string' },
    budget: { type: 'string' },
    'max-spread': { type: 'string' },
    peak: { type: 'string' },
    compare: { type: 'string' },
    json: { type: 'string' },
    markdown: { type: 'string' },
    svg: { type: 'string' },
    seed: { type: 'string' },
    wide: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return { command: 'help', topic: 'bench' };
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const suite = s('suite') ?? 'table2';
  if (!(SUITES as readonly string[]).includes(suite))
    fail(`Expected one of ${SUITES.join(', ')} for --suite but received ${JSON.stringify(suite)}.`);
  const out: BenchArgs = {
    command: 'bench',
    suite: suite as SuiteName,
    backends: s('backend') !== undefined ? parseListFlag('backend', s('backend')!, BACKENDS) : [],
    batches: s('batch') !== undefined ? parseIntList('batch', s('batch')!, 1, 1024) : [1],
    model: s('model') ?? 'resnext50_32x4d',
    warmup: s('warmup') !== undefined ? parseIntFlag('warmup', s('warmup')!, 0, 1000) : 2,
    algorithm: 'auto',
    budget: s('budget') !== undefined ? parseNumberFlag('budget', s('budget')!, 0.1, 36000) : 30,
    maxSpread: s('max-spread') !== undefined ? parseNumberFlag('max-spread', s('max-spread')!, 0, 100) : 0.2,
    compare: s('compare') !== undefined ? parseListFlag('compare', s('compare')!, COMPARE_TARGETS) : [],
    quiet: v.quiet === true,
    seed: s('seed') !== undefined ? parseIntFlag('seed', s('seed')!, 0, 2 ** 32 - 1) : 1,
    remeasurePeak: s('peak') === 'measure',
    wide: v.wide === true,
  };
  if (!Object.prototype.hasOwnProperty.call(LAYER_MODELS, out.model)) {
    fail(`Expected one of ${Object.keys(LAYER_MODELS).join(', ')} for --model but received ${JSON.stringify(out.model)}.`);
  }
  if (s('model') !== undefined && out.suite !== 'layers' && out.suite !== 'all') {
    fail(`--model chooses the network of --suite layers (or all), but the suite is ${out.suite}.`);
  }
  if (s('algorithm') !== undefined) {
    const a = s('algorithm')!;
    if (a !== 'auto' && a !== 'direct') fail(`Expected auto or direct for --algorithm but received ${JSON.stringify(a)}.`);
    out.algorithm = a;
  }
  if (s('size') !== undefined) out.size = parseIntFlag('size', s('size')!, 32, 1024);
  if (s('threads') !== undefined) out.threads = parseIntFlag('threads', s('threads')!, 0, 1024);
  if (s('runs') !== undefined) out.runs = parseIntFlag('runs', s('runs')!, 1, 100000);
  if (s('peak') !== undefined && s('peak') !== 'measure') out.peak = parseNumberFlag('peak', s('peak')!, 0.001, 1e9);
  for (const k of ['json', 'markdown', 'svg'] as const) {
    const f = s(k);
    if (f !== undefined) {
      if (f.trim() === '' || f.startsWith('--')) fail(`Expected a file name for --${k} but received ${JSON.stringify(f)}.`);
      out[k] = f;
    }
  }
  return out;
}

function parseVerify(argv: string[]): VerifyArgs | HelpArgs {
  const { values: v } = parse('verify', argv, {
    backend: { type: 'string' },
    size: { type: 'string' },
    'conv-only': { type: 'boolean' },
    json: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return { command: 'help', topic: 'verify' };
  const out: VerifyArgs = {
    command: 'verify',
    backends: v.backend !== undefined ? parseListFlag('backend', v.backend as string, BACKENDS) : [],
    size: v.size !== undefined ? parseIntFlag('size', v.size as string, 32, 256) : 32,
    convOnly: v['conv-only'] === true,
    quiet: v.quiet === true,
  };
  if (v.json !== undefined) out.json = v.json as string;
  return out;
}

function parseInfo(argv: string[]): InfoArgs | HelpArgs {
  const { values: v } = parse('info', argv, {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return { command: 'help', topic: 'info' };
  return { command: 'info', json: v.json === true };
}

function parseConvert(argv: string[]): ConvertArgs | HelpArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    fail(`${String((err as Error).message).split('\n')[0]} (resnext convert).`);
  }
  if (parsed.values.help) return { command: 'help', topic: 'convert' };
  const [input, output, ...extra] = parsed.positionals;
  if (input === undefined || output === undefined || extra.length > 0)
    fail(`Expected two file names (resnext convert model.pth model.safetensors) but received ${parsed.positionals.length}.`);
  if (input === output) fail(`Expected an output file other than the input but received ${JSON.stringify(output)} twice.`);
  return { command: 'convert', input, output };
}

/** Parses process.argv.slice(2). Throws UsageError on any mistake. */
export function parseCli(argv: readonly string[]): CliArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic === 'bench' || topic === 'verify' || topic === 'info' || topic === 'convert') return { command: 'help', topic };
    return { command: 'help' };
  }
  if (first === '--version' || first === '-v') return { command: 'version' };
  switch (first) {
    case 'bench':
      return parseBench(rest);
    case 'verify':
      return parseVerify(rest);
    case 'info':
      return parseInfo(rest);
    case 'convert':
      return parseConvert(rest);
    default:
      if (first.startsWith('-'))
        fail(`Unknown option ${JSON.stringify(first)}: expected a command first (bench, verify, info or convert). Run 'resnext --help'.`);
      fail(`Unknown command ${JSON.stringify(first)}: expected bench, verify, info or convert. Run 'resnext --help'.`);
  }
}
