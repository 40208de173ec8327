#!/usr/bin/env node
// Builds the prebuilt addons that `npm pack` ships (run by `npm run prebuild`
// and by `prepack`):
//
//   prebuilds/linux-x64/resnext.node            the CPU addon (prebuildify --napi
//       --strip; N-API, so one file serves every Node version). binding.gyp links
//       libstdc++/libgcc statically, so it needs only the system glibc.
//   prebuilds/linux-x64-cuda/resnext_cuda.node  the CUDA addon, when nvcc is
//       found: SASS for sm_80, sm_86, sm_89, sm_90 plus compute_90 PTX, the
//       CUDA runtime linked statically, cuDNN opened at run time. The folder name
//       keeps node-gyp-build from ever picking it for the CPU addon.
//
// Then it prints the highest GLIBC_/GLIBCXX_ symbol versions each file needs
// (objdump -T), which is the oldest glibc it loads on.
//
// RESNEXT_CUDA=0 skips the CUDA addon (the CPU prebuild takes a minute or two,
// the CUDA one several); RESNEXT_CUDA=1 makes a missing nvcc an error.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { findNodeGyp } = require('./native_tools');

const root = path.resolve(__dirname, '..');
const CUDA_ARCHS = '80-real;86-real;89-real;90-real;90-virtual';

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
}

function newer(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
}

/** The highest version of each symbol family (GLIBC, GLIBCXX, CXXABI, GCC) a file needs. */
function symbolVersions(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return null;
  const best = {};
  for (const m of r.stdout.matchAll(/\b(GLIBC|GLIBCXX|CXXABI|GCC)_(\d+(?:\.\d+)*)\b/g)) {
    const v = m[2].split('.').map(Number);
    if (!best[m[1]] || newer(v, best[m[1]])) best[m[1]] = v;
  }
  return Object.fromEntries(Object.entries(best).map(([k, v]) => [k, v.join('.')]));
}

function report(file) {
  const v = symbolVersions(file);
  const size = (fs.statSync(file).size / 1024).toFixed(0);
  const needs = v
    ? Object.entries(v)
        .map(([k, x]) => `${k}_${x}`)
        .join(', ') || 'no versioned symbols'
    : 'objdump not available';
  console.log(`resnext: ${path.relative(root, file)} (${size} KiB) needs ${needs}`);
}

function cpuPrebuild() {
  const gyp = findNodeGyp();
  const nodeGyp = gyp.args.length ? gyp.args[0] : gyp.cmd;
  const prebuildify = require.resolve('prebuildify/bin.js', { paths: [root] });
  run(process.execPath, [prebuildify, '--napi', '--strip', '--node-gyp', nodeGyp]);
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const newest = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.node'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`prebuildify wrote no .node file into ${dir}`);
  return newest;
}

function cudaPrebuild() {
  if (process.env.RESNEXT_CUDA === '0') {
    console.log('resnext: CUDA prebuild skipped (RESNEXT_CUDA=0)');
    return null;
  }
  const out = path.join(root, 'build-cuda-prebuild');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build-cuda.js')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, RESNEXT_CUDA_ARCHS: CUDA_ARCHS, RESNEXT_CUDA_OUT: out },
  });
  const built = path.join(out, 'Release', 'resnext_cuda.node');
  if (r.status !== 0 || !fs.existsSync(built)) {
    if (process.env.RESNEXT_CUDA === '1') throw new Error('the CUDA prebuild failed (see above)');
    console.log('resnext: no CUDA prebuild (nvcc or cmake not found, or the build failed: see above)');
    return null;
  }
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}-cuda`);
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, 'resnext_cuda.node');
  fs.copyFileSync(built, dest);
  spawnSync('strip', ['--strip-unneeded', dest], { stdio: 'inherit' });
  return dest;
}

try {
  const files = [cpuPrebuild(), cudaPrebuild()].filter(Boolean);
  for (const f of files) report(f);
} catch (err) {
  console.error(`resnext: ${err.message}`);
  process.exit(1);
}
