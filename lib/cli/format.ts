// Table rendering for the terminal and Markdown: the same rows and columns,
// two layouts. Numbers are formatted once here so both agree digit for digit.

import type { BenchResult, LayerRow, NetworkRow } from './results';

export function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function fmtNum(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

export interface Table {
  header: string[];
  /** 'l' or 'r' per column. */
  align: ('l' | 'r')[];
  rows: string[][];
}

/**
 * Keeps the named columns of a table, in its order, and marks noisy rows'
 * median with " !" (the wide table's spread column carries the mark).
 */
function narrow(t: Table, keep: readonly string[], noisy: readonly boolean[]): Table {
  const idx = t.header.map((h, i) => (keep.includes(h) ? i : -1)).filter((i) => i >= 0);
  const med = t.header.indexOf('median ms');
  return {
    header: idx.map((i) => t.header[i]),
    align: idx.map((i) => t.align[i]),
    rows: t.rows.map((r, ri) => idx.map((i) => (i === med && noisy[ri] ? `${r[i]} !` : r[i]))),
  };
}

// The terminal's default columns, which fit 100 columns (tables are per batch size, named in their
// title); --wide, --json and --markdown have them all.
const NARROW_NETWORK = ['network', 'C x d', 'backend', 'median ms', 'img/s', '% peak', 'time / base', 'MACs / base', 'ORT / ours'];
const NARROW_LAYER = ['layer', 'input', 'output', 'k/s', 'groups', 'MACs', 'median ms', '% peak', 'share'];

export function networkTable(rows: readonly NetworkRow[], wide = true): Table {
  const t = networkTableWide(rows);
  return wide
    ? t
    : narrow(
        t,
        NARROW_NETWORK,
        rows.map((r) => r.stats.noisy),
      );
}

export function layerTable(rows: readonly LayerRow[], wide = true): Table {
  const t = layerTableWide(rows);
  return wide
    ? t
    : narrow(
        t,
        NARROW_LAYER,
        rows.map((r) => r.stats.noisy),
      );
}

function networkTableWide(rows: readonly NetworkRow[]): Table {
  const header = [
    'network',
    'C x d',
    'backend',
    'batch',
    'params',
    'MACs',
    'median ms',
    'p10-p90 ms',
    'min ms',
    'spread',
    'img/s',
    'GFLOP/s',
    '% peak',
    'time / base',
    'MACs / base',
  ];
  const align: ('l' | 'r')[] = ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const compare = rows.some((r) => r.vsOurs !== undefined);
  if (compare) {
    header.push('ORT / ours');
    align.push('r');
  }
  const out = rows.map((r) => [
    r.model,
    r.label,
    r.backend,
    String(r.batch),
    fmtCount(r.params),
    fmtCount(r.macs),
    fmtMs(r.stats.median),
    `${fmtMs(r.stats.p10)}-${fmtMs(r.stats.p90)}`,
    fmtMs(r.stats.min),
    `${(r.stats.spread * 100).toFixed(0)}%${r.stats.noisy ? ' !' : ''}`,
    fmtNum(r.imagesPerSecond, r.imagesPerSecond >= 100 ? 0 : 1),
    fmtNum(r.gflops, 1),
    r.pctPeak === null ? 'n/a' : `${r.pctPeak.toFixed(1)}%`,
    `${fmtNum(r.relTime, 2)}x`,
    `${fmtNum(r.macRatio, 2)}x`,
    ...(compare ? [r.vsOurs !== undefined ? `${fmtNum(r.vsOurs, 2)}x` : ''] : []),
  ]);
  return { header, align, rows: out };
}

function layerTableWide(rows: readonly LayerRow[]): Table {
  const header = ['layer', 'input', 'output', 'k/s', 'groups', 'MACs', 'median ms', 'min ms', 'spread', 'GFLOP/s', '% peak', 'share'];
  const align: ('l' | 'r')[] = ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const out = rows.map((r) => [
    r.name,
    r.inputShape.join('x'),
    r.outputShape.join('x'),
    `${r.kernel}x${r.kernel}/${r.stride}`,
    String(r.groups),
    fmtCount(r.macs),
    fmtMs(r.stats.median),
    fmtMs(r.stats.min),
    `${(r.stats.spread * 100).toFixed(0)}%${r.stats.noisy ? ' !' : ''}`,
    fmtNum(r.gflops, 1),
    r.pctPeak === null ? 'n/a' : `${r.pctPeak.toFixed(1)}%`,
    `${(r.share * 100).toFixed(1)}%`,
  ]);
  return { header, align, rows: out };
}

export function renderText(t: Table): string {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (t.align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function renderMarkdownTable(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${t.header.map(esc).join(' | ')} |`,
    `|${t.align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Groups rows by (suite, backend, batch) in first-seen order, for one table each. */
export function groupRows<T extends { backend: string; batch: number }>(rows: readonly T[], key: (r: T) => string): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(r);
  }
  return [...m.entries()];
}

export function machineLine(r: BenchResult): string {
  const m = r.machine;
  return (
    `${m.cpuModel}, ${m.cores} cores, SIMD ${m.simd ?? 'n/a'}, ${r.settings.threads} thread${r.settings.threads === 1 ? '' : 's'}, ` +
    `Node ${m.node}, resnext ${m.packageVersion}${m.onnxruntime ? `, onnxruntime-node ${m.onnxruntime}` : ''}`
  );
}

export function settingsLines(r: BenchResult): string[] {
  const s = r.settings;
  return [
    `suite ${s.suite}; backends ${s.backends.join(', ')}; batch ${s.batches.join(', ')}; input ${s.size}x${s.size}; ` +
      `conv algorithm ${s.algorithm ?? 'auto'}${(s.algorithm ?? 'auto') === 'auto' ? ' (Winograd for 3x3 convs where faster, on cpu)' : ' (direct convolution only)'}; ` +
      `${s.warmup} warm-up + ${s.runs} timed runs per configuration (${s.runsChosen}); ${s.interleaving}.`,
    `Load average (1 min) ${r.loadAverage.start.toFixed(1)} at the start, ${r.loadAverage.end.toFixed(1)} at the end, on ${r.machine.cores} cores` +
      (Math.max(r.loadAverage.start, r.loadAverage.end) > r.machine.cores * 0.75
        ? ': other processes were competing for the CPU during this run.'
        : '.'),
    `Peak: ${r.peak.gflops === null ? 'unknown' : `${r.peak.gflops.toFixed(0)} GFLOP/s`} (${r.peak.source}).`,
    `Rows marked ! have a spread (p90 - p10) / median above ${(s.maxSpread * 100).toFixed(0)}%: noisy, repeat before trusting them ` +
      '(on a shared machine the min is the least disturbed figure; GFLOP/s, % peak and the ratios use the median).',
  ];
}

/** Word-wraps a line at `width` columns (a longer word stays whole); continuation lines get `indent`. */
export function wrapText(line: string, width: number, indent = ''): string {
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    if (cur !== '' && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = indent + word;
    } else cur = cur === '' ? word : `${cur} ${word}`;
  }
  out.push(cur);
  return out.join('\n');
}

/** The whole report as terminal text (format 'text') or Markdown. */
export function renderReport(r: BenchResult, format: 'text' | 'markdown', options: { wide?: boolean } = {}): string {
  const md = format === 'markdown';
  // Markdown keeps every column; the terminal gets the narrow tables unless asked for --wide.
  const wide = md || options.wide === true;
  const table = md ? renderMarkdownTable : renderText;
  const out: string[] = [];
  if (md) {
    out.push(`# resnext bench: ${r.settings.suite}`, '');
    out.push(`Machine: ${machineLine(r)}.`, '');
    const ph = r.phases;
    out.push(
      `Command: \`${r.command}\` (finished ${r.machine.date}, ${r.wallSeconds.toFixed(0)} s: peak ${ph.peak.toFixed(1)} s, building ${ph.build.toFixed(1)} s, ` +
        `warm-up ${ph.warmup.toFixed(1)} s, timing ${ph.timed.toFixed(1)} s).`,
      '',
    );
    out.push(...settingsLines(r).map((l) => `${l}\n`));
  }
  const groups = groupRows(r.networks, (x) => `${x.suite}|${x.batch}`);
  for (const [key, rows] of groups) {
    const [suite, batch] = key.split('|');
    const title =
      (suite === 'table2'
        ? 'Table 2 settings (ResNeXt-50 complexity): time relative to 1x64d next to the MAC ratio'
        : suite === 'table4'
          ? 'Table 4 settings (about twice the complexity): time relative to ResNet-101 1x64d next to the MAC ratio'
          : `Suite ${suite}`) + `, batch ${batch}`;
    out.push(md ? `## ${title}\n` : `${title}\n`);
    out.push(table(networkTable(rows, wide)), '');
  }
  for (const [key, rows] of groupRows(r.layers, (x) => `${x.model} on ${x.backend}, batch ${x.batch}`)) {
    const tot = r.layerTotals.find((t) => `${t.model} on ${t.backend}, batch ${t.batch}` === key);
    const title = `Per-layer breakdown: ${key} (each conv timed alone with the network's shapes; share of the sum of conv times)`;
    out.push(md ? `## ${title}\n` : `${title}\n`);
    out.push(table(layerTable(rows, wide)), '');
    if (tot) {
      out.push(
        `Sum of conv medians ${fmtMs(tot.convSumMs)} ms; whole network forward ${Number.isFinite(tot.networkMs) ? `${fmtMs(tot.networkMs)} ms` : 'not timed'}` +
          `${Number.isFinite(tot.networkMs) ? ` (the rest, ${fmtMs(Math.max(0, tot.networkMs - tot.convSumMs))} ms, is pooling, the fc layer, unfused ops and overhead)` : ''}.`,
        '',
      );
    }
  }
  if (!md) out.push(...settingsLines(r).map((l) => wrapText(l, 100)));
  if (r.notes.length) {
    out.push(md ? '## Notes\n' : 'Notes:');
    out.push(...r.notes.map((n) => (md ? `- ${n}` : wrapText(`- ${n}`, 100, '  '))));
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
