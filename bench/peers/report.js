'use strict';
// Markdown for a bench:peers run: the machine and versions, the peak, one
// table row per (case, batch, threads), and the per-layer targets.

const f = (v, d = 3) =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(d)) : '-';

function markdown(doc) {
  const m = doc.machine;
  const lines = [];
  lines.push('# bench:peers: resnext vs onnxruntime-node and PyTorch, fp32 NCHW convolutions');
  lines.push('');
  lines.push(`Generated ${m.date} by \`npm run bench:peers${doc.args.cases ? ` -- --cases '${doc.args.cases.slice(1, -1)}'` : ''}\`.`);
  lines.push('');
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, SIMD level in use: ${m.simd}. Node ${m.node}, ${m.gxx}.`);
  lines.push(
    `Versions: resnext ${m.resnext}, onnxruntime-node ${m.onnxruntimeNode}, ` +
      (m.torch ? `PyTorch ${m.torch} (F.conv2d, torch.set_num_threads = the thread count).` : `PyTorch not measured: ${m.torchNote}.`),
  );
  lines.push(
    `Load average (1 min, all processes; 2 cores) at the start ${m.loadAvgStart} and the end ${m.loadAvgEnd}: above about 0.5, other processes shared the cores and 2-thread timings are noisy.`,
  );
  lines.push('');
  lines.push(
    'Measured peak (bench/peak/peak.cc, g++ -O3, best of a measurement before and one after the cases): ' +
      m.peak.fma.map((r) => `${r.isa} ${r.threads}t ${r.gflops_best} GFLOP/s`).join(', ') +
      '; copy ' +
      m.peak.copy.map((r) => `${r.threads}t ${r.gbps_best} GB/s`).join(', ') +
      '. "% pk" is of the best fp32 FMA figure at that thread count.',
  );
  lines.push('');
  lines.push(
    "Method: both peers in one process, interleaved in 6 rounds (each block of timed calls preceded by 60 ms idle, so the other peer's spinning workers have gone quiet: ORT's spin for about 40 ms after a run, then untimed calls for at least 5 ms, since the first calls after a sleep run slower while threads and cores wake up), after 3 warm-up calls each, same thread count " +
      '(ours: setNumThreads; ORT: intraOpNumThreads, sequential, graph optimisations on), steady state (input and output buffers ' +
      'allocated once; ORT called through its native session synchronously with a preallocated output). Bias on. ' +
      'Both outputs (image 0) checked against the float64 reference (max abs error / max |ref| <= 1e-4) before timing. ' +
      'GFLOP/s = 2*N*K*P*Q*(C/groups)*R*S / median (direct-convolution FLOPs for every kernel: winograd_* does 2.25x fewer multiplies, so its GFLOP/s and % pk can pass the FMA peak). ours/ORT = ORT median / ours median (> 1: ours faster); the targets use it. ' +
      '"by CPU time" = ORT / ours process CPU time per call (median over blocks, all threads, spin-waiting included): with 1 thread it is ' +
      "each peer's own compute time, little affected by other processes on a busy machine; with 2 threads it also counts idle spinning. " +
      '"tries": a row whose peers\' median/min spread passed 1.15 (this VM\'s host takes a core away at times; undisturbed rows stay within a few percent) ' +
      'was measured again, both peers together, up to 3 tries, and the try with the smallest spread is shown. ' +
      '"2nd pass": a 2-thread row in which both peers ran under 1.5x their own 1-thread speed (a core lost for the whole row, which leaves the spread small) ' +
      'was measured again after all the cases, up to twice, keeping the try in which the worse-scaling peer scaled best.',
  );
  lines.push('');
  lines.push(
    'PyTorch and one-shot: "torch" is F.conv2d(x, w, b, ...) under torch.no_grad() in a child process (/usr/bin/python3), timed the same way and interleaved ' +
      'in the same rounds; it is one-shot (reorders the weights and allocates the output on every call). "ours one-shot" is conv2d(x, w, opts) ' +
      '(a new output each call; its plan cache reuses the packed weights while they are unchanged), the call comparable to F.conv2d; ' +
      '"ours" is a prepared conv2dPlan run into a preallocated output. ours/torch = torch median / ours median.',
  );
  lines.push('');
  lines.push(
    'Timing modes: "back-to-back" = the medians above (timed calls follow each other after a warm-up). "after a gap" = median of ' +
      `${'calls each preceded by a 20 ms sleep'} (threads go idle; the first call pays their wake-up), 2 interleaved rounds of 4 calls per peer. ` +
      'Where a ratio differs by more than 15% between the two modes, both are listed under "modes disagree".',
  );
  lines.push('');
  lines.push(
    '| case | N | thr | MFLOP | ours median (min) ms | ours GFLOP/s | ours % pk | ORT median (min) ms | ORT GFLOP/s | ORT % pk | ours/ORT | ours/ORT by CPU time | torch median (min) ms | ours/torch | ours one-shot ms | one-shot/torch | after a gap: ours / one-shot / ORT / torch ms | modes disagree | tries | our kernel |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of doc.results) {
    if (r.error) {
      lines.push(
        `| ${r.case} | ${r.N} | ${r.threads} | ${f(r.mflop)} | error: ${r.error.replace(/\|/g, '/')} | | | | | | | | | | | | | | | ${r.oursImpl ?? ''} |`,
      );
      continue;
    }
    lines.push(
      `| ${r.case} | ${r.N} | ${r.threads} | ${f(r.mflop)} | ${f(r.ours.medianMs)} (${f(r.ours.minMs)}) | ${f(r.ours.gflops)} | ${f(r.ours.pctPeak)} | ` +
        `${f(r.ort.medianMs)} (${f(r.ort.minMs)}) | ${f(r.ort.gflops)} | ${f(r.ort.pctPeak)} | **${r.ratio.toFixed(2)}x** | ${r.cpuRatio.toFixed(2)}x | ` +
        (r.torch ? `${f(r.torch.medianMs)} (${f(r.torch.minMs)}) | **${r.torchRatio.toFixed(2)}x** | ` : '- | - | ') +
        (r.oneShot ? `${f(r.oneShot.medianMs)} | ` : '- | ') +
        (r.torch ? `**${r.oneShotTorchRatio.toFixed(2)}x** | ` : '- | ') +
        `${['ours', 'oneShot', 'ort', 'torch'].map((k) => (r[k] ? f(r[k].gapMedianMs) : '-')).join(' / ')} | ` +
        `${(r.modesDisagree ?? []).join('; ') || '-'} | ${r.attempts ?? 1}${r.retried ? ', 2nd pass' : ''} | ${r.oursImpl} |`,
    );
  }
  lines.push('');
  lines.push('## Targets');
  lines.push('');
  for (const t of doc.targets) lines.push(`- ${t.met ? 'MET' : '**NOT MET**'}: ${t.target}. ${t.detail}`);
  lines.push('');
  return lines.join('\n');
}

module.exports = { markdown };
