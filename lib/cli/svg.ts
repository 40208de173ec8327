// Hand-written SVG chart of a bench run: one row per configuration (network
// and batch, or conv layer), left panel the median latency per backend as bars
// with p10-p90 whiskers, right panel the multiply-adds, so time and cost can be
// compared at a glance. Plain SVG 1.1 with inline attributes: no scripts, no
// external fonts or styles, renders the same in browsers and rsvg.

import { fmtMs } from './format';
import type { BenchResult } from './results';

export interface ChartSeriesValue {
  series: string;
  median: number;
  p10: number;
  p90: number;
  noisy: boolean;
  /** Time relative to the suite's baseline, shown next to the value. */
  rel?: number;
}

export interface ChartRow {
  /** Rows of several groups (suites) get a separator and the group's name where it changes. */
  group?: string;
  label: string;
  sublabel?: string;
  values: ChartSeriesValue[];
  macs: number;
  /** MACs relative to the suite's baseline. */
  macRatio?: number;
}

export interface Chart {
  title: string;
  subtitle: string;
  rows: ChartRow[];
  footnote?: string;
}

const PALETTE: Record<string, string> = {
  cpu: '#2b6cb0',
  cuda: '#2f855a',
  reference: '#805ad5',
  onnxruntime: '#dd6b20',
};
const EXTRA = ['#c53030', '#319795', '#b7791f', '#d53f8c'];

export function seriesColor(name: string, index: number): string {
  return PALETTE[name] ?? EXTRA[index % EXTRA.length];
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** About five round tick values from 0 to at least max. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1-2-5 ticks per decade covering [min, max], for a log axis. */
export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  for (let e = lo; e <= hi; e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= 10 ** lo && (out.length === 0 || out[out.length - 1] < max)) out.push(v);
    }
  }
  return out;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

/** Builds the chart description of a result (network rows, else layer rows). */
/**
 * The chart(s) of a run: one per batch size, each with its own axes (batch 64
 * would squash batch 1's bars to nothing on a shared axis).
 */
export function chartsFromResult(r: BenchResult): Chart[] {
  const batches = [...new Set([...r.networks.map((n) => n.batch), ...r.layers.map((l) => l.batch)])];
  if (batches.length <= 1) return [chartFromResult(r)];
  return batches.map((b) =>
    chartFromResult({ ...r, networks: r.networks.filter((n) => n.batch === b), layers: r.layers.filter((l) => l.batch === b) }, b),
  );
}

/** One chart; `batch` names the batch size of a per-batch panel. */
export function chartFromResult(r: BenchResult, batch?: number): Chart {
  const rows: ChartRow[] = [];
  const machine = `${r.machine.cpuModel}, ${r.settings.threads} thread${r.settings.threads === 1 ? '' : 's'}, SIMD ${r.machine.simd ?? 'n/a'}`;
  if (r.networks.length > 0) {
    const byKey = new Map<string, ChartRow>();
    for (const n of r.networks) {
      const key = `${n.suite}|${n.model}|${n.batch}`;
      let row = byKey.get(key);
      if (!row) {
        row = {
          group: n.suite === 'table2' ? 'Table 2' : n.suite === 'table4' ? 'Table 4' : n.suite,
          label: n.label,
          sublabel: `${n.model}${batch === undefined && r.settings.batches.length > 1 ? `, batch ${n.batch}` : ''}`,
          values: [],
          macs: n.macs,
          macRatio: n.macRatio,
        };
        byKey.set(key, row);
        rows.push(row);
      }
      row.values.push({
        series: n.backend,
        median: n.stats.median,
        p10: n.stats.p10,
        p90: n.stats.p90,
        noisy: n.stats.noisy,
        rel: n.relTime,
      });
    }
    return {
      title: `resnext bench ${r.settings.suite}: latency and multiply-adds per configuration${batch === undefined ? '' : `, batch ${batch}`}`,
      subtitle: `${machine}; input ${r.settings.size}x${r.settings.size}; median of ${r.settings.runs} interleaved runs, whiskers p10-p90`,
      rows,
      footnote:
        '(1.00x): time or multiply-adds relative to the first row of the suite on the same backend and batch. "noisy": p90 - p10 above the spread threshold.',
    };
  }
  for (const l of r.layers) {
    rows.push({
      label: l.name,
      sublabel: `${l.kernel}x${l.kernel}/${l.stride} g${l.groups} ${l.inputShape.slice(1).join('x')}`,
      values: [{ series: l.backend, median: l.stats.median, p10: l.stats.p10, p90: l.stats.p90, noisy: l.stats.noisy }],
      macs: l.macs,
    });
  }
  return {
    title: `resnext bench layers: ${r.layers[0]?.model ?? ''} per-conv latency and multiply-adds`,
    subtitle: `${machine}; input ${r.settings.size}x${r.settings.size}, batch ${r.layers[0]?.batch ?? ''}; median of ${r.settings.runs} runs, whiskers p10-p90`,
    rows,
  };
}

export function renderSvg(chart: Chart): string {
  const series: string[] = [];
  for (const row of chart.rows) for (const v of row.values) if (!series.includes(v.series)) series.push(v.series);
  const barH = 14;
  const barGap = 3;
  const rowPad = 12;
  const labelW = 190;
  const latX = labelW + 20;
  const latW = 420;
  // Room after the longest whisker for its value label.
  const macX = latX + latW + 150;
  const macW = 200;
  // Room after the longest MAC bar for its label, e.g. "33.84 (1.04x)".
  const width = macX + macW + 110;
  const top = 92;
  // Two text lines (label and sublabel) need about 30 px even for a single bar.
  const rowH = (row: ChartRow): number =>
    Math.max(Math.max(1, row.values.length) * (barH + barGap) - barGap + rowPad, row.sublabel ? 34 : 0);
  const plotH = chart.rows.reduce((a, r) => a + rowH(r), 0);
  const height = top + plotH + 56 + (chart.footnote ? 16 : 0);
  const maxLat = Math.max(1e-9, ...chart.rows.flatMap((r) => r.values.map((v) => Math.max(v.p90, v.median))));
  const medians = chart.rows.flatMap((r) => r.values.map((v) => v.median));
  const minLat = Math.max(1e-9, Math.min(...chart.rows.flatMap((r) => r.values.map((v) => Math.min(v.p10, v.median)))));
  // Backends a hundred times apart (reference vs native) would leave the fast
  // bars invisible on a linear axis: switch to a log axis past a 20x range of medians.
  const log = Math.max(...medians) / Math.max(1e-9, Math.min(...medians)) > 20;
  const latTicks = log ? logTicks(minLat, maxLat) : niceTicks(maxLat);
  const latMin = log ? latTicks[0] : 0;
  const latMax = latTicks[latTicks.length - 1];
  const macsG = chart.rows.map((r) => r.macs / 1e9);
  const macTicks = niceTicks(Math.max(1e-9, ...macsG));
  const macMax = macTicks[macTicks.length - 1];
  const sx = (v: number): number =>
    log ? latX + (Math.log10(Math.max(v, latMin) / latMin) / Math.log10(latMax / latMin)) * latW : latX + (v / latMax) * latW;
  const mx = (v: number): number => macX + (v / macMax) * macW;
  const f = (x: number): string => x.toFixed(1);
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
  );
  o.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  o.push(`<text x="20" y="28" font-size="17" font-weight="bold" fill="#1a202c">${escapeXml(chart.title)}</text>`);
  o.push(`<text x="20" y="48" font-size="12" fill="#4a5568">${escapeXml(chart.subtitle)}</text>`);
  // Legend.
  let lx = latX;
  for (const [i, s] of series.entries()) {
    o.push(`<rect x="${lx}" y="60" width="12" height="12" fill="${seriesColor(s, i)}"/>`);
    o.push(`<text x="${lx + 17}" y="70" font-size="12" fill="#2d3748">${escapeXml(s)}</text>`);
    lx += 30 + s.length * 7;
  }
  o.push(
    `<text x="${latX}" y="${top - 6}" font-size="12" font-weight="bold" fill="#2d3748">median latency (ms${log ? ', log scale' : ''})</text>`,
  );
  o.push(`<text x="${macX}" y="${top - 6}" font-size="12" font-weight="bold" fill="#2d3748">multiply-adds (GMACs)</text>`);
  // Row shading goes under the grid: collected while drawing the rows, inserted here.
  const shadeAt = o.length;
  const shades: string[] = [];
  // Grid and axes.
  for (const t of latTicks) {
    o.push(`<line x1="${f(sx(t))}" y1="${top}" x2="${f(sx(t))}" y2="${top + plotH}" stroke="#e2e8f0" stroke-width="1"/>`);
    o.push(`<text x="${f(sx(t))}" y="${top + plotH + 16}" font-size="11" fill="#4a5568" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of macTicks) {
    o.push(`<line x1="${f(mx(t))}" y1="${top}" x2="${f(mx(t))}" y2="${top + plotH}" stroke="#e2e8f0" stroke-width="1"/>`);
    o.push(`<text x="${f(mx(t))}" y="${top + plotH + 16}" font-size="11" fill="#4a5568" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  o.push(`<line x1="${latX}" y1="${top}" x2="${latX}" y2="${top + plotH}" stroke="#4a5568" stroke-width="1"/>`);
  o.push(`<line x1="${macX}" y1="${top}" x2="${macX}" y2="${top + plotH}" stroke="#4a5568" stroke-width="1"/>`);
  // Rows.
  const groups = new Set(chart.rows.map((r) => r.group ?? ''));
  let y = top + rowPad / 2;
  for (const [ri, row] of chart.rows.entries()) {
    const h = row.values.length * (barH + barGap) - barGap;
    const extra = rowH(row) - rowPad - h;
    if (ri % 2 === 1) shades.push(`<rect x="10" y="${f(y - rowPad / 2)}" width="${width - 20}" height="${f(rowH(row))}" fill="#f7fafc"/>`);
    if (groups.size > 1 && (ri === 0 || row.group !== chart.rows[ri - 1].group)) {
      if (ri > 0)
        o.push(
          `<line x1="10" y1="${f(y - rowPad / 2)}" x2="${width - 10}" y2="${f(y - rowPad / 2)}" stroke="#4a5568" stroke-width="1" stroke-dasharray="4 3"/>`,
        );
      o.push(`<text x="14" y="${f(y + 8)}" font-size="11" font-style="italic" fill="#4a5568">${escapeXml(row.group ?? '')}</text>`);
    }
    y += extra / 2;
    const cy = y + h / 2;
    o.push(
      `<text x="${labelW}" y="${f(row.sublabel ? cy - 1 : cy + 4)}" font-size="13" font-weight="bold" fill="#1a202c" text-anchor="end">${escapeXml(row.label)}</text>`,
    );
    if (row.sublabel)
      o.push(`<text x="${labelW}" y="${f(cy + 12)}" font-size="10" fill="#718096" text-anchor="end">${escapeXml(row.sublabel)}</text>`);
    row.values.forEach((v, i) => {
      const by = y + i * (barH + barGap);
      const color = seriesColor(v.series, series.indexOf(v.series));
      o.push(
        `<rect x="${latX}" y="${f(by)}" width="${f(Math.max(1, sx(v.median) - latX))}" height="${barH}" fill="${color}"><title>${escapeXml(`${row.label} ${v.series}: median ${fmtMs(v.median)} ms, p10 ${fmtMs(v.p10)}, p90 ${fmtMs(v.p90)}`)}</title></rect>`,
      );
      const wy = by + barH / 2;
      o.push(`<line x1="${f(sx(v.p10))}" y1="${f(wy)}" x2="${f(sx(v.p90))}" y2="${f(wy)}" stroke="#1a202c" stroke-width="1.2"/>`);
      o.push(`<line x1="${f(sx(v.p10))}" y1="${f(wy - 4)}" x2="${f(sx(v.p10))}" y2="${f(wy + 4)}" stroke="#1a202c" stroke-width="1.2"/>`);
      o.push(`<line x1="${f(sx(v.p90))}" y1="${f(wy - 4)}" x2="${f(sx(v.p90))}" y2="${f(wy + 4)}" stroke="#1a202c" stroke-width="1.2"/>`);
      const labelX = Math.max(sx(v.median), sx(v.p90)) + 6;
      o.push(
        `<text x="${f(labelX)}" y="${f(by + barH - 3)}" font-size="11" fill="#1a202c">${fmtMs(v.median)}${v.rel !== undefined && Number.isFinite(v.rel) ? ` (${v.rel.toFixed(2)}x)` : ''}${v.noisy ? ' noisy' : ''}</text>`,
      );
    });
    const g = row.macs / 1e9;
    const my = y + h / 2 - barH / 2;
    o.push(`<rect x="${macX}" y="${f(my)}" width="${f(Math.max(1, mx(g) - macX))}" height="${barH}" fill="#cbd5e0"/>`);
    o.push(
      `<text x="${f(mx(g) + 6)}" y="${f(my + barH - 3)}" font-size="11" fill="#1a202c">${g >= 0.1 ? g.toFixed(2) : g.toPrecision(2)}${row.macRatio !== undefined && Number.isFinite(row.macRatio) ? ` (${row.macRatio.toFixed(2)}x)` : ''}</text>`,
    );
    y += rowH(row) - extra / 2;
  }
  o.splice(shadeAt, 0, ...shades);
  if (chart.footnote) o.push(`<text x="20" y="${height - 12}" font-size="11" fill="#718096">${escapeXml(chart.footnote)}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

/** Several charts stacked in one SVG document, each a nested <svg> panel with its own axes. */
export function renderSvgPanels(charts: readonly Chart[]): string {
  if (charts.length === 1) return renderSvg(charts[0]);
  const panels = charts.map((c) => renderSvg(c).trimEnd());
  const size = (svg: string, attr: string): number => Number(new RegExp(`${attr}="(\\d+(?:\\.\\d+)?)"`).exec(svg)![1]);
  const width = Math.max(...panels.map((p) => size(p, 'width')));
  let y = 0;
  const body: string[] = [];
  for (const p of panels) {
    body.push(p.replace('<svg xmlns="http://www.w3.org/2000/svg" ', `<svg x="0" y="${y}" `));
    y += size(p, 'height');
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect x="0" y="0" width="${width}" height="${y}" fill="#ffffff"/>\n${body.join('\n')}\n</svg>\n`
  );
}
