// `resnext info`: which backends this installation can run (and why not, for
// the others), the CPU features the native kernels dispatch on, the thread
// count and the versions, as text or JSON.

import type { InfoArgs } from './args';
import { machineInfo } from './machine';
import type { Output } from './output';

export function runInfo(args: InfoArgs, out: Output): number {
  const m = machineInfo();
  if (args.json) {
    out.stdout(JSON.stringify(m, null, 2));
    return 0;
  }
  const lines: string[] = [];
  lines.push(`resnext ${m.packageVersion} on Node ${m.node} (${m.platform}-${m.arch})`);
  lines.push(`CPU: ${m.cpuModel}, ${m.cores} logical cores, ${m.memoryGiB} GiB`);
  if (m.simd !== null) {
    lines.push(`SIMD: kernels dispatch to ${m.simd} (CPU supports up to ${m.simdSupported})`);
    lines.push(`CPU features detected: ${m.cpuFeatures.join(' ')}`);
  } else {
    lines.push('SIMD: unknown (the native CPU addon is not loaded)');
  }
  lines.push(`Threads: ${m.threads} (change with setNumThreads() or bench --threads)`);
  lines.push(`Native CPU addon: ${m.addons?.cpu ?? 'not loaded (see the cpu backend below)'}`);
  if (m.allocator) {
    const a = m.allocator;
    const mib = (b: number): string => `${b / 2 ** 20} MiB`;
    lines.push(
      a.tuned
        ? `malloc: glibc mmap threshold ${mib(a.mmapThreshold)}, trim threshold ${mib(a.trimThreshold)} (freed outputs reused; RESNEXT_MALLOC_TUNING=0 leaves glibc's)`
        : `malloc: left as it was (${a.reason})`,
    );
  }
  if (m.addons?.cuda) lines.push(`CUDA addon: ${m.addons.cuda}`);
  lines.push('Backends:');
  for (const b of m.backends)
    lines.push(`  ${b.name.padEnd(10)} ${b.available ? 'available' : `unavailable: ${b.reason ?? 'no reason given'}`}`);
  lines.push(
    `onnxruntime-node: ${m.onnxruntime ?? "not installed (optional, for 'bench --compare onnxruntime': npm install onnxruntime-node)"}`,
  );
  out.stdout(lines.join('\n'));
  return 0;
}
