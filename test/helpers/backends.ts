// The backends a backend-parametric suite runs against: every available
// backend except the reference (the oracle), each listed with its device.
import { backends } from '../../lib';

export function nativeHostBackends(): string[] {
  return backends()
    .filter((b) => b.available && b.name !== 'reference' && b.device === 'cpu')
    .map((b) => b.name);
}

/** Backends that cannot run here, with the reason, for an explicit skip message. */
export function unavailableBackends(): { name: string; reason?: string }[] {
  return backends()
    .filter((b) => !b.available)
    .map((b) => ({ name: b.name, reason: b.reason }));
}
