// A weights file by path, whichever format: `.safetensors` files are read
// with loadSafetensors (tensor by tensor), anything else as a PyTorch
// checkpoint with loadTorch (zip or legacy pickle, checked as it is read).
// Used where the caller hands a path instead of a map (model.loadStateDict,
// the models' `weights` option): the tensors read are then the model's own,
// with no second copy.

import { invalidType } from '../errors';
import type { Tensor } from '../tensor';
import { loadSafetensors } from './safetensors';
import { loadTorch } from './torch';

export function loadWeightsFile(path: string, name = 'path'): Map<string, Tensor> {
  if (typeof path !== 'string' || path.length === 0) throw invalidType(name, 'a file path string', path);
  return path.toLowerCase().endsWith('.safetensors') ? loadSafetensors(path) : loadTorch(path);
}
