// The published entry points: require('resnext') and import('resnext') from
// the built dist/ (the package resolves itself by name through "exports"),
// backends() listing, and the fallback when the native addon is unavailable.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { backends } from '../lib';

const root = path.resolve(__dirname, '..');
const built = fs.existsSync(path.join(root, 'dist/cjs/index.js')) && fs.existsSync(path.join(root, 'dist/esm/index.mjs'));

function node(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('backends()', () => {
  it('lists cpu, reference and cuda, each with availability and a reason when unavailable', () => {
    const list = backends();
    const names = list.map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining(['cpu', 'reference', 'cuda']));
    for (const b of list) {
      expect(typeof b.available).toBe('boolean');
      if (!b.available) expect(b.reason, `${b.name} must say why it is unavailable`).toMatch(/\w{4,}/);
    }
    expect(list.find((b) => b.name === 'reference')!.available).toBe(true);
  });
});

describe.skipIf(!built)('package entry points (dist/)', () => {
  it("require('resnext') gives the typed API and runs a conv on the native backend", () => {
    const out = node([
      '-e',
      `const r = require('resnext');
       const y = r.conv2d(r.randn([1, 8, 5, 5], { seed: 1 }), r.randn([8, 2, 3, 3], { seed: 2 }), { groups: 4, padding: 1 });
       console.log(JSON.stringify({ shape: y.shape, cpu: r.backends().find((b) => b.name === 'cpu').available }));`,
    ]);
    expect(JSON.parse(out)).toEqual({ shape: [1, 8, 5, 5], cpu: true });
  });

  it("import('resnext') gives the same names as require and the same Tensor class", () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import * as esm from 'resnext'; import { createRequire } from 'node:module';
       const cjs = createRequire(import.meta.url)('resnext');
       const y = esm.zeros([2]);
       console.log(JSON.stringify({ same: y instanceof cjs.Tensor, missing: Object.keys(cjs).filter((k) => !(k in esm)) }));`,
    ]);
    expect(JSON.parse(out)).toEqual({ same: true, missing: [] });
  });

  it('without the native addon, cpu is unavailable with the reason and conv2d falls back to the reference', () => {
    const out = node(
      [
        '-e',
        `const r = require('resnext');
         const y = r.conv2d(r.randn([1, 4, 5, 5], { seed: 1 }), r.randn([4, 1, 3, 3], { seed: 2 }), { groups: 4 });
         console.log(JSON.stringify({ cpu: r.backends().find((b) => b.name === 'cpu'), shape: y.shape }));`,
      ],
      { RESNEXT_DISABLE_NATIVE: '1' },
    );
    const res = JSON.parse(out);
    expect(res.cpu.available).toBe(false);
    expect(res.cpu.reason).toMatch(/RESNEXT_DISABLE_NATIVE/);
    expect(res.shape).toEqual([1, 4, 3, 3]);
  });
});
