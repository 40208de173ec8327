#!/usr/bin/env node
// The package as a user gets it: `npm pack` (prepack builds the prebuilt addon),
// then in a fresh temporary folder `npm install --ignore-scripts
// --prefer-offline <tarball>` (no install script, so no compiler, runs; the
// dependencies come from the npm cache where it holds what this npm asks for,
// else from the registry: npm 11.19 asks for full packuments, which `npm ci`
// does not cache, so `--offline` failed with ENOTCACHED on a fresh machine), then:
//   - require('resnext') and import 'resnext' (named and default) both work;
//   - conv2d runs on the native cpu backend (backends() says so, plan.info()
//     names the cpu backend, and it is at least 5x faster than the reference);
//   - `npx resnext info` runs and names the loaded addon file;
//   - tsc --strict type-checks a consumer .ts and .mts with moduleResolution
//     node16 and bundler, without @types/node (including @ts-expect-error
//     checks that a rank-3 conv2d input and a wrong forward() type are errors).
// Prints the tarball size, the install time and the addon path it loaded.
//
//   node scripts/consumer-test.js [--tarball file.tgz] [--keep]
//
// RESNEXT_CUDA defaults to 0 here, so prepack skips the (slow) CUDA prebuild.
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const tarballArg = argv.includes('--tarball') ? path.resolve(argv[argv.indexOf('--tarball') + 1]) : null;
const npm = process.env.npm_execpath
  ? { cmd: process.execPath, pre: [process.env.npm_execpath] }
  : { cmd: process.platform === 'win32' ? 'npm.cmd' : 'npm', pre: [] };
const started = Date.now();
const timings = {};

function step(name, fn) {
  const t0 = Date.now();
  const out = fn();
  timings[name] = (Date.now() - t0) / 1000;
  console.log(`consumer-test: ${name} ok (${timings[name].toFixed(1)} s)`);
  return out;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    throw new Error(
      `${path.basename(cmd)} ${args.join(' ')} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-consumer-'));
try {
  const tarball =
    tarballArg ??
    step('npm pack', () => {
      const out = run(npm.cmd, [...npm.pre, 'pack', '--json', '--pack-destination', tmp], {
        cwd: root,
        env: { ...process.env, RESNEXT_CUDA: process.env.RESNEXT_CUDA ?? '0' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const info = JSON.parse(out.slice(out.indexOf('[')))[0];
      const prebuilt = info.files.filter((f) => f.path.startsWith('prebuilds/')).map((f) => f.path);
      console.log(
        `consumer-test: ${info.filename}: ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked, ${info.entryCount} files; prebuilds: ${prebuilt.join(', ') || 'none'}`,
      );
      if (!prebuilt.some((p) => p.startsWith(`prebuilds/${process.platform}-${process.arch}/`))) {
        throw new Error(`the tarball has no prebuilds/${process.platform}-${process.arch}/ addon`);
      }
      return path.join(tmp, info.filename);
    });

  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'resnext-consumer', private: true, version: '1.0.0' }));
  step('npm install --ignore-scripts --prefer-offline', () =>
    run(npm.cmd, [...npm.pre, 'install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: app,
    }),
  );

  // CommonJS: native cpu backend, timing sanity, the addon path.
  fs.writeFileSync(
    path.join(app, 'check.cjs'),
    `const assert = require('node:assert');
const r = require('resnext');
const cpu = r.backends().find((b) => b.name === 'cpu');
assert.ok(cpu && cpu.available, 'cpu backend unavailable: ' + (cpu && cpu.reason));
const x = r.randn([1, 128, 28, 28], { seed: 1 });
const w = r.randn([128, 4, 3, 3], { seed: 2 });
const plan = r.conv2dPlan(w, { groups: 32, padding: 1 });
assert.strictEqual(plan.info().backend, 'cpu');
const time = (f) => { f(); const t0 = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t0) / 1e6; };
const tNative = time(() => plan.run(x).dispose());
const tRef = time(() => r.conv2d(x, w, { groups: 32, padding: 1, backend: 'reference' }).dispose());
assert.ok(tNative * 5 < tRef, 'cpu ' + tNative + ' ms is not 5x faster than reference ' + tRef + ' ms');
const addon = Object.keys(require.cache).find((k) => k.endsWith('.node') && !k.endsWith('resnext_cuda.node'));
console.log(JSON.stringify({ addon, tNative, tRef, impl: plan.info().impl }));
`,
  );
  const cjs = step('require + conv2d on the native cpu backend', () => JSON.parse(run(process.execPath, ['check.cjs'], { cwd: app })));
  const rel = path.relative(app, cjs.addon);
  console.log(
    `consumer-test: loaded ${rel}; conv2d [1,128,28,28] groups 32: cpu ${cjs.tNative.toFixed(2)} ms (${cjs.impl}), reference ${cjs.tRef.toFixed(1)} ms`,
  );
  if (!rel.startsWith(path.join('node_modules', 'resnext', 'prebuilds'))) throw new Error(`expected the prebuilt addon, loaded ${rel}`);

  // ESM: named and default imports, one implementation.
  fs.writeFileSync(
    path.join(app, 'check.mjs'),
    `import assert from 'node:assert';
import { createRequire } from 'node:module';
import resnext, { conv2d, randn, Tensor, backends } from 'resnext';
const x = randn([1, 8, 5, 5]);
const y = conv2d(x, randn([8, 2, 3, 3]), { groups: 4 });
assert.deepStrictEqual([...y.shape], [1, 8, 3, 3]);
assert.ok(y instanceof createRequire(import.meta.url)('resnext').Tensor);
assert.strictEqual(resnext.Tensor, Tensor);
assert.ok(backends().find((b) => b.name === 'cpu').available);
`,
  );
  step('import (ESM)', () => run(process.execPath, ['check.mjs'], { cwd: app }));

  // The README's quick start, as written, from the installed package's README.
  const readme = fs.readFileSync(path.join(app, 'node_modules', 'resnext', 'README.md'), 'utf8');
  const quick = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
  if (!quick) throw new Error('the packed README has no ```js block under "## Quick start"');
  fs.writeFileSync(path.join(app, 'quickstart.js'), quick[1]);
  step("README's quick start", () => run(process.execPath, ['quickstart.js'], { cwd: app }));

  const info = step('npx resnext info', () =>
    run(npm.cmd, [...npm.pre, 'exec', '--offline', '--', 'resnext', 'info', '--json'], { cwd: app }),
  );
  const machine = JSON.parse(info);
  if (!machine.addons || machine.addons.cpu !== cjs.addon)
    throw new Error(`resnext info names another cpu addon than ${cjs.addon}:\n${info}`);

  // Types: strict, no @types/node, node16 (CJS .ts and ESM .mts) and bundler.
  const consumerTs = `import { conv2d, conv2dPlan, randn, resnext50_32x4d, type Conv2dPlanInfo, type Tensor } from 'resnext';
const x = randn([1, 8, 5, 5]);
const w = randn([8, 2, 3, 3]);
const y: Tensor<readonly [number, number, number, number]> = conv2d(x, w, { groups: 4 });
// @ts-expect-error conv2d takes rank-4 tensors
conv2d(randn([8, 5, 5]), w, { groups: 4 });
const info: Conv2dPlanInfo = conv2dPlan(w, { groups: 4 }).info();
const impl: string = info.impl;
export async function logits(): Promise<Tensor<readonly [number, number]>> {
  const model = resnext50_32x4d({ numClasses: 10 });
  const out = await model.forward(randn([1, 3, 32, 32]));
  // @ts-expect-error forward() returns [N, numClasses]
  const bad: Tensor<readonly [number, number, number, number]> = out;
  void bad;
  return out;
}
export const shapes = [y.shape, impl];
`;
  fs.writeFileSync(path.join(app, 'consumer.ts'), consumerTs);
  fs.writeFileSync(path.join(app, 'consumer.mts'), consumerTs);
  const base = { strict: true, noEmit: true, types: [], lib: ['es2022'], target: 'es2022', skipLibCheck: false };
  fs.writeFileSync(
    path.join(app, 'tsconfig.node16.json'),
    JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.ts', 'consumer.mts'] }),
  );
  fs.writeFileSync(
    path.join(app, 'tsconfig.bundler.json'),
    JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts'] }),
  );
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  step('tsc --strict (node16, bundler; no @types/node)', () => {
    for (const cfg of ['tsconfig.node16.json', 'tsconfig.bundler.json']) run(process.execPath, [tsc, '-p', cfg], { cwd: app });
  });

  const total = (Date.now() - started) / 1000;
  console.log(
    `consumer-test: passed in ${total.toFixed(1)} s (install ${timings['npm install --ignore-scripts --prefer-offline'].toFixed(1)} s, addon ${rel})`,
  );
} catch (err) {
  console.error(`consumer-test: FAILED: ${err.message}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`consumer-test: kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
