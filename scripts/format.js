'use strict';
// Formatting is the tools' job: clang-format (.clang-format) for native/ and
// prettier (.prettierrc.json) for the TypeScript and JavaScript sources.
//   npm run format         rewrite the files in place
//   npm run format:check   exit 1 and name the files that are not formatted
// Both tools come from devDependencies (clang-format's npm package ships the
// binary), so a fresh `npm ci` is all this needs.
const { execFileSync, spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const check = process.argv.includes('--check');

function tracked(patterns) {
  const out = execFileSync('git', ['ls-files', '--', ...patterns], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
let failed = false;

const native = tracked(['native/*.cc', 'native/*.h', 'native/*.inc', 'native/*.cu', 'native/*.cuh']);
const clangArgs = check ? ['--style=file', '--dry-run', '--Werror', ...native] : ['--style=file', '-i', ...native];
const clang = spawnSync(bin('clang-format'), clangArgs, { cwd: root, encoding: 'utf8' });
if (clang.status !== 0) {
  failed = true;
  const files = [...new Set(clang.stderr.match(/^[^\s:]+\.(cc|h|inc|cu|cuh)(?=:\d+:\d+: error)/gm) || [])];
  process.stderr.write(files.length ? `clang-format: not formatted: ${files.join(', ')}\n` : clang.stderr);
}

const js = tracked(['lib/*.ts', 'test/*.ts', 'bench/*.js', 'scripts/*.js', 'bin/*.js', 'vitest.config.mts']).filter(
  (f) => !f.startsWith('bench/results/'),
);
const prettier = spawnSync(bin('prettier'), [check ? '--check' : '--write', '--log-level', 'warn', ...js], {
  cwd: root,
  encoding: 'utf8',
  stdio: 'inherit',
});
if (prettier.status !== 0) failed = true;

if (failed) {
  if (check) process.stderr.write('Run `npm run format` to fix.\n');
  process.exit(1);
}
console.log(`${check ? 'formatted' : 'formatted in place'}: ${native.length} native files, ${js.length} TS/JS files`);
