// Loading the native addon as an installed package does: the one
// RESNEXT_NO_NATIVE warning when the CPU addon cannot be loaded, silence when
// the reference backend is asked for, and the esbuild recipe (a bundle finds
// the addon in prebuilds/ copied next to it, and says how when it does not).
// Each case runs the built package (dist/) in a child process, so the
// process-wide load state starts fresh.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadCpuBinding } from '../lib/binding';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'cjs', 'index.js');
const native = loadCpuBinding();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-install-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `code` (CommonJS, `r` is the package) and returns its stdout JSON and stderr. */
function runWith(env: Record<string, string | undefined>, code: string, entry = dist): { out: any; stderr: string } {
  const file = path.join(tmp, `case-${Math.random().toString(36).slice(2)}.cjs`);
  fs.writeFileSync(file, `const r = require(${JSON.stringify(entry)});\n${code}\n`);
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  const res = spawnSync(process.execPath, [file], { encoding: 'utf8', env: childEnv });
  if (res.status !== 0) throw new Error(`child exited ${res.status}: ${res.stderr}`);
  return { out: JSON.parse(res.stdout), stderr: res.stderr };
}

const CONVS = `
const x = r.randn([1, 4, 6, 6]), w = r.randn([4, 2, 3, 3]);
r.conv2d(x, w, { groups: 2 });
r.conv2d(x, w, { groups: 2 });
r.maxPool2d(x);
`;
const WARNINGS = `
const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
`;
const REPORT = `
setImmediate(() => console.log(JSON.stringify({ warnings, cpu: r.backends().find((b) => b.name === 'cpu') })));
`;

describe.skipIf(!fs.existsSync(dist))('native addon loading (built package in dist/)', () => {
  it('a CPU addon that cannot be loaded: one RESNEXT_NO_NATIVE warning naming the error and the fix; backends() keeps the reason', () => {
    const missing = path.join(tmp, 'missing.node');
    const { out } = runWith({ RESNEXT_ADDON_PATH: missing, RESNEXT_DISABLE_NATIVE: undefined }, WARNINGS + CONVS + REPORT);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].code).toBe('RESNEXT_NO_NATIVE');
    expect(out.warnings[0].message).toContain(missing);
    expect(out.warnings[0].message).toMatch(/npm rebuild resnext/);
    expect(out.warnings[0].message).toMatch(/RESNEXT_DISABLE_NATIVE=1/);
    expect(out.cpu.available).toBe(false);
    expect(out.cpu.reason).toContain(missing);
  });

  it('RESNEXT_DISABLE_NATIVE=1 runs the reference backend without a warning', () => {
    const { out } = runWith({ RESNEXT_DISABLE_NATIVE: '1' }, WARNINGS + CONVS + REPORT);
    expect(out.warnings).toEqual([]);
    expect(out.cpu.reason).toMatch(/RESNEXT_DISABLE_NATIVE=1/);
  });

  it("backend: 'reference' is silent even when the addon is missing", () => {
    const { out } = runWith(
      { RESNEXT_ADDON_PATH: path.join(tmp, 'missing.node'), RESNEXT_DISABLE_NATIVE: undefined },
      WARNINGS + `r.conv2d(r.randn([1, 4, 6, 6]), r.randn([4, 2, 3, 3]), { groups: 2, backend: 'reference' });` + REPORT,
    );
    expect(out.warnings).toEqual([]);
  });

  it.skipIf(!native.binding)('RESNEXT_ADDON_PATH loads the named addon file', () => {
    const { out } = runWith(
      { RESNEXT_ADDON_PATH: native.path, RESNEXT_DISABLE_NATIVE: undefined },
      WARNINGS +
        CONVS +
        `setImmediate(() => console.log(JSON.stringify({ warnings, addon: Object.keys(require.cache).find((k) => k.endsWith('.node') && !k.endsWith('resnext_cuda.node')) })));`,
    );
    expect(out.warnings).toEqual([]);
    expect(out.addon).toBe(native.path);
  });
});

describe.skipIf(!fs.existsSync(dist) || !native.binding)('esbuild recipe (docs/bundlers.md)', () => {
  it('a bundle warns how to ship the addon, then runs natively with prebuilds/ copied next to it', async () => {
    const esbuild = await import('esbuild');
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app, { recursive: true });
    fs.writeFileSync(
      path.join(app, 'main.js'),
      `const r = require('resnext');
${WARNINGS}
const plan = r.conv2dPlan(r.randn([8, 2, 3, 3]), { groups: 4 });
plan.run(r.randn([1, 8, 5, 5]));
setImmediate(() => console.log(JSON.stringify({ warnings, backend: plan.info().backend, cpu: r.backends().find((b) => b.name === 'cpu'), addon: Object.keys(require.cache).find((k) => k.endsWith('.node') && !k.endsWith('resnext_cuda.node')) ?? null })));
`,
    );
    const outdir = path.join(app, 'out');
    await esbuild.build({
      entryPoints: [path.join(app, 'main.js')],
      bundle: true,
      platform: 'node',
      outfile: path.join(outdir, 'main.js'),
      alias: { resnext: root },
      logLevel: 'silent',
    });
    const bundle = path.join(outdir, 'main.js');
    const run = () => {
      const res = spawnSync(process.execPath, [bundle], { encoding: 'utf8', env: { ...process.env, RESNEXT_DISABLE_NATIVE: '' } });
      if (res.status !== 0) throw new Error(res.stderr);
      return JSON.parse(res.stdout);
    };

    // Without the addon next to the bundle: the reference backend, with the warning that says what to copy.
    const before = run();
    expect(before.backend).toBe('reference');
    expect(before.warnings.map((w: { code: string }) => w.code)).toEqual(['RESNEXT_NO_NATIVE']);
    expect(before.warnings[0].message).toMatch(/copy node_modules\/resnext\/prebuilds next to the bundle/);

    // The recipe: prebuilds/<platform>-<arch>/ next to the bundle.
    const dest = path.join(outdir, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(native.path!, path.join(dest, 'resnext.node'));
    const after = run();
    expect(after.warnings).toEqual([]);
    expect(after.backend).toBe('cpu');
    expect(after.cpu.available).toBe(true);
    expect(after.addon).toBe(path.join(dest, 'resnext.node'));
  }, 60_000);
});
