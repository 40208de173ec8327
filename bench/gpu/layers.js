// The layers the GPU check measures: ResNeXt-50 (32x4d)'s grouped 3x3
// convolutions, torchvision's layout (stride on the 3x3), one entry per
// distinct shape. Shared by bench_layers.js (ours, cuDNN) and, through
// layers.json written by it, bench_torch.py.
'use strict';

/** name, input channels = output channels, groups, input height = width, stride (see TINY below) */
const LAYERS = [
  { name: 'layer1.3x3.s1', c: 128, g: 32, hw: 56, stride: 1 },
  { name: 'layer2.0.3x3.s2', c: 256, g: 32, hw: 56, stride: 2 },
  { name: 'layer2.3x3.s1', c: 256, g: 32, hw: 28, stride: 1 },
  { name: 'layer3.0.3x3.s2', c: 512, g: 32, hw: 28, stride: 2 },
  { name: 'layer3.3x3.s1', c: 512, g: 32, hw: 14, stride: 1 },
  { name: 'layer4.0.3x3.s2', c: 1024, g: 32, hw: 14, stride: 2 },
  { name: 'layer4.3x3.s1', c: 1024, g: 32, hw: 7, stride: 1 },
];

// The ungrouped convs of resnext50_32x4d, one entry per distinct shape (input channels c, output k, filter r x r,
// input side hw): timed on cuDNN at batch 1 in float32 and float16 to find where a float16 forward loses time.
const DENSE = [
  { name: 'stem.7x7.s2', c: 3, k: 64, r: 7, hw: 224, stride: 2, pad: 3 },
  { name: 'layer1.0.conv1', c: 64, k: 128, r: 1, hw: 56, stride: 1, pad: 0 },
  { name: 'layer1.conv1', c: 256, k: 128, r: 1, hw: 56, stride: 1, pad: 0 },
  { name: 'layer1.conv3', c: 128, k: 256, r: 1, hw: 56, stride: 1, pad: 0 },
  { name: 'layer1.0.down', c: 64, k: 256, r: 1, hw: 56, stride: 1, pad: 0 },
  { name: 'layer2.0.conv1', c: 256, k: 256, r: 1, hw: 56, stride: 1, pad: 0 },
  { name: 'layer2.conv1', c: 512, k: 256, r: 1, hw: 28, stride: 1, pad: 0 },
  { name: 'layer2.conv3', c: 256, k: 512, r: 1, hw: 28, stride: 1, pad: 0 },
  { name: 'layer2.0.down.s2', c: 256, k: 512, r: 1, hw: 56, stride: 2, pad: 0 },
  { name: 'layer3.0.conv1', c: 512, k: 512, r: 1, hw: 28, stride: 1, pad: 0 },
  { name: 'layer3.conv1', c: 1024, k: 512, r: 1, hw: 14, stride: 1, pad: 0 },
  { name: 'layer3.conv3', c: 512, k: 1024, r: 1, hw: 14, stride: 1, pad: 0 },
  { name: 'layer3.0.down.s2', c: 512, k: 1024, r: 1, hw: 28, stride: 2, pad: 0 },
  { name: 'layer4.0.conv1', c: 1024, k: 1024, r: 1, hw: 14, stride: 1, pad: 0 },
  { name: 'layer4.conv1', c: 2048, k: 1024, r: 1, hw: 7, stride: 1, pad: 0 },
  { name: 'layer4.conv3', c: 1024, k: 2048, r: 1, hw: 7, stride: 1, pad: 0 },
  { name: 'layer4.0.down.s2', c: 1024, k: 2048, r: 1, hw: 14, stride: 2, pad: 0 },
];

const BATCHES = [1, 32];
const DTYPES = ['float32', 'float16', 'bfloat16'];

// run.sh --dry-run (no GPU, the fake addon): the same layers at 1/8 of the side and batches 1 and 8, so that the
// scripts' plumbing runs in seconds. Nothing measured this way means anything.
if (process.env.RESNEXT_GPU_BENCH_TINY === '1') {
  for (const l of [...LAYERS, ...DENSE]) l.hw = Math.max(4, Math.round(l.hw / 8));
  BATCHES[1] = 8;
}

function outHW(l) {
  const r = l.r || 3,
    pad = l.pad === undefined ? 1 : l.pad;
  return Math.floor((l.hw + 2 * pad - r) / l.stride) + 1;
}

/** Bytes a layer must move at least: input + output + weights, in the storage type. */
function minBytes(l, batch, dtype) {
  const es = dtype === 'float32' ? 4 : 2;
  const p = outHW(l);
  return es * (batch * l.c * l.hw * l.hw + batch * l.c * p * p + l.c * (l.c / l.g) * 9);
}

/** Multiply-accumulates of one run. */
function macs(l, batch) {
  const p = outHW(l);
  return batch * l.c * p * p * (l.c / l.g) * 9;
}

module.exports = { LAYERS, DENSE, BATCHES, DTYPES, outHW, minBytes, macs };
