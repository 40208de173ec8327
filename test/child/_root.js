// The package under test for the child-process scripts in this folder: the
// built package of this checkout (dist/, build-cuda/), or RESNEXT_TEST_ROOT's
// (to run a script against another build, e.g. an unfixed one).
const path = require('node:path');

const root = process.env.RESNEXT_TEST_ROOT || path.resolve(__dirname, '..', '..');
module.exports = {
  root,
  pkg: path.join(root, 'dist', 'cjs', 'index.js'),
  addon: path.join(root, 'build-cuda', 'Release', 'resnext_cuda.node'),
};
