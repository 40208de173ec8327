// `resnext convert model.pth model.safetensors`: a torch.save checkpoint read
// by loadTorch (restricted unpickler, nothing executed) written as float32
// safetensors, so later loads need no pickle at all.

import * as fs from 'node:fs';

import { saveSafetensors } from '../weights/safetensors';
import { loadTorch } from '../weights/torch';
import type { ConvertArgs } from './args';
import type { Output } from './output';

export function runConvert(args: ConvertArgs, out: Output): number {
  if (!fs.existsSync(args.input)) throw new Error(`${args.input}: no such file`);
  const tensors = loadTorch(args.input);
  saveSafetensors(args.output, tensors, { format: 'pt' });
  const params = [...tensors.values()].reduce((a, t) => a + t.size, 0);
  out.stdout(`wrote ${tensors.size} tensors (${params} values, float32) to ${args.output}`);
  return 0;
}
