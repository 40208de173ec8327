// `resnext convert model.pth model.safetensors`: argument checks (UsageError,
// exit 2) and a real conversion of a torch.save fixture whose safetensors
// output loads back with the same tensors.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseCli, UsageError } from '../lib/cli/args';
import { main } from '../lib/cli/main';
import type { Output } from '../lib/cli/output';
import { loadSafetensors } from '../lib/weights/safetensors';
import { loadTorch } from '../lib/weights/torch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-convert-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const FIX = path.join(__dirname, 'fixtures', 'torch');

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), interactive: false };
}

describe('resnext convert', () => {
  it('parses two positionals; anything else is a UsageError', () => {
    expect(parseCli(['convert', 'a.pth', 'b.safetensors'])).toEqual({ command: 'convert', input: 'a.pth', output: 'b.safetensors' });
    expect(parseCli(['convert', '--help'])).toEqual({ command: 'help', topic: 'convert' });
    expect(() => parseCli(['convert', 'a.pth'])).toThrow(UsageError);
    expect(() => parseCli(['convert', 'a', 'b', 'c'])).toThrow(/two file names/);
    expect(() => parseCli(['convert', 'a', 'a'])).toThrow(/other than the input/);
    expect(() => parseCli(['convert', '--frob', 'a', 'b'])).toThrow(UsageError);
  });

  it('nested_state_dict.pth -> safetensors with the same tensors; exit 0', async () => {
    const outFile = path.join(dir, 'out.safetensors');
    const io = capture();
    expect(await main(['convert', path.join(FIX, 'nested_state_dict.pth'), outFile], io)).toBe(0);
    expect(io.out.join('')).toMatch(/wrote 2 tensors \(15 values, float32\)/);
    const a = loadTorch(path.join(FIX, 'nested_state_dict.pth'));
    const b = loadSafetensors(outFile);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) expect(Array.from(b.get(k)!.dataSync())).toEqual(Array.from(t.dataSync()));
  });

  it('a refused checkpoint exits 1 with the reason; usage mistakes exit 2', async () => {
    const io = capture();
    expect(await main(['convert', path.join(FIX, 'module_object.pth'), path.join(dir, 'x.safetensors')], io)).toBe(1);
    expect(io.err.join('')).toMatch(/Python global torch\.nn\.modules\.activation\.ReLU/);
    expect(await main(['convert', 'only-one'], capture())).toBe(2);
  });
});
