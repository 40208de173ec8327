'use strict';
// What the A/B network benchmarks share (ab_builds.js: two builds of the
// package; inplace_ab.js: in-place residuals on and off in one build): the
// argument reader, the median, the pause between runs, the kind of a profile
// step, the interleaved rounds of model.profile() and the table of per-kind
// sums. Writes nothing.

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};

const med = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};

// A thread pool keeps spinning briefly after a run: each timed run waits first.
const settle = () => new Promise((r) => setTimeout(r, 100));

// The kind of a profile step: 1x1 convs by input size (conv1; conv3, which adds the residual; the projection
// shortcut), the rest by name.
function kind(s) {
  if (s.op === 'reorder') return 'reorders';
  if (s.op !== 'conv') return s.name;
  const at = `@${s.inputShape[2]}`;
  if (/downsample/.test(s.name)) return `1x1 ${at} (shortcut)`;
  if (/conv3$/.test(s.name)) return `1x1 ${at} +res`;
  if (/conv1$/.test(s.name) && s.name.includes('.')) return `1x1 ${at}`;
  if (/conv2$/.test(s.name)) return `3x3 ${at}`;
  return s.name === 'conv1' ? 'stem' : s.name;
}

/**
 * Runs `rounds` rounds of engine.run() (a model.profile() result) per engine, in alternating order, each after
 * settle() (a run after an idle gap: the pool's threads asleep), or with `warm` after settle() and one untimed
 * run (back to back with it, as bench:networks times). Returns per label the per-round Maps kind -> ms and
 * whole-forward times, and the last impl per `${label} ${kind}`.
 */
async function profileRounds(engines, rounds, warm = false) {
  const sums = Object.fromEntries(engines.map((e) => [e.label, []]));
  const whole = Object.fromEntries(engines.map((e) => [e.label, []]));
  const impls = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const e of r % 2 ? [...engines].reverse() : engines) {
      await settle();
      if (warm) await e.run();
      const p = await e.run();
      const m = new Map();
      for (const s of p.steps) {
        const k = kind(s);
        m.set(k, (m.get(k) ?? 0) + s.ms);
        if (s.impl) impls.set(`${e.label} ${k}`, s.impl);
      }
      sums[e.label].push(m);
      whole[e.label].push(p.totalMs);
    }
  }
  return { sums, whole, impls };
}

/**
 * Prints the per-kind table of a/b (the medians of the per-round sums and the median of the per-round ratios
 * a/b), kinds by a's time, then the whole forward. implOf(kind): an extra column when given.
 */
function printKinds(title, a, b, { sums, whole }, implOf = null) {
  console.log(`\n## ${title}\n`);
  console.log(`| step kind |${implOf ? ` ${b} impl |` : ''} ${a} ms | ${b} ms | ${a}/${b} (median of per-round ratios) |`);
  console.log(`|---|${implOf ? '---|' : ''}---:|---:|---:|`);
  const kinds = [...sums[b][0].keys()].sort((x, y) => med(sums[a].map((m) => m.get(y))) - med(sums[a].map((m) => m.get(x))));
  for (const k of kinds) {
    const o = sums[a].map((m) => m.get(k) ?? 0),
      n = sums[b].map((m) => m.get(k) ?? 0);
    const impl = implOf ? ` ${implOf(k)} |` : '';
    console.log(`| ${k} |${impl} ${med(o).toFixed(2)} | ${med(n).toFixed(2)} | ${med(o.map((v, i) => v / n[i])).toFixed(3)} |`);
  }
  const ratio = med(whole[a].map((v, i) => v / whole[b][i]));
  console.log(
    `| **whole forward** |${implOf ? ' |' : ''} ${med(whole[a]).toFixed(2)} | ${med(whole[b]).toFixed(2)} | ${ratio.toFixed(3)} |`,
  );
}

module.exports = { arg, med, settle, kind, profileRounds, printKinds };
