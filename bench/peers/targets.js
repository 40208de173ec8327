'use strict';
// The per-layer targets, checked on one bench:peers run (2-thread rows unless
// stated): the grouped-kernel ones against ORT, and against PyTorch's
// F.conv2d where PyTorch ran. Each entry: {target, met, detail}; a target with no measured row is
// reported as not met ("not measured"), never as met.

const SMALL = ['conv3x3 128@56 g32', 'conv3x3 256@28 g32', 'conv3x3 256@56/s2 g32'];
const LARGE = ['conv3x3 512@14 g32', 'conv3x3 1024@7 g32'];

function check(target, rows, ok, show) {
  if (rows.length === 0) return { target, met: false, detail: 'not measured' };
  const bad = rows.filter((r) => !ok(r));
  const detail = rows.map((r) => `${r.case} N${r.N} ${show(r)}${ok(r) ? '' : ' (!)'}`).join('; ');
  return { target, met: bad.length === 0, detail };
}

function evaluate(results) {
  const ok = results.filter((r) => !r.error);
  const t2 = ok.filter((r) => r.threads === 2);
  const ratio = (r) => `${r.ratio.toFixed(2)}x`;
  const out = [];
  out.push(
    check(
      'grouped 3x3, 4 and 8 channels per group, >= 3x ORT',
      t2.filter((r) => SMALL.includes(r.case)),
      (r) => r.ratio >= 3,
      ratio,
    ),
  );
  out.push(
    check(
      'grouped 3x3, 16 and 32 per group, batch 1, >= 1.5x ORT',
      t2.filter((r) => LARGE.includes(r.case) && r.N === 1),
      (r) => r.ratio >= 1.5,
      ratio,
    ),
  );
  out.push(
    check(
      'grouped 3x3, 16 and 32 per group, batch 8, >= 1.2x ORT',
      t2.filter((r) => LARGE.includes(r.case) && r.N === 8),
      (r) => r.ratio >= 1.2,
      ratio,
    ),
  );
  out.push(
    check(
      'every ResNeXt-50 grouped layer >= 35% of peak',
      t2.filter((r) => SMALL.includes(r.case) || LARGE.includes(r.case)),
      (r) => r.ours.pctPeak >= 35,
      (r) => `${r.ours.pctPeak.toFixed(0)}%`,
    ),
  );
  out.push(
    check(
      'dense 3x3 >= 1.0x ORT',
      t2.filter((r) => r.kind === 'dense3x3'),
      (r) => r.ratio >= 1.0,
      ratio,
    ),
  );
  out.push(
    check(
      '1x1 >= 1.0x ORT',
      t2.filter((r) => r.kind === 'conv1x1'),
      (r) => r.ratio >= 1.0,
      ratio,
    ),
  );
  out.push(
    check(
      'stem >= 1.0x ORT',
      t2.filter((r) => r.kind === 'stem'),
      (r) => r.ratio >= 1.0,
      ratio,
    ),
  );
  out.push(
    check(
      'depthwise >= 2x ORT',
      t2.filter((r) => r.kind === 'depthwise'),
      (r) => r.ratio >= 2,
      ratio,
    ),
  );
  // Thread scaling of ours on every batch-8 case measured at both 1 and 2 threads.
  const scaling = [];
  for (const r of t2.filter((x) => x.N === 8)) {
    const one = ok.find((x) => x.threads === 1 && x.N === 8 && x.case === r.case);
    if (one) scaling.push({ ...r, scale: one.ours.medianMs / r.ours.medianMs });
  }
  out.push(
    check(
      'thread scaling, batch 8: 2 threads >= 1.7x 1 thread (ours)',
      scaling,
      (r) => r.scale >= 1.7,
      (r) => `${r.scale.toFixed(2)}x`,
    ),
  );
  // Every grouped 3x3 layer of ResNeXt-50 32x4d (stride 1 and 2), batch 1 and 8.
  const rx50 = t2.filter((r) => r.net === 'resnext50_32x4d' && r.kind.startsWith('grouped'));
  const withTorch = rx50.filter((r) => r.torch);
  const torchNote = (rows) => (rows.length ? null : 'not measured (no 2-thread row with PyTorch)');
  const torchCheck = (target, rows, ok, show) => {
    const c = check(target, rows, ok, show);
    if (torchNote(rows)) c.detail = torchNote(rows);
    return c;
  };
  out.push(
    torchCheck(
      'every ResNeXt-50 grouped 3x3 layer, batch 1 and 8, >= 1.5x PyTorch F.conv2d (prepared plan)',
      withTorch,
      (r) => r.torchRatio >= 1.5,
      (r) => `${r.torchRatio.toFixed(2)}x`,
    ),
  );
  // Where a row misses, what 3x would take: ORT's time / 3 as a share of the FMA peak for the layer's direct
  // multiply-adds (above 100%: beyond direct convolution; Winograd F(2x2) and F(4x4) save up to 2.25x and 4x
  // of the multiplies at stride 1, before their transforms).
  const need3 = (r) => (r.ratio >= 3 || !r.ort?.pctPeak ? ratio(r) : `${ratio(r)}, 3x needs ${(3 * r.ort.pctPeak).toFixed(0)}% pk`);
  out.push(check('every ResNeXt-50 grouped 3x3 layer, batch 1 and 8, >= 3x ORT', rx50, (r) => r.ratio >= 3, need3));
  out.push(
    torchCheck(
      'one-shot conv2d() on every ResNeXt-50 grouped 3x3 layer, batch 1, >= 1.0x PyTorch F.conv2d',
      withTorch.filter((r) => r.N === 1),
      (r) => r.oneShotTorchRatio >= 1.0,
      (r) => `${r.oneShotTorchRatio.toFixed(2)}x`,
    ),
  );
  const errors = results.filter((r) => r.error);
  out.push({
    target: 'every case ran and matched the float64 reference',
    met: errors.length === 0,
    detail: errors.length ? errors.map((r) => `${r.case} N${r.N} t${r.threads}: ${r.error}`).join('; ') : `${results.length} rows`,
  });
  return out;
}

module.exports = { evaluate };
