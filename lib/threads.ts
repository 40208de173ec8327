// Thread count and CPU information of the native CPU backend.

import { cpuBinding, loadCpuBinding } from './binding';
import { backendUnavailable, invalidType, invalidValue } from './errors';
import type { NativeCpuInfo } from './native_types';

/**
 * Sets the CPU backend's thread count (0 = one per core) for the calling
 * JS environment: the main thread and each worker_thread have their own pool
 * (see docs/safety.md), so a worker's setting leaves the others alone.
 * Returns the count in force.
 */
export function setNumThreads(n: number): number {
  if (typeof n !== 'number') throw invalidType('threads', 'a non-negative integer', n);
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw invalidValue('threads', 'an integer in [0, 1024]', n);
  const b = cpuBinding();
  if (!b) throw backendUnavailable(`The cpu backend is unavailable: ${loadCpuBinding().reason}`);
  return b.setNumThreads(n);
}

export function getNumThreads(): number {
  const b = cpuBinding();
  return b ? b.getNumThreads() : 1;
}

/** CPU model, detected SIMD features, the ISA in use and the thread count; null without the addon. */
export function cpuInfo(): NativeCpuInfo | null {
  const b = cpuBinding();
  return b ? b.cpuInfo() : null;
}
