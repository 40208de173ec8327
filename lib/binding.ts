// Loads the native addons lazily and never throws: a missing or broken addon
// becomes an unavailable backend with the reason. The CPU addon is the file
// RESNEXT_ADDON_PATH names, else node-gyp-build's choice (build/Release, then
// prebuilds/<platform>-<arch>/) in the package root or next to a bundle.

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeCpuBinding } from './native_types';
import { CUDA_ABI_VERSION, type NativeCudaBinding, type NativeCudaProbe } from './cuda_types';

function isPackageRoot(dir: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'resnext';
  } catch {
    return false;
  }
}

/** The package root: the nearest folder above this file whose package.json is ours. */
export function packageRoot(): string {
  for (let dir = __dirname; ;) {
    if (isPackageRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '..');
    dir = parent;
  }
}

interface LoadResult<T> {
  binding: T | null;
  /** The addon file that was loaded (or, on failure, tried last). */
  path?: string;
  reason?: string;
}

let cpu: LoadResult<NativeCpuBinding> | undefined;

/**
 * Folders that may hold the CPU addon (build/Release or prebuilds/<platform>-<arch>):
 * the package root; in a bundle (no resnext package.json above this file), the
 * bundle's own folder first, where the app copied `prebuilds/`.
 */
function addonDirs(): string[] {
  const root = packageRoot();
  return isPackageRoot(root) ? [root] : [__dirname, root];
}

const NO_NATIVE_FIX =
  'run `npm rebuild resnext` to compile it (needs python3, make and a C++17 compiler); ' +
  'when resnext is bundled, copy node_modules/resnext/prebuilds next to the bundle or set RESNEXT_ADDON_PATH to the .node file';

export function loadCpuBinding(): LoadResult<NativeCpuBinding> {
  if (cpu) return cpu;
  if (process.env.RESNEXT_DISABLE_NATIVE === '1') {
    cpu = { binding: null, reason: 'disabled by RESNEXT_DISABLE_NATIVE=1' };
    return cpu;
  }
  const errors: string[] = [];
  let file: string | undefined;
  const explicit = process.env.RESNEXT_ADDON_PATH;
  // Each candidate: where it looks (for the message) and how it finds the file.
  const candidates: [string, () => string][] = explicit
    ? [[`RESNEXT_ADDON_PATH=${explicit}`, () => path.resolve(explicit)]]
    : addonDirs().map((dir) => [
        `${dir} (build/Release, prebuilds/${process.platform}-${process.arch})`,
        () => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const resolve = (require('node-gyp-build') as { path(dir: string): string }).path;
          return resolve(dir);
        },
      ]);
  for (const [where, find] of candidates) {
    try {
      file = find();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cpu = { binding: require(file) as NativeCpuBinding, path: file };
      return cpu;
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      errors.push(msg.includes(where.split(' ')[0]) ? msg : `${where}: ${msg}`);
    }
  }
  cpu = {
    binding: null,
    ...(file ? { path: file } : {}),
    reason: `the native CPU addon could not be loaded (${errors.join('; ')}); ${NO_NATIVE_FIX}`,
  };
  return cpu;
}

let warned = false;

/**
 * Called when an operation picks its backend by itself: if the CPU addon failed
 * to load (and was not disabled on purpose), warn once that the reference
 * backend runs instead. `backend: 'reference'` or RESNEXT_DISABLE_NATIVE=1 are
 * the silent ways to ask for it.
 */
export function warnIfNoNative(): void {
  if (warned) return;
  const r = loadCpuBinding();
  if (r.binding || process.env.RESNEXT_DISABLE_NATIVE === '1') return;
  warned = true;
  process.emitWarning(
    `${r.reason}. Running on the reference backend instead (float64 TypeScript, about 100x slower). ` +
      `Pass backend: 'reference' or set RESNEXT_DISABLE_NATIVE=1 to use it without this warning.`,
    { code: 'RESNEXT_NO_NATIVE', type: 'ResnextWarning' },
  );
}

/** The CPU addon, or a ResnextError-free null with the reason in loadCpuBinding(). */
export function cpuBinding(): NativeCpuBinding | null {
  return loadCpuBinding().binding;
}

// ---- CUDA addon (optional) -------------------------------------------------
// build*/Release/resnext_cuda.node, built by scripts/build-cuda.js when nvcc is
// there. Loading it never touches CUDA (the addon makes no CUDA call at load);
// probe() then says whether a driver, a device and cuDNN are usable.

export interface CudaLoadResult {
  binding: NativeCudaBinding | null;
  probe: NativeCudaProbe | null;
  /** The addon file that was loaded (or tried). */
  path?: string;
  /** Why the cuda backend cannot be used; absent when it can. */
  reason?: string;
}

let cuda: CudaLoadResult | undefined;

/** Candidate paths of the CUDA addon, most specific first. */
export function cudaAddonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.RESNEXT_CUDA_ADDON) out.push(path.resolve(process.env.RESNEXT_CUDA_ADDON));
  const root = packageRoot();
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(root).filter((d) => d.startsWith('build'));
  } catch {
    // unreadable root: only the env override is left
  }
  // build-cuda first (what npm install makes), then any other build* folder.
  dirs.sort((a, b) => (a === 'build-cuda' ? -1 : b === 'build-cuda' ? 1 : a.localeCompare(b)));
  for (const d of dirs) out.push(path.join(root, d, 'Release', 'resnext_cuda.node'));
  // Then the prebuilt one (scripts/prebuild.js), in the package or next to a bundle.
  for (const dir of addonDirs()) out.push(path.join(dir, 'prebuilds', `${process.platform}-${process.arch}-cuda`, 'resnext_cuda.node'));
  return [...new Set(out)];
}

export function loadCudaBinding(): CudaLoadResult {
  if (cuda) return cuda;
  if (process.env.RESNEXT_DISABLE_CUDA === '1') {
    cuda = { binding: null, probe: null, reason: 'disabled by RESNEXT_DISABLE_CUDA=1' };
    return cuda;
  }
  const file = cudaAddonCandidates().find((p) => fs.existsSync(p));
  if (!file) {
    cuda = {
      binding: null,
      probe: null,
      reason: `no CUDA addon built (no build*/Release/resnext_cuda.node or prebuilds/${process.platform}-${process.arch}-cuda/resnext_cuda.node; \`npm run build:cuda\` builds it where nvcc is installed)`,
    };
    return cuda;
  }
  let binding: NativeCudaBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require(file) as NativeCudaBinding;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    cuda = { binding: null, probe: null, path: file, reason: `the CUDA addon at ${file} could not be loaded (${msg})` };
    return cuda;
  }
  if (binding.abiVersion !== CUDA_ABI_VERSION) {
    cuda = {
      binding: null,
      probe: null,
      path: file,
      reason: `version mismatch: the CUDA addon at ${file} has ABI ${String(binding.abiVersion)} but this package expects ${CUDA_ABI_VERSION} (rebuild with \`npm run build:cuda\`)`,
    };
    return cuda;
  }
  let probe: NativeCudaProbe;
  try {
    probe = binding.probe();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    cuda = { binding: null, probe: null, path: file, reason: `the CUDA addon's probe failed (${msg})` };
    return cuda;
  }
  cuda = probe.ok
    ? { binding, probe, path: file }
    : { binding: null, probe, path: file, reason: probe.reason ?? 'the GPU is unusable (no reason given)' };
  return cuda;
}

/** The CUDA addon when a usable GPU is present, else null (reason in loadCudaBinding()). */
export function cudaBinding(): NativeCudaBinding | null {
  return loadCudaBinding().binding;
}
