#!/usr/bin/env node
// Builds the optional CUDA addon (build-cuda/Release/resnext_cuda.node) with
// cmake-js. `npm install` runs it only with RESNEXT_CUDA=1 (scripts/install.js);
// run directly, it tries when nvcc is found or RESNEXT_CUDA=1 asks for it
// (RESNEXT_CUDA=0 turns it off), and it
// ALWAYS exits 0: a failed CUDA build prints one warning line with the reason
// and the package keeps working on the CPU.
//
// Offline: the Node headers are taken from disk (npm_config_nodedir, else the
// include/node folder next to this Node binary), never downloaded.
//
//   node scripts/build-cuda.js          CUDA addon, when nvcc is there
//   node scripts/build-cuda.js --cpu    the CPU addon through CMake (build-cmake/); fails loudly
//   node scripts/build-cuda.js --asan   the CPU addon with AddressSanitizer + UBSan (build-asan/),
//                                       for `npm run test:asan`; fails loudly
//
// RESNEXT_CUDA_ARCHS overrides the GPU targets (default "80-real;90-real;90-virtual",
// e.g. "90-real" for a quicker build for one H100/H200); RESNEXT_CUDA_JOBS the
// parallel compile jobs (default: all cores); RESNEXT_CUDA_OUT the build folder
// (scripts/prebuild.js uses its own, so the prebuild never replaces build-cuda/).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const asanMode = process.argv.includes('--asan');
const cpuMode = asanMode || process.argv.includes('--cpu');

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function findNvcc() {
  if (process.env.CUDACXX && fs.existsSync(process.env.CUDACXX)) return process.env.CUDACXX;
  const onPath = which('nvcc');
  if (onPath) return onPath;
  for (const home of [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']) {
    if (home && fs.existsSync(path.join(home, 'bin', 'nvcc'))) return path.join(home, 'bin', 'nvcc');
  }
  return null;
}

function localNodeDir() {
  if (process.env.npm_config_nodedir && fs.existsSync(path.join(process.env.npm_config_nodedir, 'include', 'node', 'node_api.h'))) {
    return process.env.npm_config_nodedir;
  }
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null;
}

// cmake-js decides whether to download Node's headers by looking for
// include/node/node.h; a Node-API-only header set (shared/gpu/pack-node.sh
// packs just those) lacks it. Node-API addons never include node.h, so point
// cmake-js at a shadow folder with the real headers and a node.h that fails
// loudly if anything does include it.
function cmakeJsNodeDir(dir) {
  const inc = path.join(dir, 'include', 'node');
  if (fs.existsSync(path.join(inc, 'node.h'))) return dir;
  const shadow = path.join(os.tmpdir(), `resnext-nodedir-${typeof process.getuid === 'function' ? process.getuid() : 0}`);
  const sinc = path.join(shadow, 'include', 'node');
  fs.rmSync(shadow, { recursive: true, force: true });
  fs.mkdirSync(sinc, { recursive: true });
  for (const f of fs.readdirSync(inc)) fs.symlinkSync(path.join(inc, f), path.join(sinc, f));
  fs.writeFileSync(
    path.join(sinc, 'node.h'),
    '// Placeholder made by scripts/build-cuda.js (Node-API headers only).\n#error "resnext: Node-API addons must not include node.h"\n',
  );
  return shadow;
}

function warn(reason) {
  console.warn(`resnext: CUDA addon not built (${reason}); the cpu and reference backends still work`);
  process.exit(0);
}

function main() {
  const want = process.env.RESNEXT_CUDA;
  if (!cpuMode && want === '0') return;
  const nvcc = cpuMode ? null : findNvcc();
  if (!cpuMode && !nvcc && want !== '1') return; // no toolkit: nothing to try, nothing to say
  if (!which('cmake')) {
    if (cpuMode) throw new Error('cmake not found on PATH');
    return warn('cmake not found on PATH');
  }
  const nodedir = localNodeDir();
  if (!nodedir) {
    const msg = 'no local Node headers (set npm_config_nodedir to a folder with include/node/node_api.h)';
    if (cpuMode) throw new Error(msg);
    return warn(msg);
  }
  const outDir = process.env.RESNEXT_CUDA_OUT
    ? path.resolve(process.env.RESNEXT_CUDA_OUT)
    : path.join(root, asanMode ? 'build-asan' : cpuMode ? 'build-cmake' : 'build-cuda');
  fs.mkdirSync(outDir, { recursive: true });
  const jobs = process.env.RESNEXT_CUDA_JOBS || String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root, process.cwd()] });
  } catch {
    // cmake-js is a devDependency: an installed package only needs it to compile CUDA.
    const msg =
      'cmake-js is not installed (run `npm install --no-save cmake-js` in the folder that installs resnext, then `RESNEXT_CUDA=1 npm rebuild resnext`)';
    if (cpuMode) throw new Error(msg);
    return warn(msg);
  }
  const args = [cmakeJs, 'compile', '-O', outDir, '-p', jobs];
  if (cpuMode) {
    args.push('--CDRESNEXT_CUDA=OFF');
    // cmake-js sets CMAKE_CXX_FLAGS itself: the sanitizer flags go on the target (CMakeLists.txt).
    if (asanMode) args.push('--CDRESNEXT_SANITIZE=ON');
  } else {
    args.push('--CDRESNEXT_CUDA=ON', '--CDRESNEXT_CPU_ADDON=OFF');
    if (nvcc) args.push(`--CDCMAKE_CUDA_COMPILER=${nvcc}`);
    if (process.env.RESNEXT_CUDA_ARCHS) args.push(`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.RESNEXT_CUDA_ARCHS}`);
  }
  const env = { ...process.env, npm_config_nodedir: cmakeJsNodeDir(nodedir) };
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const log = `${r.stdout || ''}${r.stderr || ''}`;
  fs.writeFileSync(path.join(outDir, 'build.log'), log);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    const lines = log
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const firstError =
      lines.find((l) => /\berror\b:|fatal error|CMake Error/i.test(l)) ||
      lines.find((l) => /error|not found|failed/i.test(l)) ||
      lines[lines.length - 1] ||
      `exit ${r.status}`;
    if (cpuMode) {
      process.stderr.write(log);
      process.exit(r.status || 1);
    }
    return warn(`${firstError.slice(0, 300)}; full log: ${path.relative(root, path.join(outDir, 'build.log'))}`);
  }
  const addon = path.join(outDir, 'Release', cpuMode ? 'resnext.node' : 'resnext_cuda.node');
  if (!fs.existsSync(addon)) {
    if (cpuMode) throw new Error(`cmake-js finished but ${addon} is missing`);
    return warn(`cmake-js finished but ${path.relative(root, addon)} is missing`);
  }
  let cache = '';
  try {
    cache = fs.readFileSync(path.join(outDir, 'CMakeCache.txt'), 'utf8');
  } catch {
    // no cache: report nothing about cuDNN
  }
  const found = /^RESNEXT_CUDNN_INCLUDE:PATH=(?!.*NOTFOUND).+$/m.test(cache);
  const cudnn = found ? 'with cuDNN (opened at run time)' : 'without cuDNN (cudnn.h not found)';
  console.log(`resnext: built ${path.relative(root, addon)} ${cpuMode ? '' : cudnn + ' '}in ${secs} s`);
}

try {
  main();
} catch (err) {
  if (cpuMode) {
    console.error(`resnext: ${err && err.message ? err.message : err}`);
    process.exit(1);
  }
  warn(err && err.message ? err.message.split('\n')[0] : String(err));
}
