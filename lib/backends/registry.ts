// Backends registered with a priority (highest preferred). backends() reports
// every backend the package knows, with the reason whenever one is unavailable.

import { backendUnavailable } from '../errors';
import { warnIfNoNative } from '../binding';
import type { Device } from '../tensor';
import type { Backend, BackendName } from './backend';
import { cpuBackend } from './cpu';
import { referenceBackend } from './reference';
import { cudaBackend } from './cuda';
import { cudnnBackend } from './cudnn';

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  reason?: string;
  priority: number;
  device: Device;
}

const registry = new Map<string, Backend>();
/** Backends that are known but not built into this package yet, with the reason. */
const placeholders = new Map<string, { device: Device; reason: () => string }>();

export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
  placeholders.delete(backend.name);
}

export function registerPlaceholder(name: BackendName, device: Device, reason: () => string): void {
  if (!registry.has(name)) placeholders.set(name, { device, reason });
}

registerBackend(cpuBackend);
registerBackend(referenceBackend);
registerBackend(cudaBackend);
registerBackend(cudnnBackend);

/** Every backend the package knows, available or not, highest priority first. */
export function backends(): BackendInfo[] {
  const out: BackendInfo[] = [];
  for (const b of [...registry.values()].sort((a, c) => c.priority - a.priority)) {
    const s = b.status();
    out.push({
      name: b.name,
      available: s.available,
      ...(s.available ? {} : { reason: s.reason }),
      priority: b.priority,
      device: b.device,
    });
  }
  for (const [name, p] of placeholders) {
    out.push({ name: name as BackendName, available: false, reason: p.reason(), priority: 0, device: p.device });
  }
  return out;
}

export function knownBackendNames(): string[] {
  return [...registry.keys(), ...placeholders.keys()];
}

/**
 * The backend to use: the named one (which must be available), else the
 * highest-priority available backend for the device.
 */
export function resolveBackend(name: string | undefined, device: Device, param = 'backend'): Backend {
  if (name !== undefined) {
    if (typeof name !== 'string') throw new TypeError(`Expected a backend name for ${param} but received ${typeof name}`);
    const b = registry.get(name);
    if (!b) {
      const ph = placeholders.get(name);
      if (ph) throw backendUnavailable(`The ${name} backend is unavailable: ${ph.reason()}`);
      throw new RangeError(
        `Expected one of ${knownBackendNames()
          .map((n) => `'${n}'`)
          .join(', ')} for ${param} but received ${JSON.stringify(name)}`,
      );
    }
    const s = b.status();
    if (!s.available) throw backendUnavailable(`The ${name} backend is unavailable: ${s.reason}`);
    if (b.device !== device) {
      throw new RangeError(`Expected tensors on device '${b.device}' for backend '${name}' but received tensors on '${device}'`);
    }
    return b;
  }
  const candidates = [...registry.values()].filter((b) => b.device === device).sort((a, c) => c.priority - a.priority);
  for (const b of candidates) {
    if (!b.status().available) continue;
    // Falling past the native cpu backend is never silent (RESNEXT_NO_NATIVE).
    if (device === 'cpu' && b.name !== 'cpu') warnIfNoNative();
    return b;
  }
  throw backendUnavailable(`No available backend for tensors on device '${device}'`);
}
