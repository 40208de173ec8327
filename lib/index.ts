// Public API of the resnext package.

export { Tensor, tensor, zeros, full, randn, HostStorage } from './tensor';
export type { DType, Device, RandnOptions, TensorStorage, TensorOptions } from './tensor';
export type { Shape, Shape1, Shape2, Shape3, Shape4, ShapeOf, Pair, Padding, ConvSpec } from './shape';
export { MAX_ELEMENTS, convOutputShape } from './shape';
export { conv2d, conv2dAsync, conv2dPlan, Conv2dPlan } from './ops/conv2d';
export type { Conv2dOptions, Conv2dPlanOptions, Conv2dRunOptions, ConvAlgorithm } from './ops/conv2d';
export { backends, registerBackend } from './backends/registry';
export type { BackendInfo } from './backends/registry';
export type { Backend, BackendName, BackendStatus, Conv2dPlanInfo, PreparedConv2d } from './backends/backend';
export { memory, resetPeakMemory, synchronize, cudaInfo } from './backends/cuda';
export type { CudaMemoryReport } from './backends/cuda';
export { setNumThreads, getNumThreads, cpuInfo } from './threads';
export { ResnextError } from './errors';
export { batchNorm } from './ops/batch_norm';
export type { BatchNormParams } from './ops/batch_norm';
export { relu } from './ops/relu';
export { add } from './ops/add';
export type { AddOptions } from './ops/add';
export { maxPool2d, maxPool2dAsync } from './ops/max_pool2d';
export type { MaxPool2dOptions } from './ops/max_pool2d';
export { avgPool2d, avgPool2dAsync } from './ops/avg_pool2d';
export type { AvgPool2dOptions } from './ops/avg_pool2d';
export { globalAvgPool, globalAvgPoolAsync } from './ops/global_avg_pool';
export { linear, linearAsync } from './ops/linear';
export { flatten } from './ops/flatten';
export type { LayerOptions } from './ops/op_backend';
export {
  resnext,
  resnet50,
  resnet101,
  resnet152,
  resnet200,
  resnext50_32x4d,
  resnext101_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  resnext29_8x64d,
  resnext29_16x64d,
  table2Models,
  presets,
} from './models/presets';
export type { ResNeXtOptions } from './models/presets';
export { ResNeXtModel } from './models/model';
export type { ToOnnxOptions } from './onnx/export';
export { loadOnnx, OnnxModel } from './onnx/load';
export type { OnnxForwardOptions } from './onnx/load';
export type { ForwardOptions, LoadStateDictResult, ModelOptions, NetworkProfile, ProfileStep } from './models/model';
export type { CpuLayout, ForwardMode } from './backends/cpu_network';
export type { DenseConvImpl } from './backends/cuda_network';
export type { ResNeXtConfig, Architecture } from './models/architecture';
export type { LayerComplexity } from './models/complexity';
export { foldBatchNorm } from './models/fold_bn';
export { loadSafetensors, saveSafetensors, parseSafetensors, serializeSafetensors } from './weights/safetensors';
export { preprocessImage, preprocessBatch, IMAGENET_MEAN, IMAGENET_STD } from './preprocess';
export type { PreprocessOptions, RgbImage } from './preprocess';
export { softmax, topk, classify } from './classify';
export type { Classification, ClassifyOptions } from './classify';
export { IMAGENET_CLASSES } from './imagenet_classes';
export { loadTorch, parseTorch } from './weights/torch';
