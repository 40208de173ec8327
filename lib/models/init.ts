// Seeded random initialisation as torchvision's ResNet.__init__ does it:
// conv weights kaiming_normal_(mode='fan_out', nonlinearity='relu'), i.e.
// N(0, 2 / (K * kH * kW)); BN weight 1, bias 0, running mean 0, running var 1;
// fc as nn.Linear's default: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
// Same seed, same weights (the generator is lib/random.ts).

import { Rng } from '../random';
import { Tensor, HostStorage } from '../tensor';
import type { TensorSpec } from './architecture';

export function initialState(specs: TensorSpec[], seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(size);
    const leaf = s.name.slice(s.name.lastIndexOf('.') + 1);
    if (s.name.startsWith('fc.')) {
      const bound = 1 / Math.sqrt(s.name === 'fc.weight' ? s.shape[1] : specs.find((t) => t.name === 'fc.weight')!.shape[1]);
      for (let i = 0; i < size; i++) d[i] = (2 * rng.uniform() - 1) * bound;
    } else if (s.shape.length === 4) {
      const std = Math.sqrt(2 / (s.shape[0] * s.shape[2] * s.shape[3]));
      for (let i = 0; i < size; i++) d[i] = std * rng.normal();
    } else if (leaf === 'weight' || leaf === 'running_var') {
      d.fill(1);
    }
    out.set(s.name, new Tensor(new HostStorage(d), s.shape));
  }
  return out;
}
