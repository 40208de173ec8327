// Public API of the resnext package.

export { Tensor, tensor, zeros, full, randn, HostStorage } from './tensor';
export type { DType, Device, RandnOptions, TensorStorage } from './tensor';
export type { Shape, Shape1, Shape2, Shape3, Shape4, ShapeOf, Pair, Padding, ConvSpec } from './shape';
export { MAX_ELEMENTS, convOutputShape } from './shape';
export { conv2d, conv2dAsync, conv2dPlan, Conv2dPlan } from './ops/conv2d';
export type { Conv2dOptions, Conv2dPlanOptions, Conv2dRunOptions } from './ops/conv2d';
export { backends, registerBackend } from './backends/registry';
export type { BackendInfo } from './backends/registry';
export type { Backend, BackendName, BackendStatus, PreparedConv2d } from './backends/backend';
export { setNumThreads, getNumThreads, cpuInfo } from './threads';
export { ResnextError } from './errors';
