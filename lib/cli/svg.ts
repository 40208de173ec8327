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
}

export interface ChartRow {
  label: string;
  sublabel?: string;
  values: ChartSeriesValue[];
  macs: number;
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
  reference: '#718096',
  onnxruntime: '#dd6b20',
};
const EXTRA = ['#805ad5', '#c53030', '#319795', '#b7791f'];

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

function fmtTick(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${v / 1000}k`;
  return String(Number(v.toPrecision(4)));
}

/** Builds the chart description of a result (network rows, else layer rows). */
export function chartFromResult(r: BenchResult): Chart {
  const rows: ChartRow[] = [];
  const machine = `${r.machine.cpuModel}, ${r.settings.threads} thread${r.settings.threads === 1 ? '' : 's'}, SIMD ${r.machine.simd ?? 'n/a'}`;
  if (r.networks.length > 0) {
    const byKey = new Map<string, ChartRow>();
    for (const n of r.networks) {
      const key = `${n.suite}|${n.model}|${n.batch}`;
      let row = byKey.get(key);
      if (!row) {
        row = { label: n.label, sublabel: `${n.model}${r.settings.batches.length > 1 ? `, batch ${n.batch}` : ''}`, values: [], macs: n.macs };
        byKey.set(key, row);
        rows.push(row);
      }
      row.values.push({ series: n.backend, median: n.stats.median, p10: n.stats.p10, p90: n.stats.p90, noisy: n.stats.noisy });
    }
    return {
      title: `resnext bench ${r.settings.suite}: latency and multiply-adds per configuration`,
      subtitle: `${machine}; input ${r.settings.size}x${r.settings.size}; median of ${r.settings.runs} interleaved runs, whiskers p10-p90`,
      rows,
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
  const latW = 430;
  const macX = latX + latW + 60;
  const macW = 220;
  const width = macX + macW + 30;
  const top = 92;
  const rowH = (row: ChartRow): number => Math.max(1, row.values.length) * (barH + barGap) - barGap + rowPad;
  const plotH = chart.rows.reduce((a, r) => a + rowH(r), 0);
  const height = top + plotH + 56 + (chart.footnote ? 16 : 0);
  const maxLat = Math.max(1e-9, ...chart.rows.flatMap((r) => r.values.map((v) => Math.max(v.p90, v.median))));
  const latTicks = niceTicks(maxLat);
  const latMax = latTicks[latTicks.length - 1];
  const macsG = chart.rows.map((r) => r.macs / 1e9);
  const macTicks = niceTicks(Math.max(1e-9, ...macsG));
  const macMax = macTicks[macTicks.length - 1];
  const sx = (v: number): number => latX + (v / latMax) * latW;
  const mx = (v: number): number => macX + (v / macMax) * macW;
  const f = (x: number): string => x.toFixed(1);
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`);
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
  o.push(`<text x="${latX}" y="${top - 6}" font-size="12" font-weight="bold" fill="#2d3748">median latency (ms)</text>`);
  o.push(`<text x="${macX}" y="${top - 6}" font-size="12" font-weight="bold" fill="#2d3748">multiply-adds (GMACs)</text>`);
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
  let y = top + rowPad / 2;
  for (const [ri, row] of chart.rows.entries()) {
    const h = rowH(row) - rowPad;
    if (ri % 2 === 1) o.push(`<rect x="10" y="${f(y - rowPad / 2)}" width="${width - 20}" height="${f(rowH(row))}" fill="#f7fafc"/>`);
    const cy = y + h / 2;
    o.push(`<text x="${labelW}" y="${f(row.sublabel ? cy - 1 : cy + 4)}" font-size="13" font-weight="bold" fill="#1a202c" text-anchor="end">${escapeXml(row.label)}</text>`);
    if (row.sublabel) o.push(`<text x="${labelW}" y="${f(cy + 12)}" font-size="10" fill="#718096" text-anchor="end">${escapeXml(row.sublabel)}</text>`);
    row.values.forEach((v, i) => {
      const by = y + i * (barH + barGap);
      const color = seriesColor(v.series, series.indexOf(v.series));
      o.push(`<rect x="${latX}" y="${f(by)}" width="${f(Math.max(1, sx(v.median) - latX))}" height="${barH}" fill="${color}"><title>${escapeXml(`${row.label} ${v.series}: median ${fmtMs(v.median)} ms, p10 ${fmtMs(v.p10)}, p90 ${fmtMs(v.p90)}`)}</title></rect>`);
      const wy = by + barH / 2;
      o.push(`<line x1="${f(sx(v.p10))}" y1="${f(wy)}" x2="${f(sx(v.p90))}" y2="${f(wy)}" stroke="#1a202c" stroke-width="1.2"/>`);
      o.push(`<line x1="${f(sx(v.p10))}" y1="${f(wy - 4)}" x2="${f(sx(v.p10))}" y2="${f(wy + 4)}" stroke="#1a202c" stroke-width="1.2"/>`);
      o.push(`<line x1="${f(sx(v.p90))}" y1="${f(wy - 4)}" x2="${f(sx(v.p90))}" y2="${f(wy + 4)}" stroke="#1a202c" stroke-width="1.2"/>`);
      const labelX = Math.max(sx(v.median), sx(v.p90)) + 6;
      o.push(`<text x="${f(labelX)}" y="${f(by + barH - 3)}" font-size="11" fill="#1a202c">${fmtMs(v.median)}${v.noisy ? ' (noisy)' : ''}</text>`);
    });
    const g = row.macs / 1e9;
    const my = y + h / 2 - barH / 2;
    o.push(`<rect x="${macX}" y="${f(my)}" width="${f(Math.max(1, mx(g) - macX))}" height="${barH}" fill="#a0aec0"/>`);
    o.push(`<text x="${f(mx(g) + 6)}" y="${f(my + barH - 3)}" font-size="11" fill="#1a202c">${g >= 0.1 ? g.toFixed(2) : g.toPrecision(2)}</text>`);
    y += rowH(row);
  }
  if (chart.footnote) o.push(`<text x="20" y="${height - 12}" font-size="11" fill="#718096">${escapeXml(chart.footnote)}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}
