#!/usr/bin/env node
// The `resnext` command (bench, verify, info): a thin launcher for the compiled
// CLI in dist/cjs/cli (source in lib/cli/).
'use strict';
const path = require('node:path');

let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'main.js'));
} catch (err) {
  process.stderr.write(
    `resnext: the compiled CLI is missing (${String(err && err.message).split('\n')[0]}).\n` +
      'In a clone of the repository, run `npm run build:ts` first.\n',
  );
  process.exit(1);
}
cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`resnext: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
