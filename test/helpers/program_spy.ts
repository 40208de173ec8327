// Runs a body with the CPU addon's Network class replaced by a subclass that
// hands every program's step records to a callback before adding it, so a
// test can inspect the buffers a lowering binds (and the class is restored
// after, also on failure).
import type { NativeCpuBinding } from '../../lib/native_types';

/** A native step record's buffers, as the lowering passes them. */
export interface SpiedStep {
  input?: Float32Array | null;
  output: Float32Array;
  residual?: Float32Array | null;
}

export async function withProgramSpy(
  b: NativeCpuBinding,
  onProgram: (steps: SpiedStep[]) => void,
  body: () => Promise<void>,
): Promise<void> {
  const Original = b.Network!;
  b.Network = class extends (Original as unknown as new (...a: unknown[]) => { addProgram(...a: unknown[]): number }) {
    override addProgram(...a: unknown[]): number {
      onProgram(a[0] as SpiedStep[]);
      return super.addProgram(...a);
    }
  } as unknown as typeof Original;
  try {
    await body();
  } finally {
    b.Network = Original;
  }
}
