#!/usr/bin/env node
// `npm install` hook. The CPU addon: keep the prebuilt one (prebuilds/) when it
// loads, compile from source (node-gyp) only when none does or when asked
// (npm_config_build_from_source=true / --build-from-source). The CUDA addon:
// compiled only when RESNEXT_CUDA=1 asks for it (scripts/build-cuda.js).
//
// A failed compile does not fail the install: it prints a short reason and the
// fix, keeps the full log in build/install.log, and the package then warns
// (RESNEXT_NO_NATIVE) on the first operation that needed the addon.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { findNodeGyp } = require('./native_tools');

const root = path.resolve(__dirname, '..');

function prebuiltLoads() {
  try {
    const file = require('node-gyp-build').path(root);
    require(file);
    return path.relative(root, file);
  } catch (err) {
    return null;
  }
}

function compileCpu() {
  const gyp = findNodeGyp();
  const started = Date.now();
  const r = spawnSync(gyp.cmd, [...gyp.args, 'rebuild', '--jobs', process.env.JOBS || 'max'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const log = `${r.stdout || ''}${r.stderr || ''}${r.error ? String(r.error) : ''}`;
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'install.log'), log);
  if (r.status === 0) {
    console.log(`resnext: compiled the CPU addon from source in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const lines = log.split('\n').map((l) => l.trim());
  const cause =
    lines.find((l) => /find Python|not found|No such file|command not found|ENOENT/i.test(l) && !/^gyp info/.test(l)) ||
    lines.find((l) => /error/i.test(l)) ||
    `node-gyp exited with ${r.status}`;
  console.warn(
    `resnext: no prebuilt addon for ${process.platform}-${process.arch} loaded and compiling one failed (${cause.slice(0, 200)}).\n` +
      `resnext: full log: ${path.join(root, 'build', 'install.log')}. Install python3, make and a C++17 compiler, then run \`npm rebuild resnext\`.\n` +
      `resnext: until then every operation runs on the slow reference backend and warns once (RESNEXT_NO_NATIVE).`,
  );
}

const fromSource = process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');
const loaded = fromSource ? null : prebuiltLoads();
if (!loaded) compileCpu();

if (process.env.RESNEXT_CUDA === '1') require('./build-cuda.js');
