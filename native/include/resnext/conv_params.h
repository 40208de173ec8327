// Parameters of one grouped 2-D convolution, shared by every backend.
//
// Layouts (all float32, dense, row-major):
//   input    [N][C][H][W]                 (NCHW)
//   weight   [K][C/G][R][S]               (PyTorch/ONNX OIHW, groups along K)
//   bias     [K] or none
//   output   [N][K][P][Q]                 (NCHW)
//   residual [N][K][P][Q] or none         (added before the activation)
// Output channel k belongs to group k / (K/G) and reads input channels
// [g*C/G, (g+1)*C/G).
//
// P = floor((H + pad_top + pad_bottom - dil_h*(R-1) - 1) / stride_h) + 1, same for Q.
#pragma once

#include <cstdint>

namespace resnext {

enum class Activation : int32_t { kNone = 0, kRelu = 1 };

struct ConvParams {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input
  int64_t K = 1, R = 1, S = 1;         // output channels, kernel height, kernel width
  int64_t G = 1;                       // groups
  int64_t stride_h = 1, stride_w = 1;
  int64_t dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  Activation activation = Activation::kNone;

  int64_t Cg() const { return C / G; }  // input channels per group
  int64_t Kg() const { return K / G; }  // output channels per group
  int64_t P() const { return (H + pad_top + pad_bottom - dil_h * (R - 1) - 1) / stride_h + 1; }
  int64_t Q() const { return (W + pad_left + pad_right - dil_w * (S - 1) - 1) / stride_w + 1; }
  int64_t InputSize() const { return N * C * H * W; }
  int64_t WeightSize() const { return K * Cg() * R * S; }
  int64_t OutputSize() const { return N * K * P() * Q(); }
  // Multiply-accumulates of the whole convolution (the paper's "FLOPs").
  int64_t Macs() const { return N * K * P() * Q() * Cg() * R * S; }
};

}  // namespace resnext
