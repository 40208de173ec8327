// Shared by the install and prebuild scripts: where node-gyp is, and which
// native addon file a folder would load (node-gyp-build's choice).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

/** node-gyp's CLI: npm's own (set for lifecycle scripts, or next to npm), else the one on PATH. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const found = candidates.find((p) => fs.existsSync(p));
  return found ? { cmd: process.execPath, args: [found] } : { cmd: 'node-gyp', args: [] };
}

module.exports = { findNodeGyp };
