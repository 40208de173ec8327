'use strict';
// The convolutions bench:peers times: ResNeXt-50/101 grouped 3x3 layers, the
// same layers dense, the groups sweep of the first layer, the 1x1 convs of a
// bottleneck and the 7x7 stem. fp32, NCHW. `kind` says which per-layer target
// the case belongs to (grouped-small: <= 8 channels per group; grouped-large:
// 16 or more; depthwise; dense3x3; conv1x1; stem).

function conv3x3(C, H, groups, stride = 1) {
  const Cg = C / groups;
  const kind = groups === 1 ? 'dense3x3' : groups === C ? 'depthwise' : Cg <= 8 ? 'grouped-small' : 'grouped-large';
  const name = `conv3x3 ${C}@${H}${stride > 1 ? '/s2' : ''} g${groups}`;
  return { name, kind, C, H, W: H, K: C, R: 3, S: 3, groups, stride, pad: 1 };
}

function conv1x1(C, K, H, stride = 1) {
  return {
    name: `conv1x1 ${C}->${K}@${H}${stride > 1 ? '/s2' : ''}`,
    kind: 'conv1x1',
    C,
    H,
    W: H,
    K,
    R: 1,
    S: 1,
    groups: 1,
    stride,
    pad: 0,
  };
}

function allCases() {
  const list = [];
  // ResNeXt-50 32x4d (4, 8, 16, 32 channels per group) and the stride-2
  // 3x3 of each stage's first block.
  for (const [C, H] of [
    [128, 56],
    [256, 28],
    [512, 14],
    [1024, 7],
  ])
    list.push({ ...conv3x3(C, H, 32), net: 'resnext50_32x4d' });
  for (const [C, H] of [
    [256, 56],
    [512, 28],
    [1024, 14],
  ])
    list.push({ ...conv3x3(C, H, 32, 2), net: 'resnext50_32x4d' });
  // ResNeXt-101 64x4d (4 per group) and 32x8d (8 per group): twice the widths.
  for (const [C, H] of [
    [256, 56],
    [512, 28],
    [1024, 14],
    [2048, 7],
  ])
    list.push({ ...conv3x3(C, H, 64), net: 'resnext101_64x4d' });
  for (const [C, H] of [
    [256, 56],
    [512, 28],
    [1024, 14],
    [2048, 7],
  ])
    list.push({ ...conv3x3(C, H, 32), net: 'resnext101_32x8d' });
  // Groups sweep of the first layer.
  for (const g of [1, 2, 4, 8, 16, 32, 64, 128]) list.push({ ...conv3x3(128, 56, g), net: 'sweep' });
  // The same layers dense.
  for (const [C, H] of [
    [128, 56],
    [256, 28],
    [512, 14],
    [1024, 7],
  ])
    list.push({ ...conv3x3(C, H, 1), net: 'dense' });
  for (const [C, H] of [
    [256, 56],
    [512, 28],
    [1024, 14],
  ])
    list.push({ ...conv3x3(C, H, 1, 2), net: 'dense' });
  // The 1x1 convs of ResNeXt-50 bottlenecks (reduce, expand, downsample).
  list.push({ ...conv1x1(256, 128, 56), net: 'resnext50_32x4d' });
  list.push({ ...conv1x1(128, 256, 56), net: 'resnext50_32x4d' });
  list.push({ ...conv1x1(512, 256, 28), net: 'resnext50_32x4d' });
  list.push({ ...conv1x1(256, 512, 56, 2), net: 'resnext50_32x4d' });
  list.push({ ...conv1x1(1024, 2048, 14, 2), net: 'resnext50_32x4d' });
  list.push({ ...conv1x1(2048, 512, 7), net: 'resnext50_32x4d' });
  // The stem.
  list.push({
    name: 'stem7x7 3->64@224/s2',
    kind: 'stem',
    net: 'resnext50_32x4d',
    C: 3,
    H: 224,
    W: 224,
    K: 64,
    R: 7,
    S: 7,
    groups: 1,
    stride: 2,
    pad: 3,
  });
  const seen = new Map();
  for (const c of list) if (!seen.has(c.name)) seen.set(c.name, c);
  return [...seen.values()];
}

function outSize(c) {
  const P = Math.floor((c.H + 2 * c.pad - c.R) / c.stride) + 1;
  const Q = Math.floor((c.W + 2 * c.pad - c.S) / c.stride) + 1;
  return { P, Q };
}

/** 2 * multiply-accumulates. */
function flops(c, N) {
  const { P, Q } = outSize(c);
  return 2 * N * c.K * P * Q * (c.C / c.groups) * c.R * c.S;
}

module.exports = { allCases, outSize, flops };
