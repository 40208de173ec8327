// The CUDA loader's failure modes, each with its own reason and none throwing:
// a file that is not an addon, an addon of another ABI, a GPU-less probe, the
// opt-out variable. Each case loads lib/binding.ts afresh (the loader caches).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { addon: process.env.RESNEXT_CUDA_ADDON, disable: process.env.RESNEXT_DISABLE_CUDA };

afterEach(() => {
  if (saved.addon === undefined) delete process.env.RESNEXT_CUDA_ADDON;
  else process.env.RESNEXT_CUDA_ADDON = saved.addon;
  if (saved.disable === undefined) delete process.env.RESNEXT_DISABLE_CUDA;
  else process.env.RESNEXT_DISABLE_CUDA = saved.disable;
  vi.resetModules();
});

async function freshLoad(env: Record<string, string>) {
  Object.assign(process.env, env);
  vi.resetModules();
  const binding = await import('../lib/binding');
  const registry = await import('../lib/backends/registry');
  return { load: binding.loadCudaBinding(), list: registry.backends().filter((b) => b.device === 'cuda') };
}

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-cuda-loader-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('CUDA loader reasons', () => {
  it('a file that is not a loadable addon: "could not be loaded", with the path', async () => {
    const f = tmpFile('resnext_cuda.node', 'not an ELF file');
    const { load, list } = await freshLoad({ RESNEXT_CUDA_ADDON: f });
    expect(load.binding).toBeNull();
    expect(load.reason).toMatch(new RegExp(`^the CUDA addon at ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be loaded \\(`));
    for (const b of list) expect(b).toMatchObject({ available: false, reason: load.reason });
  });

  it('an addon of another ABI: "version mismatch", never calling into it', async () => {
    const f = tmpFile('abi.js', "module.exports = { abiVersion: 99, probe() { throw new Error('must not be called'); } };");
    const { load } = await freshLoad({ RESNEXT_CUDA_ADDON: f });
    expect(load.reason).toMatch(/^version mismatch: the CUDA addon at .* has ABI 99 but this package expects 2/);
  });

  it('a probe without a device: its reason reaches backends() for cuda and cudnn', async () => {
    const f = tmpFile(
      'nodev.js',
      "module.exports = { abiVersion: 2, probe: () => ({ ok: false, driverFound: true, driverVersion: 13000, runtimeVersion: 13000, deviceCount: 0, devices: [], reason: 'no CUDA device: the driver is installed but sees no GPU', cudnn: { compiled: true, loaded: false, reason: 'x' } }) };",
    );
    const { list } = await freshLoad({ RESNEXT_CUDA_ADDON: f });
    expect(list.map((b) => [b.name, b.available, b.reason])).toEqual([
      ['cuda', false, 'no CUDA device: the driver is installed but sees no GPU'],
      ['cudnn', false, 'no CUDA device: the driver is installed but sees no GPU'],
    ]);
  });

  it('a usable GPU without cuDNN: cuda available, cudnn says why', async () => {
    const f = tmpFile(
      'nocudnn.js',
      "module.exports = { abiVersion: 2, probe: () => ({ ok: true, driverFound: true, driverVersion: 13000, runtimeVersion: 13000, deviceCount: 1, devices: [], cudnn: { compiled: true, loaded: false, reason: 'cuDNN not found: libcudnn.so.9: cannot open shared object file' } }) };",
    );
    const { list } = await freshLoad({ RESNEXT_CUDA_ADDON: f });
    expect(list.find((b) => b.name === 'cuda')!.available).toBe(true);
    expect(list.find((b) => b.name === 'cudnn')).toMatchObject({
      available: false,
      reason: 'cuDNN not found: libcudnn.so.9: cannot open shared object file',
    });
  });

  it('RESNEXT_DISABLE_CUDA=1 turns the GPU backends off without loading anything', async () => {
    const { load } = await freshLoad({ RESNEXT_DISABLE_CUDA: '1', RESNEXT_CUDA_ADDON: '/nonexistent/resnext_cuda.node' });
    expect(load).toEqual({ binding: null, probe: null, reason: 'disabled by RESNEXT_DISABLE_CUDA=1' });
  });
});
