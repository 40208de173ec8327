// The bench chart and tables: the SVG is well-formed XML (every tag closed in
// order, attributes quoted, text escaped) and carries every configuration and
// backend of the result; the text and Markdown tables carry the same numbers.
import { describe, expect, it } from 'vitest';

import { renderReport, wrapText } from '../lib/cli/format';
import type { BenchResult, NetworkRow } from '../lib/cli/results';
import { summarize } from '../lib/cli/stats';
import { chartFromResult, chartsFromResult, escapeXml, logTicks, niceTicks, renderSvg, renderSvgPanels } from '../lib/cli/svg';

/** Checks tag nesting and attribute syntax of an SVG document; returns the element names in order. */
function checkWellFormed(svg: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt < 0 ? svg.length : lt);
    // Text between tags: no stray '>' and only the five XML entities.
    expect(text).not.toMatch(/>|&(?!(amp|lt|gt|quot|apos);)/);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    if (!m) throw new Error(`malformed tag at ${lt}: ${svg.slice(lt, lt + 60)}`);
    const [, close, name, , selfClose] = m;
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
    i = tag.lastIndex;
  }
  expect(stack, 'unclosed elements').toEqual([]);
  return names;
}

function row(label: string, backend: string, samples: number[], macs: number, extra: Partial<NetworkRow> = {}): NetworkRow {
  const stats = summarize(samples, 0.2);
  return {
    suite: 'table2',
    label,
    model: `resnext50_${label}`,
    depth: 50,
    cardinality: Number(label.split('x')[0]),
    width: 4,
    backend,
    batch: 1,
    size: 224,
    params: 25e6,
    macs,
    samples,
    warmupSamples: [],
    stats,
    imagesPerSecond: 1000 / stats.median,
    gflops: (2 * macs) / (stats.median * 1e6),
    pctPeak: 20,
    relTime: 1,
    macRatio: 1,
    ...extra,
  };
}

function result(networks: NetworkRow[]): BenchResult {
  return {
    tool: 'resnext bench',
    command: 'resnext bench',
    machine: {
      cpuModel: 'Test CPU <fast> & "cool"',
      cores: 2,
      memoryGiB: 8,
      platform: 'linux',
      arch: 'x64',
      node: 'v20',
      packageVersion: '0.1.0',
      simd: 'avx512',
      simdSupported: 'avx512',
      cpuFeatures: [],
      threads: 2,
      backends: [],
      onnxruntime: null,
      date: '2026-01-01T00:00:00Z',
    },
    settings: {
      suite: 'table2',
      backends: ['cpu', 'onnxruntime'],
      batches: [1],
      size: 224,
      runs: 3,
      runsChosen: 'test',
      warmup: 1,
      threads: 2,
      maxSpread: 0.2,
      seed: 1,
      interleaving: 'rotated',
    },
    peak: { gflops: 400, isa: 'avx512', threads: 2, source: 'test', entries: [] },
    networks,
    layers: [],
    layerTotals: [],
    notes: ['a note'],
    wallSeconds: 1,
    phases: { peak: 0, build: 0.5, warmup: 0.2, timed: 0.3 },
    loadAverage: { start: 0.5, end: 3.5 },
  };
}

const rows = [
  row('1x64d', 'cpu', [20, 21, 22], 4.09e9),
  row('1x64d', 'onnxruntime', [24, 25, 26], 4.09e9, { vsOurs: 25 / 21 }),
  row('32x4d', 'cpu', [18, 19, 40], 4.23e9, { relTime: 19 / 21, macRatio: 4.23 / 4.09 }),
  row('32x4d', 'onnxruntime', [29, 30, 31], 4.23e9, { relTime: 30 / 25, macRatio: 4.23 / 4.09, vsOurs: 30 / 19 }),
];

describe('bench SVG chart', () => {
  it('is well-formed, has one bar per configuration and backend, and names every row and backend', () => {
    const svg = renderSvg(chartFromResult(result(rows)));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const names = checkWellFormed(svg);
    expect(names[0]).toBe('svg');
    for (const label of ['1x64d', '32x4d', 'cpu', 'onnxruntime']) expect(svg).toContain(`>${label}<`);
    // Bars carry a <title> with the median: one per (network, backend).
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual([
      '1x64d cpu: median 21.0 ms, p10 20.2, p90 21.8',
      '1x64d onnxruntime: median 25.0 ms, p10 24.2, p90 25.8',
      '32x4d cpu: median 19.0 ms, p10 18.2, p90 35.8',
      '32x4d onnxruntime: median 30.0 ms, p10 29.2, p90 30.8',
    ]);
    // The noisy row (p90 35.8 vs median 19) is marked; the relative time of 32x4d is shown.
    expect(svg).toContain('19.0 (0.90x) noisy');
    expect(svg).toContain('4.23 (1.03x)');
    // Escaped machine name.
    expect(svg).toContain('Test CPU &lt;fast&gt; &amp; &quot;cool&quot;');
  });
  it('bars scale linearly with the median on a linear axis', () => {
    const svg = renderSvg(chartFromResult(result([row('1x64d', 'cpu', [10, 10, 10], 1e9), row('2x40d', 'cpu', [20, 20, 20], 1e9)])));
    const widths = [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="14" fill="#2b6cb0">/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(widths[1] / widths[0]).toBeCloseTo(2, 2);
  });
  it('switches to a log axis when backends are far apart', () => {
    const svg = renderSvg(
      chartFromResult(result([row('1x64d', 'cpu', [10, 10, 10], 1e9), row('1x64d', 'reference', [900, 1000, 1100], 1e9)])),
    );
    expect(svg).toContain('log scale');
    checkWellFormed(svg);
  });
  it('tick helpers: round linear ticks covering the max, 1-2-5 log ticks per decade', () => {
    expect(niceTicks(237)).toEqual([0, 50, 100, 150, 200, 250]);
    expect(niceTicks(4.23)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(logTicks(12, 900)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
  });
});

describe('bench tables', () => {
  it('text and Markdown reports carry every row, the baseline ratios and the ORT ratio', () => {
    const r = result(rows);
    const text = renderReport(r, 'text', { wide: true });
    const md = renderReport(r, 'markdown');
    for (const out of [text, md]) {
      expect(out).toContain('Table 2 settings');
      expect(out).toMatch(/resnext50_32x4d.*32x4d.*cpu.*4\.23 G.*19\.0.*18\.2-35\.8.*18\.0.*! .*0\.90x.*1\.03x/);
      expect(out).toMatch(/ORT \/ ours/);
      expect(out).toMatch(/onnxruntime.*1\.20x.*1\.03x.*1\.58x/);
      expect(out).toContain('a note');
      expect(out).toMatch(/Load average \(1 min\) 0\.5 at the start, 3\.5 at the end, on 2 cores: other processes were competing/);
    }
    expect(md).toMatch(/^# resnext bench: table2/);
    expect(md.split('\n').filter((l) => l.startsWith('| resnext50_'))).toHaveLength(4);
  });
});

describe('bench output fits: 100-column tables, one SVG panel per batch', () => {
  // Long names, the slow reference backend and the ORT column: the widest realistic table.
  const wideRows = [
    row('1x64d', 'reference', [7090, 7100, 7300], 4.09e9, { model: 'resnext101_64x4d', pctPeak: 0.6 }),
    row('1x64d', 'cpu', [41.2, 41.8, 43.3], 4.09e9, { model: 'resnext101_64x4d' }),
    row('1x64d', 'onnxruntime', [290, 299, 310], 4.09e9, { model: 'resnext101_64x4d', vsOurs: 7.15 }),
    row('32x4d', 'cpu', [18, 19, 40], 4.23e9, { model: 'resnext101_64x4d', relTime: 0.9, macRatio: 1.03 }),
  ];
  it('the terminal table fits 100 columns and keeps the noisy mark; --wide and Markdown have every column', () => {
    const r = result(wideRows);
    const text = renderReport(r, 'text');
    const tableLines = text.split('\n').filter((l) => /^(network|-{5}|resnext101)/.test(l));
    expect(tableLines.length).toBe(6);
    for (const l of tableLines) expect(l.length, l).toBeLessThanOrEqual(100);
    expect(text).toMatch(/resnext101_64x4d\s+32x4d\s+cpu\s+19\.0 !/);
    expect(text).not.toMatch(/GFLOP\/s\s+% peak/);
    const wide = renderReport(r, 'text', { wide: true });
    const md = renderReport(r, 'markdown');
    for (const out of [wide, md]) for (const col of ['params', 'min ms', 'spread', 'GFLOP/s']) expect(out).toContain(col);
  });

  function batchRows(batch: number, scale: number): NetworkRow[] {
    return [
      row('1x64d', 'cpu', [20 * scale, 21 * scale, 22 * scale], 4.09e9 * batch, { batch }),
      row('32x4d', 'cpu', [18 * scale, 19 * scale, 20 * scale], 4.23e9 * batch, { batch, relTime: 19 / 21, macRatio: 4.23 / 4.09 }),
    ];
  }

  it('batches 1 and 64: two panels with their own axes, every label inside its panel', () => {
    const r = result([...batchRows(1, 1), ...batchRows(64, 50)]);
    r.settings.batches = [1, 64];
    const charts = chartsFromResult(r);
    expect(charts.map((c) => c.title)).toEqual([
      'resnext bench table2: latency and multiply-adds per configuration, batch 1',
      'resnext bench table2: latency and multiply-adds per configuration, batch 64',
    ]);
    expect(charts.map((c) => c.rows.length)).toEqual([2, 2]);
    const svg = renderSvgPanels(charts);
    const names = checkWellFormed(svg);
    expect(names.filter((n) => n === 'svg')).toHaveLength(3);
    // The batch-1 bars are as long as the batch-64 ones: each panel is scaled to its own batch.
    const widths = [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="14" fill="#2b6cb0">/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(4);
    expect(widths[0]).toBeCloseTo(widths[2], 0);
    // No text runs past the right edge of its panel (Helvetica: about 0.6 em per character at most).
    for (const panel of svg.split('<svg').slice(2)) {
      const width = Number(/width="(\d+)"/.exec(panel)![1]);
      for (const m of panel.matchAll(/<text x="([\d.]+)" y="[\d.]+" font-size="(\d+)"[^>]*>([^<]*)<\/text>/g)) {
        if (/text-anchor="(middle|end)"/.test(m[0])) continue;
        expect(Number(m[1]) + 0.6 * Number(m[2]) * m[3].length, m[3]).toBeLessThanOrEqual(width);
      }
    }
  });
});

describe('bench text report', () => {
  it('every line of the terminal report fits 100 columns (settings and notes are wrapped)', () => {
    const r = result(rows);
    r.notes = [`a long note ${'word '.repeat(40)}end`];
    for (const l of renderReport(r, 'text').split('\n')) expect(l.length, l).toBeLessThanOrEqual(100);
    expect(wrapText('aa bb cc', 5, ' ')).toBe('aa bb\n cc');
  });
});
