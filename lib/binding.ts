// Loads the native addons lazily and never throws: a missing or broken addon
// becomes an unavailable backend with the reason. The CPU addon is found by
// node-gyp-build (a matching prebuild, else build/Release).

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeCpuBinding } from './native_types';

/** The package root: the nearest folder above this file whose package.json is ours. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'resnext') return dir;
      } catch {
        // keep looking upwards
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..');
    dir = parent;
  }
}

interface LoadResult<T> {
  binding: T | null;
  reason?: string;
}

let cpu: LoadResult<NativeCpuBinding> | undefined;

export function loadCpuBinding(): LoadResult<NativeCpuBinding> {
  if (cpu) return cpu;
  if (process.env.RESNEXT_DISABLE_NATIVE === '1') {
    cpu = { binding: null, reason: 'disabled by RESNEXT_DISABLE_NATIVE=1' };
    return cpu;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cpu = { binding: load(packageRoot()) as NativeCpuBinding };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    cpu = {
      binding: null,
      reason: `the native CPU addon could not be loaded (${msg}); run \`npm rebuild resnext\` (needs python3, make and a C++17 compiler)`,
    };
  }
  return cpu;
}

/** The CPU addon, or a ResnextError-free null with the reason in loadCpuBinding(). */
export function cpuBinding(): NativeCpuBinding | null {
  return loadCpuBinding().binding;
}
