// cpuInfo() names the CPU as benchmark figures must (CPUID vendor, family and
// model: the brand string alone may not tell two generations apart, e.g. a VM's
// "AMD EPYC" for Zen 4 and Zen 5), and the machine label the CLI and the
// benchmarks print carries them. Checked against /proc/cpuinfo where Linux has it.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cpuLabel, machineInfo } from '../lib/cli/machine';
import { cpuInfo } from '../lib/index';

const info = cpuInfo();
const x86 = process.arch === 'x64' || process.arch === 'ia32';
const procCpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : null;
const field = (name: string): string | null => {
  const m = procCpuinfo?.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'));
  return m ? m[1].trim() : null;
};
if (!info) console.log(`cpu_info: skipped, the CPU addon is not built (${path.join('build', 'Release')})`);

describe.skipIf(!info || !x86)('cpuInfo(): CPUID vendor, family, model, stepping', () => {
  it('are integers of the x86 ranges, and the label names family and model', () => {
    expect(info!.vendor).toMatch(/^[\x20-\x7e]{12}$/);
    for (const k of ['family', 'model', 'stepping'] as const) expect(Number.isInteger(info![k])).toBe(true);
    expect(info!.family).toBeGreaterThanOrEqual(5);
    expect(info!.model).toBeGreaterThanOrEqual(0);
    expect(info!.stepping).toBeGreaterThanOrEqual(0);
    expect(info!.stepping).toBeLessThan(16);
    expect(cpuLabel().endsWith(` (CPU family ${info!.family}, model ${info!.model})`)).toBe(true);
    expect(machineInfo()).toMatchObject({
      cpuModel: cpuLabel(),
      cpuId: { vendor: info!.vendor, family: info!.family, model: info!.model, stepping: info!.stepping },
    });
  });

  it.skipIf(!field('cpu family'))("match /proc/cpuinfo's vendor_id, cpu family, model and stepping", () => {
    expect(info!.vendor).toBe(field('vendor_id'));
    expect(info!.family).toBe(Number(field('cpu family')));
    expect(info!.model).toBe(Number(field('model')));
    expect(info!.stepping).toBe(Number(field('stepping')));
  });
});

// features.avx512DoublePumped: 512-bit FMAs on 256-bit units, which picks the
// 256-bit grouped3x3_bcast8_avx512 (AMD family 25 with AVX-512: Zen 4).
describe.skipIf(!info || !x86)('cpuInfo().features.avx512DoublePumped', () => {
  it('is set exactly for AMD family 25 with AVX-512 in use', () => {
    const expected = info!.vendor === 'AuthenticAMD' && info!.family === 25 && info!.best === 'avx512';
    expect(info!.features.avx512DoublePumped).toBe(expected);
  });
});
