// Runs the CUDA kernels' per-thread bodies on the CPU (native/cuda/tools/
// emulate_kernels.cu, built next to the CUDA addon by scripts/build-cuda.js)
// against a float64 reference in float32, float16 and bfloat16. This is how
// the kernels' indexing, weight packing and epilogue are checked on machines
// without a GPU, CI included; it skips, saying why, where nvcc was not there.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

const exe = path.resolve(__dirname, '..', 'build-cuda', 'Release', 'resnext_cuda_emulate');
const built = fs.existsSync(exe);
if (!built) console.log(`[cuda_emulate.test] skipped: ${path.relative(process.cwd(), exe)} was not built (no nvcc, or RESNEXT_CUDA=0)`);

describe.skipIf(!built)('CUDA grouped-conv kernels emulated on the CPU', () => {
  it('grouped_direct, grouped_vec4, grouped_mma (warp-level, mma.sync emulated) and grouped_mma_pipe (128-thread blocks, cp.async landing only when waited for) match the float64 reference on 24 shapes x 3 dtypes; transposes and padding match their index formulas', () => {
    const out = execFileSync(exe, { encoding: 'utf8', timeout: 120_000 });
    const summary = out.trim().split('\n').pop()!;
    expect(out).not.toMatch(/^FAIL/m);
    expect(summary).toMatch(/^emulate_kernels: \d+ kernel runs, 0 failed$/);
    for (const k of ['grouped_direct', 'grouped_vec4', 'grouped_mma', 'grouped_mma_pipe'])
      expect(out).toMatch(new RegExp(`^ok   case .* ${k}:`, 'm'));
    // grouped_mma_pipe: each of 4, 8, 16, 32 and 64 channels per group at batch >= 8, and NaN kept through its ReLU.
    for (const cg of [4, 8, 16, 32, 64])
      expect(out).toMatch(new RegExp(`^ok   case \\d+ x=\\[(8|9|10),\\d+,\\d+,\\d+\\] w=\\[\\d+,${cg},.* grouped_mma_pipe:`, 'm'));
    for (const t of ['float16', 'bfloat16'])
      expect(out).toMatch(new RegExp(`^ok   grouped_mma_pipe NaN through bias\\+relu .* ${t}: 36 NaN outputs`, 'm'));
    expect(out).toMatch(/^ok   layouts/m);
    // NaN inputs keep NaN through the fused ReLU (fmaxf(v, 0) would give 0), every kernel.
    for (const k of ['grouped_direct', 'grouped_vec4', 'grouped_mma']) expect(out).toMatch(new RegExp(`^ok   nan case .* ${k} relu`, 'm'));
    expect(out).toMatch(/grouped_vec4/);
    // The model ops' bodies (max pool with NaN, global average pool, linear), float32 and float16.
    for (const op of ['max_pool', 'global_avg_pool', 'linear']) {
      for (const t of ['float32', 'float16']) expect(out).toMatch(new RegExp(`^ok   model_ops ${op} .*${t}`, 'm'));
    }
  });
});
