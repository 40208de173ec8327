'use strict';
// onnxruntime-node's native session, called directly (synchronous run with
// preallocated outputs: no promise or output allocation in the timing), with
// the settings every benchmark here compares against: `threads` intra-op
// threads, one inter-op thread, sequential execution, all graph
// optimisations. `extra` adds session options (e.g. enableProfiling).
const { binding, initOrt } = require('onnxruntime-node/dist/binding');

function ortNativeSession(bytes, threads, extra = {}) {
  initOrt();
  const s = new binding.InferenceSession();
  s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...extra,
  });
  return s;
}

module.exports = { ortNativeSession };
