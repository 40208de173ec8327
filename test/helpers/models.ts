// Model fixtures shared by suites: random BatchNorm statistics and affine
// parameters, so BN folding (ours, onnxruntime's, loadOnnx's) is not the identity.
import type { ResNeXtModel } from '../../lib/models/model';
import { Rng } from '../../lib/random';

export function randomizeBatchNorm(m: ResNeXtModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of m.stateDict()) {
    const d = t.dataSync();
    if (name.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.2 * rng.normal();
    else if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.weight')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.bias') && !name.startsWith('fc'))
      for (let i = 0; i < d.length; i++) d[i] = 0.1 * rng.normal();
  }
}
