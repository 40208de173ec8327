#!/usr/bin/env node
// npm run test:asan: the CPU addon built with AddressSanitizer +
// UndefinedBehaviorSanitizer (scripts/build-cuda.js --asan, into build-asan/),
// then the test suites that reach native code and a fuzz run, with the
// sanitizer runtimes preloaded into Node (LD_PRELOAD) and the package pointed
// at the sanitized addon (RESNEXT_ADDON_PATH). Leak detection is off for Node
// itself (V8 and Node keep allocations until exit by design). Every report
// goes to a log file under build-asan/reports/; the run fails when a suite
// fails or any report was written, and prints the time each part took.
//
//   node scripts/test-asan.js [--skip-build] [--fuzz-calls N] [vitest file filters...]
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const filters = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--fuzz-calls'));

// The suites that call into the CPU addon. Left out: pure TypeScript ones
// (CLI parsing, SVG, statistics, the reference backend, complexity figures,
// weight-file parsers), the CUDA ones (their addon is not sanitized) and the
// packaging ones (install, package, readme: they build or pack the package
// and would load the unsanitized addon from the packed copy).
const NATIVE_SUITES = [
  'test/conv2d.test.ts',
  'test/conv2d_oneshot_cache.test.ts',
  'test/conv2d_tune.test.ts',
  'test/async.test.ts',
  'test/pooling.test.ts',
  'test/network_plan.test.ts',
  'test/thread_pool_wait.test.ts',
  'test/classify.test.ts',
  'test/onnx.test.ts',
  'test/state_dict.test.ts',
  'test/errors.test.ts',
  'test/error_model.test.ts',
  'test/layers.test.ts',
  'test/thread_pool.test.ts',
  'test/cpu_gemm_kernels.test.ts',
  'test/cpu_blocked_kernels.test.ts',
  'test/cpu_grouped_kernels.test.ts',
  'test/cpu_winograd_kernels.test.ts',
  'test/cpu_winograd_s2_kernels.test.ts',
  'test/cpu_winograd_grouped_kernels.test.ts',
  'test/cpu_winograd43_otf_kernels.test.ts',
  'test/cpu_winograd22_otf_kernels.test.ts',
  'test/nonfinite.test.ts',
  'test/models_forward.test.ts',
  'test/network_tune.test.ts',
  'test/network_blocked.test.ts',
  'test/safetensors.test.ts',
  'test/tensor.test.ts',
  'test/lifetimes.test.ts',
  'test/fuzz.test.ts',
];

function step(name, fn) {
  const t0 = Date.now();
  const ok = fn();
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`test:asan: ${name}: ${ok ? 'ok' : 'FAILED'} in ${s} s`);
  return ok;
}

function runtime(lib) {
  const p = execFileSync(process.env.CXX_FOR_ASAN || 'gcc', [`-print-file-name=${lib}`], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(p) || !fs.existsSync(p)) throw new Error(`${lib} not found (gcc -print-file-name=${lib} gave ${p})`);
  return fs.realpathSync(p);
}

const t0 = Date.now();
const addon = path.join(root, 'build-asan', 'Release', 'resnext.node');
let ok = true;
if (!flag('--skip-build'))
  ok = step(
    'build (build-asan/)',
    () => spawnSync(process.execPath, [path.join(__dirname, 'build-cuda.js'), '--asan'], { stdio: 'inherit' }).status === 0,
  );
if (!ok || !fs.existsSync(addon)) {
  console.error(`test:asan: ${addon} was not built`);
  process.exit(1);
}
const reports = path.join(root, 'build-asan', 'reports');
fs.rmSync(reports, { recursive: true, force: true });
fs.mkdirSync(reports, { recursive: true });
const env = {
  ...process.env,
  LD_PRELOAD: [runtime('libasan.so'), runtime('libubsan.so'), process.env.LD_PRELOAD].filter(Boolean).join(' '),
  ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${path.join(reports, 'asan')}`,
  UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${path.join(reports, 'ubsan')}`,
  RESNEXT_ADDON_PATH: addon,
};

const suites = filters.length > 0 ? filters : NATIVE_SUITES;
ok =
  step(`vitest (${suites.length} suites)`, () => {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...suites], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    return r.status === 0;
  }) && ok;
const calls = value('--fuzz-calls', '20000');
ok =
  step(`fuzz (${calls} calls, main thread + 2 workers)`, () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'fuzz.js'), '--calls', calls, '--workers', '2'], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    return r.status === 0;
  }) && ok;
const written = fs.readdirSync(reports);
console.log(
  `test:asan: ${written.length} sanitizer report(s)${written.length ? ': ' + written.map((f) => path.join('build-asan', 'reports', f)).join(', ') : ''}`,
);
console.log(`test:asan: total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(ok && written.length === 0 ? 0 : 1);
