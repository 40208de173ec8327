#!/usr/bin/env node
// Merges the GPU check's pieces into results.json and results.md: per layer,
// batch and dtype the time of ours ('cuda'), cuDNN through our addon ('cudnn')
// and PyTorch, the ratios, the fraction of the HBM roofline, the PyTorch
// cross-check, the test summary, and the issue's targets marked met or not.
//
// Whole resnext50_32x4d forwards (bench_network.js) are set against PyTorch
// eager's (bench_torch.py --network) for the network targets.
//
//   node bench/gpu/report.js --ours ours.json --torch torch.json [--network network.json] --tests tests.log --env env.txt --out DIR
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { LAYERS, minBytes } = require('./layers');

const args = process.argv.slice(2);
const opt = (n) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : undefined;
};
const readJson = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return null;
  }
};
const readText = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

// H200 HBM3e peak bandwidth (spec sheet); the measured device-to-device copy
// on these machines was about 4.3 TB/s (counting read + write).
const HBM_BYTES_PER_S = 4.8e12;

const ours = readJson(opt('--ours')) || { results: [] };
const torch = readJson(opt('--torch')) || { results: [] };
const net = readJson(opt('--network')) || { items: [] };
const testsLog = readText(opt('--tests'));
const env = readText(opt('--env'));
const outDir = opt('--out') || '.';

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const testLine =
  stripAnsi(testsLog)
    .split('\n')
    .find((l) => /^\s*Tests\s+/.test(l)) || '';
const num = (re) => {
  const m = testLine.match(re);
  return m ? Number(m[1]) : 0;
};
const tests = { summary: testLine.trim(), passed: num(/(\d+) passed/), failed: num(/(\d+) failed/), skipped: num(/(\d+) skipped/) };

const find = (rows, layer, batch, dtype, impl) =>
  rows.find((r) => r.layer === layer && r.batch === batch && r.dtype === dtype && r.impl === impl);

const table = [];
for (const l of LAYERS) {
  for (const batch of [1, 32]) {
    for (const dtype of ['float32', 'float16', 'bfloat16']) {
      const o = find(ours.results, l.name, batch, dtype, 'cuda');
      const c = find(ours.results, l.name, batch, dtype, 'cudnn');
      const t = find(torch.results, l.name, batch, dtype, 'torch');
      const row = {
        layer: l.name,
        batch,
        dtype,
        ours_us: o && o.us,
        ours_kernel: o && o.info && o.info.impl,
        cudnn_us: c && c.us,
        torch_us: t && t.us,
        ours_error: o && o.error,
        cudnn_error: c && c.error,
      };
      if (dtype === 'float32') {
        const t32 = find(torch.results, l.name, batch, dtype, 'torch-tf32');
        row.torch_tf32_us = t32 && t32.us;
      }
      if (row.ours_us && row.cudnn_us) row.speedup_vs_cudnn = row.cudnn_us / row.ours_us;
      if (row.ours_us && row.torch_us) row.speedup_vs_torch = row.torch_us / row.ours_us;
      if (row.ours_us) row.ours_hbm_fraction = minBytes(l, batch, dtype) / (row.ours_us * 1e-6) / HBM_BYTES_PER_S;
      table.push(row);
    }
  }
}

const measured = table.filter((r) => r.ours_us && r.cudnn_us);
// null when nothing was measured (no GPU, or every run failed): neither met nor missed.
const allOf = (rows, pred) => (rows.length === 0 ? null : rows.every(pred));
const targets = {
  batch1_at_least_2x_cudnn: allOf(
    measured.filter((r) => r.batch === 1),
    (r) => r.speedup_vs_cudnn >= 2,
  ),
  batch32_at_least_1x_cudnn: allOf(
    measured.filter((r) => r.batch === 32),
    (r) => r.speedup_vs_cudnn >= 1,
  ),
  bf16_batch32_at_least_60pct_hbm: allOf(
    table.filter((r) => r.batch === 32 && r.dtype === 'bfloat16' && r.ours_us),
    (r) => r.ours_hbm_fraction >= 0.6,
  ),
};

// Network targets: our best backend (cuda or cudnn) against PyTorch eager, same dtype and batch.
const netItems = (net.items || []).filter((i) => i.us && !i.error);
const tn = torch.network || {};
const best = (pred, key) => {
  const rows = netItems.filter(pred);
  return rows.length ? rows.reduce((a, b) => (b[key] < a[key] ? b : a)) : null;
};
const ours256 = best((i) => i.batch === 256 && i.dtype === 'float16', 'us');
targets.resnext50_fp16_batch256_at_least_torch_eager =
  ours256 && tn.fp16_batch256 && tn.fp16_batch256.us ? ours256.us <= tn.fp16_batch256.us : null;
const lat = {};
for (const dtype of ['float32', 'float16']) {
  const t = tn[dtype === 'float32' ? 'fp32_batch1' : 'fp16_batch1'];
  const o = best((i) => i.batch === 1 && i.dtype === dtype, 'us');
  lat[dtype] = { ours: o, torch_us: t && t.us };
  targets[`resnext50_${dtype}_batch1_latency_at_most_torch`] = o && t && t.us ? o.us <= t.us : null;
}

const results = {
  env,
  probe: ours.probe,
  torchEnv: torch.env,
  tests,
  layers: table,
  xcheck: torch.xcheck || [],
  network: torch.network || null,
  ourNetwork: { items: net.items || [], crossChecks: net.crossChecks || [], skipped: net.skipped || [], error: net.error },
  targets,
};
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1));

const f = (v, d = 2) => (typeof v === 'number' ? v.toFixed(d) : '-');
const md = [];
md.push('# GPU check: grouped 3x3 layers of ResNeXt-50 (32x4d)', '');
md.push('Device and software:', '', '```', env.trim(), '```', '');
md.push(`Tests (test/cuda.test.ts): ${tests.summary || 'no summary line found'}`, '');
md.push('Time per run in microseconds (median of 5 repeats; each repeat queues many runs and synchronizes once, so the host');
md.push('enqueue cost is included). ours = `cuda` backend, cudnn = cuDNN through our addon, torch = `F.conv2d` channels_last');
md.push('(float32 with TF32 off; TF32 on in its own column). HBM = minimum bytes moved / time / 4.8 TB/s.', '');
md.push('| layer | N | dtype | ours (kernel) | cudnn | torch | torch tf32 | ours vs cudnn | ours vs torch | ours HBM |');
md.push('|---|---|---|---|---|---|---|---|---|---|');
for (const r of table) {
  md.push(
    `| ${r.layer} | ${r.batch} | ${r.dtype} | ${r.ours_error ? 'error' : `${f(r.ours_us)} (${r.ours_kernel || '?'})`} | ${r.cudnn_error ? 'error' : f(r.cudnn_us)} | ${f(r.torch_us)} | ${f(r.torch_tf32_us)} | ${f(r.speedup_vs_cudnn)}x | ${f(r.speedup_vs_torch)}x | ${r.ours_hbm_fraction ? (100 * r.ours_hbm_fraction).toFixed(0) + '%' : '-'} |`,
  );
}
md.push('', 'Targets (issue 6):', '');
for (const [k, v] of Object.entries(targets))
  md.push(`- ${k}: ${v === true ? 'met' : v === false ? 'NOT met' : v === null ? 'not measured' : v}`);
if (results.xcheck.length) {
  md.push('', 'Cross-check against PyTorch (float64) at batch 1, float32, normwise relative error:', '');
  for (const x of results.xcheck) md.push(`- ${x.layer} ${x.impl}: ${x.relErr.toExponential(2)}`);
}
if (results.network) {
  md.push('', 'PyTorch eager resnext50_32x4d (channels_last), for reference:', '');
  for (const [k, v] of Object.entries(results.network))
    md.push(`- ${k}: ${v && v.us ? (v.us / 1e3).toFixed(3) + ' ms' : JSON.stringify(v)}`);
}
if ((net.items || []).length || net.error) {
  md.push(
    '',
    'Our resnext50_32x4d on the GPU (model.forward, input on the device; "queued" = bench_torch.py\'s method, "awaited" = one forward waited to host logits):',
    '',
  );
  if (net.error) md.push(`- error: ${net.error}`);
  md.push('| run | queued ms | awaited ms | images/s | PyTorch eager ms |', '|---|---|---|---|---|');
  for (const i of net.items || []) {
    const tk = i.batch === 256 ? 'fp16_batch256' : i.dtype === 'float32' ? 'fp32_batch1' : 'fp16_batch1';
    const t = tn[tk];
    md.push(
      `| ${i.name} | ${i.error ? 'error: ' + i.error : f(i.us / 1e3, 3)} | ${i.latency_us ? f(i.latency_us / 1e3, 3) : '-'} | ${i.us ? f((i.batch * 1e6) / i.us, 0) : '-'} | ${t && t.us ? f(t.us / 1e3, 3) : '-'} |`,
    );
  }
  for (const c of net.crossChecks || []) md.push(`- cross-check ${c.a} vs ${c.b}: ${c.relErr.toExponential(2)}`);
  for (const sk of net.skipped || []) md.push(`- skipped ${sk}`);
}
const errors = [...ours.results].filter((r) => r.error);
if (errors.length) {
  md.push('', 'Errors:', '');
  for (const e of errors) md.push(`- ${e.layer} N=${e.batch} ${e.dtype} ${e.impl}: ${e.error}`);
}
fs.writeFileSync(path.join(outDir, 'results.md'), md.join('\n') + '\n');
console.log(md.join('\n'));
