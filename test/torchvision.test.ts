// The real oracle: torchvision's resnet50 and resnext50_32x4d (random weights,
// randomized BatchNorm statistics, eval mode) saved with torch.save, loaded
// with loadTorch into our models, and compared with torchvision's own logits
// on the same 1x3x64x64 input on every host backend (the reference backend
// only on resnext50_32x4d: it is slow); and the torch.onnx.export of
// resnext50_32x4d run by loadOnnx. Needs /usr/bin/python3 with torch and
// torchvision (Debian's python3-torch / python3-torchvision); skipped with a
// message otherwise, so CI does not depend on torch.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { type BackendName, loadOnnx, loadTorch, presets, tensor } from '../lib';
import { nativeHostBackends } from './helpers/backends';
import { REL_TOL, relErr } from './helpers/compare';

const PYTHON = process.env.RESNEXT_TORCH_PYTHON ?? '/usr/bin/python3';
const hasTorch =
  fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8', timeout: 60_000 }).status === 0;
if (!hasTorch) console.warn(`torchvision comparison skipped: ${PYTHON} with torch and torchvision is not available`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-tv-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SCRIPT = `
import sys, warnings, torch, torchvision
warnings.filterwarnings("ignore")
out = sys.argv[1]
torch.manual_seed(0)
x = torch.randn(1, 3, 64, 64)
x.numpy().tofile(out + "/x.bin")
x4 = torch.randn(4, 3, 64, 64)
x4.numpy().tofile(out + "/x4.bin")
for name in ["resnet50", "resnext50_32x4d"]:
    m = getattr(torchvision.models, name)()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.0)
                mod.bias.uniform_(-0.1, 0.1)
    m.eval()
    torch.save(m.state_dict(), out + "/" + name + ".pth")
    with torch.no_grad():
        m(x).numpy().tofile(out + "/" + name + ".logits")
        m(x4).numpy().tofile(out + "/" + name + ".logits4")
    if name == "resnext50_32x4d":
        torch.onnx.export(m, x, out + "/" + name + ".onnx", opset_version=13, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
`;

const read = (f: string): Float32Array => {
  const b = fs.readFileSync(path.join(dir, f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe.skipIf(!hasTorch)('torchvision checkpoints and logits (torch present)', () => {
  let generated = false;
  const generate = () => {
    if (generated) return;
    const r = spawnSync(PYTHON, ['-c', SCRIPT, dir], { encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`torch fixture generation failed: ${r.stderr}`);
    generated = true;
  };
  const cases: [string, BackendName[]][] = [
    ['resnet50', nativeHostBackends() as BackendName[]],
    ['resnext50_32x4d', ['reference', ...nativeHostBackends()] as BackendName[]],
  ];
  for (const [name, backends] of cases) {
    for (const backend of backends) {
      it(`${name}: loadTorch(torch.save(state_dict())) x [1, 3, 64, 64] on ${backend}: logits equal torchvision's`, async () => {
        generate();
        const model = presets[name]();
        expect(model.loadStateDict(loadTorch(path.join(dir, `${name}.pth`)))).toEqual({ missing: [], unexpected: [], mismatched: [] });
        const y = await model.forward(tensor(read('x.bin'), [1, 3, 64, 64]), { backend });
        const err = relErr(y.dataSync(), read(`${name}.logits`));
        console.log(`${name} on ${backend}: normwise relative error vs torchvision ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(REL_TOL);
      }, 240_000);
    }
    // Batch 4: the batch paths of the native kernels (at 64x64 the 2x2 layer4 3x3s of resnext50_32x4d run
    // F(4x4) with four images per vector where tune keeps Winograd; the blocked pools, fc's row tiles).
    for (const backend of nativeHostBackends() as BackendName[]) {
      it(`${name}: loadTorch(torch.save(state_dict())) x [4, 3, 64, 64] on ${backend}: logits equal torchvision's`, async () => {
        generate();
        const model = presets[name]();
        model.loadStateDict(loadTorch(path.join(dir, `${name}.pth`)));
        const y = await model.forward(tensor(read('x4.bin'), [4, 3, 64, 64]), { backend });
        const err = relErr(y.dataSync(), read(`${name}.logits4`));
        console.log(`${name} batch 4 on ${backend}: normwise relative error vs torchvision ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(REL_TOL);
      }, 240_000);
    }
  }
  it.each(nativeHostBackends() as BackendName[])(
    "resnext50_32x4d: loadOnnx(torch.onnx.export) x [1, 3, 64, 64] on %s: logits equal torchvision's",
    async (backend) => {
      generate();
      const m = loadOnnx(path.join(dir, 'resnext50_32x4d.onnx'));
      const y = await m.forward(tensor(read('x.bin'), [1, 3, 64, 64]), { backend });
      const err = relErr(y.dataSync(), read('resnext50_32x4d.logits'));
      console.log(`resnext50_32x4d ONNX on ${backend}: normwise relative error vs torchvision ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(REL_TOL);
      m.dispose();
    },
    240_000,
  );
});
