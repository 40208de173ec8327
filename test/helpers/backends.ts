// The backends a backend-parametric suite runs against: every available
// backend except the reference (the oracle), each listed with its device.
import { backends } from '../../lib';
import { cpuBinding } from '../../lib/binding';

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

/**
 * The ISA caps this CPU can be forced to (best first: avx512, avx2, scalar as available), read from the
 * addon's ISA cap (set back to the best); empty without the CPU addon. Suites set a cap per case and
 * restore the first in afterAll.
 */
export function cpuIsaCaps(): string[] {
  const b = cpuBinding();
  if (!b) return [];
  const best = b.setIsaCap('avx512');
  b.setIsaCap(best);
  return best === 'avx512' ? ['avx512', 'avx2', 'scalar'] : best === 'avx2' ? ['avx2', 'scalar'] : ['scalar'];
}
