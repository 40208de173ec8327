// What a benchmark result needs to be read later: the machine (CPU model,
// cores, SIMD level in use), the runtime and package versions, the threads.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadCpuBinding, loadCudaBinding, packageRoot } from '../binding';
import { backends } from '../backends/registry';
import { cpuInfo, getNumThreads } from '../threads';

export interface MachineInfo {
  /** The CPU's brand with its CPUID family and model, e.g. 'AMD EPYC (CPU family 25, model 17)'. */
  cpuModel: string;
  /** CPUID vendor and display family / model / stepping (absent without the native addon or off x86). */
  cpuId?: { vendor: string; family: number; model: number; stepping: number };
  /** Logical CPUs the OS reports. */
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  packageVersion: string;
  /** SIMD level the CPU backend dispatches to (null without the native addon). */
  simd: string | null;
  /** Highest SIMD level the CPU supports. */
  simdSupported: string | null;
  cpuFeatures: string[];
  threads: number;
  backends: { name: string; available: boolean; reason?: string }[];
  /** The native addon files that were loaded (null: none). */
  addons?: { cpu: string | null; cuda: string | null };
  /** The malloc thresholds the CPU addon set when it loaded (docs/performance.md); absent without the addon. */
  allocator?: { tuned: boolean; reason: string; mmapThreshold: number; trimThreshold: number };
  onnxruntime: string | null;
  date: string;
}

export function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The installed onnxruntime-node version, or null when it is not installed. */
export function onnxruntimeVersion(): string | null {
  try {
    const pj = require.resolve('onnxruntime-node/package.json', { paths: [packageRoot(), process.cwd()] });
    return JSON.parse(fs.readFileSync(pj, 'utf8')).version ?? 'unknown';
  } catch {
    return null;
  }
}

function loadedPath(r: { binding: unknown; path?: string }): string | null {
  return r.binding && r.path ? r.path : null;
}

/** The CUDA addon file when it loaded, even where its probe found no usable GPU. */
function cudaAddonPath(): string | null {
  const r = loadCudaBinding();
  return r.probe && r.path ? r.path : null;
}

/**
 * The CPU as benchmark figures name it: the brand string and, from CPUID, the family and model (the brand alone
 * may not tell two generations apart: a VM can report just "AMD EPYC" for Zen 4 and Zen 5 alike).
 */
export function cpuLabel(): string {
  const ci = cpuInfo();
  const brand = ci?.brand?.trim() || os.cpus()[0]?.model?.trim() || 'unknown';
  return ci?.family ? `${brand} (CPU family ${ci.family}, model ${ci.model})` : brand;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const ci = cpuInfo();
  return {
    cpuModel: cpuLabel(),
    ...(ci?.family ? { cpuId: { vendor: ci.vendor ?? '', family: ci.family, model: ci.model ?? 0, stepping: ci.stepping ?? 0 } } : {}),
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    packageVersion: packageVersion(),
    simd: ci ? ci.cap : null,
    simdSupported: ci ? ci.best : null,
    cpuFeatures: ci
      ? Object.keys(ci.features)
          .filter((k) => ci.features[k])
          .sort()
      : [],
    threads: getNumThreads(),
    backends: backends().map((b) => ({ name: b.name, available: b.available, ...(b.reason ? { reason: b.reason } : {}) })),
    addons: { cpu: loadedPath(loadCpuBinding()), cuda: cudaAddonPath() },
    ...(ci?.allocator ? { allocator: ci.allocator } : {}),
    onnxruntime: onnxruntimeVersion(),
    date: new Date().toISOString(),
  };
}
