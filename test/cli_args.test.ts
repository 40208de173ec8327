// The resnext command line: good flags parse to the documented settings, bad
// ones become one-line UsageErrors (exit 2 from main, never a stack trace).
import { describe, expect, it } from 'vitest';

import { parseCli, UsageError } from '../lib/cli/args';
import { main } from '../lib/cli/main';
import { type Output, Progress } from '../lib/cli/output';

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), interactive: false };
}

function usageError(argv: string[]): string {
  try {
    parseCli(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('resnext bench arguments', () => {
  it('bare bench: table2, best backend, batch 1, 2 warm-up runs, runs from a 30 s budget', () => {
    const a = parseCli(['bench']);
    expect(a).toMatchObject({
      command: 'bench',
      suite: 'table2',
      backends: [],
      batches: [1],
      warmup: 2,
      budget: 30,
      maxSpread: 0.2,
      quiet: false,
      compare: [],
    });
    if (a.command !== 'bench') throw new Error('not bench');
    expect(a.runs).toBeUndefined();
    expect(a.size).toBeUndefined();
  });
  it('every flag: --suite table4 --backend cpu,reference --batch 1,8 --threads 1 --runs 7 --warmup 0 ...', () => {
    const a = parseCli([
      'bench',
      '--suite',
      'table4',
      '--backend',
      'cpu,reference',
      '--batch',
      '1,8',
      '--threads',
      '1',
      '--runs',
      '7',
      '--warmup',
      '0',
      '--json',
      'o.json',
      '--markdown',
      'o.md',
      '--svg',
      'o.svg',
      '--compare',
      'onnxruntime',
      '--quiet',
      '--size',
      '64',
      '--max-spread',
      '0.5',
      '--peak',
      '400',
      '--seed',
      '3',
      '--budget',
      '5',
    ]);
    expect(a).toMatchObject({
      suite: 'table4',
      backends: ['cpu', 'reference'],
      batches: [1, 8],
      threads: 1,
      runs: 7,
      warmup: 0,
      json: 'o.json',
      markdown: 'o.md',
      svg: 'o.svg',
      compare: ['onnxruntime'],
      quiet: true,
      size: 64,
      maxSpread: 0.5,
      peak: 400,
      seed: 3,
      budget: 5,
      remeasurePeak: false,
    });
  });
  it('--flag=value syntax, -q, duplicate list items collapse, --peak measure', () => {
    const a = parseCli(['bench', '--suite=layers', '--batch=8,8,1', '-q', '--peak', 'measure']);
    expect(a).toMatchObject({ suite: 'layers', batches: [8, 1], quiet: true, remeasurePeak: true });
    expect((a as { peak?: number }).peak).toBeUndefined();
  });
  it('unknown flag --bogus names the flag and the command', () => {
    expect(usageError(['bench', '--bogus'])).toMatch(/--bogus.*resnext bench/);
  });
  it('--suite foo lists the suites', () => {
    expect(usageError(['bench', '--suite', 'foo'])).toMatch(/table2, table4, layers, all.*"foo"/);
  });
  it('--backend gpu names the valid backends', () => {
    expect(usageError(['bench', '--backend', 'cpu,gpu'])).toMatch(/cpu, cuda, cudnn, reference.*"gpu"/);
  });
  it('--batch 0, --batch 1.5, --batch "" are rejected', () => {
    expect(usageError(['bench', '--batch', '0'])).toMatch(/--batch.*0/);
    expect(usageError(['bench', '--batch', '1.5'])).toMatch(/integer for --batch/);
    expect(usageError(['bench', '--batch', ','])).toMatch(/--batch/);
  });
  it('--algorithm direct parses; the default is auto; --algorithm winograd is a one-line usage error', () => {
    expect(parseCli(['bench'])).toMatchObject({ algorithm: 'auto' });
    expect(parseCli(['bench', '--algorithm', 'direct'])).toMatchObject({ algorithm: 'direct' });
    expect(usageError(['bench', '--algorithm', 'winograd'])).toMatch(/--algorithm.*"winograd"/);
  });

  it('--runs abc, --threads -1, --warmup missing value', () => {
    expect(usageError(['bench', '--runs', 'abc'])).toMatch(/integer for --runs.*"abc"/);
    expect(usageError(['bench', '--threads', '-1'])).toMatch(/--threads/);
    expect(usageError(['bench', '--warmup'])).toMatch(/--warmup/);
  });
  it('--compare tensorflow, --size 8, --max-spread x, a positional argument', () => {
    expect(usageError(['bench', '--compare', 'tensorflow'])).toMatch(/onnxruntime.*"tensorflow"/);
    expect(usageError(['bench', '--size', '8'])).toMatch(/\[32, 1024\].*--size/);
    expect(usageError(['bench', '--max-spread', 'x'])).toMatch(/number for --max-spread/);
    expect(usageError(['bench', 'table2'])).toMatch(/'table2'/);
  });
  it('--model must be a known network and needs --suite layers or all', () => {
    expect(parseCli(['bench', '--suite', 'layers', '--model', 'resnet50'])).toMatchObject({ suite: 'layers', model: 'resnet50' });
    expect(usageError(['bench', '--suite', 'layers', '--model', 'vgg16'])).toMatch(/resnext50_32x4d.*--model.*"vgg16"/);
    expect(usageError(['bench', '--model', 'resnet50'])).toMatch(/--suite layers.*table2/);
  });
  it('--json with an empty file name', () => {
    expect(usageError(['bench', '--json', ''])).toMatch(/file name for --json/);
  });
});

describe('resnext verify / info / help arguments', () => {
  it('verify defaults and flags', () => {
    expect(parseCli(['verify'])).toMatchObject({ command: 'verify', backends: [], size: 32, convOnly: false, quiet: false });
    expect(parseCli(['verify', '--backend', 'cpu', '--conv-only', '--size', '48'])).toMatchObject({
      backends: ['cpu'],
      convOnly: true,
      size: 48,
    });
    expect(usageError(['verify', '--suite', 'table2'])).toMatch(/--suite.*resnext verify/);
  });
  it('info, info --json, --help per command, --version', () => {
    expect(parseCli(['info'])).toEqual({ command: 'info', json: false });
    expect(parseCli(['info', '--json'])).toEqual({ command: 'info', json: true });
    expect(parseCli(['bench', '--help'])).toEqual({ command: 'help', topic: 'bench' });
    expect(parseCli(['help', 'verify'])).toEqual({ command: 'help', topic: 'verify' });
    expect(parseCli([])).toEqual({ command: 'help' });
    expect(parseCli(['--version'])).toEqual({ command: 'version' });
  });
  it('unknown command and a leading option', () => {
    expect(usageError(['frob'])).toMatch(/Unknown command "frob"/);
    expect(usageError(['--fast'])).toMatch(/expected a command first/);
  });
});

describe('main: exit codes and messages', () => {
  it('a bad flag exits 2 with one line on stderr and no stack trace', async () => {
    const o = capture();
    expect(await main(['bench', '--runs', 'many'], o)).toBe(2);
    expect(o.err).toHaveLength(1);
    expect(o.err[0]).toMatch(/^resnext: Expected an integer for --runs/);
    expect(o.err[0]).not.toMatch(/\n\s+at /);
    expect(o.out).toHaveLength(0);
  });
  it('--help exits 0 and prints the bench options', async () => {
    const o = capture();
    expect(await main(['bench', '--help'], o)).toBe(0);
    expect(o.out.join('\n')).toMatch(/--suite NAME[\s\S]*--compare onnxruntime[\s\S]*--svg FILE/);
  });
  it('info --json reports the backends with reasons and the versions', async () => {
    const o = capture();
    expect(await main(['info', '--json'], o)).toBe(0);
    const info = JSON.parse(o.out.join(''));
    expect(info.node).toBe(process.version);
    expect(info.backends.map((b: { name: string }) => b.name)).toEqual(expect.arrayContaining(['cpu', 'reference', 'cuda']));
    for (const b of info.backends) if (!b.available) expect(b.reason).toMatch(/\w/);
    expect(info.packageVersion).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('resnext bench: values the parser used to misread', () => {
  it('--size -3 gets the range message, not node:util\'s "ambiguous"', () => {
    expect(usageError(['bench', '--size', '-3'])).toBe('Expected an integer in [32, 1024] for --size but received -3.');
    expect(usageError(['bench', '--threads', '-1'])).toBe('Expected an integer in [0, 1024] for --threads but received -1.');
    expect(usageError(['bench', '--budget', '-2'])).toMatch(/^Expected a number in \[0\.1, 36000\] for --budget but received -2\.$/);
  });
  it('--batch 1,,8 and --batch 1, (an empty item) are refused; so is --backend cpu,,reference', () => {
    expect(usageError(['bench', '--batch', '1,,8'])).toBe('Expected a comma-separated list of integers for --batch but received "1,,8".');
    expect(usageError(['bench', '--batch', '1,'])).toMatch(/--batch.*"1,"/);
    expect(usageError(['bench', '--backend', 'cpu,,reference'])).toMatch(/--backend.*"cpu,,reference"/);
    expect(parseCli(['bench', '--batch', ' 1, 8 '])).toMatchObject({ batches: [1, 8] });
  });
  it('--wide', () => {
    expect(parseCli(['bench'])).toMatchObject({ wide: false });
    expect(parseCli(['bench', '--wide'])).toMatchObject({ wide: true });
  });
});

describe('progress while networks are built and verified', () => {
  it('without a terminal, each step that starts is one line: "building 32x4d (2/3)"', () => {
    const lines: string[] = [];
    const drawn: string[] = [];
    const p = new Progress(
      3,
      false,
      (s) => drawn.push(s),
      (l) => lines.push(l),
    );
    p.tick('building 1x64d', 0);
    p.tick('built 1x64d');
    p.tick('building 32x4d', 0);
    expect(lines).toEqual(['building 1x64d (1/3)', 'building 32x4d (2/3)']);
    expect(drawn).toEqual([]);
  });
  it('on a terminal, a step that starts is drawn at once, even right after the previous draw', () => {
    const drawn: string[] = [];
    const p = new Progress(2, true, (s) => drawn.push(s));
    p.tick('built 1x64d');
    p.tick('building 32x4d', 0);
    expect(drawn).toHaveLength(2);
    expect(drawn[1]).toContain('building 32x4d');
  });
});
