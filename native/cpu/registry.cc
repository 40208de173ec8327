// The table of CPU convolution implementations, highest priority first.
// Adding a kernel = defining its ConvImpl in its own file and listing it here.
#include "resnext/conv_kernel.h"

namespace resnext {

extern const ConvImpl kConvDepthwise3x3Avx512;
extern const ConvImpl kConvDepthwise3x3Avx2;
extern const ConvImpl kConvDepthwise3x3Scalar;
extern const ConvImpl kConvGroupedS2BcastAvx512;
extern const ConvImpl kConvGrouped3x3Bcast8Avx512;
extern const ConvImpl kConvGrouped3x3Bcast8Avx2;
extern const ConvImpl kConvGrouped3x3Bcast8Scalar;
extern const ConvImpl kConvGroupedS2B32Avx512;
extern const ConvImpl kConvGroupedS2RowsAvx512;
extern const ConvImpl kConvGroupedS2SmallAvx512;
extern const ConvImpl kConvGrouped3x3s2Avx512;
extern const ConvImpl kConvGrouped3x3s2Avx2;
extern const ConvImpl kConvGrouped3x3s2Scalar;
extern const ConvImpl kConvGrouped3x3s1Avx512;
extern const ConvImpl kConvGrouped3x3s1Avx2;
extern const ConvImpl kConvGrouped3x3s1Scalar;
extern const ConvImpl kConvGroupedAvx512;
extern const ConvImpl kConvGroupedAvx2;
extern const ConvImpl kConvGroupedScalar;
extern const ConvImpl kConvWinogradGroupedAvx512;
extern const ConvImpl kConvWinograd43OtfAvx512;
extern const ConvImpl kConvWinograd22OtfAvx512;
extern const ConvImpl kConvWinogradAvx512;
extern const ConvImpl kConvWinogradAvx2;
extern const ConvImpl kConvWinogradScalar;
extern const ConvImpl kConvWinogradS2Avx512;
extern const ConvImpl kConvWinogradS2Avx2;
extern const ConvImpl kConvWinogradS2Scalar;
extern const ConvImpl kConvStemAvx512;
extern const ConvImpl kConvStemAvx2;
extern const ConvImpl kConvStemScalar;
extern const ConvImpl kConvGemmAvx512;
extern const ConvImpl kConvGemmAvx2;
extern const ConvImpl kConvGemmScalar;
extern const ConvImpl kConvDirectAvx512;
extern const ConvImpl kConvDirectAvx2;
extern const ConvImpl kConvDirectScalar;
extern const ConvImpl kConvBlocked1x1Avx512;
extern const ConvImpl kConvBlocked1x1Avx2;
extern const ConvImpl kConvBlocked1x1Scalar;
extern const ConvImpl kConvBlockedGrouped3x3Avx512;
extern const ConvImpl kConvBlockedGrouped3x3Avx2;
extern const ConvImpl kConvBlockedGrouped3x3Scalar;
extern const ConvImpl kConvBlockedDense3x3Avx512;
extern const ConvImpl kConvBlockedDense3x3Avx2;
extern const ConvImpl kConvBlockedDense3x3Scalar;
extern const ConvImpl kConvBlockedWinograd3x3Avx512;
extern const ConvImpl kConvBlockedWinograd3x3Avx2;
extern const ConvImpl kConvBlockedWinograd3x3Scalar;
extern const ConvImpl kConvBlockedWinograd43Avx512;
extern const ConvImpl kConvBlockedWinograd43Avx2;
extern const ConvImpl kConvBlockedWinograd43Scalar;

const ConvImpl* const* ConvImpls(int* count) {
  static const ConvImpl* const kTable[] = {
      &kConvDepthwise3x3Avx512,     // 90: depthwise 3x3 stride 1 pad 1
      &kConvDepthwise3x3Avx2,       // 85
      &kConvWinogradGroupedAvx512,  // 82: groups > 1, 14 <= Cg, Kg <= 128, 3x3 stride 1
      &kConvGroupedS2BcastAvx512,   // 82: groups > 1, Kg 16, 3x3 s2 pad 1: channels fill the lanes (rows at 15-16 wide)
      &kConvGroupedS2B32Avx512,     // 82: groups > 1, Kg 32, 3x3 s2: two vectors of channels (else the small one)
      &kConvGroupedS2RowsAvx512,    // 81: groups > 1, Cg, Kg >= 16, 3x3 stride 2 pad 1 (gemm unless 9-16 wide)
      &kConvGroupedS2SmallAvx512,   // 81: groups > 1, Kg 25-32, 3x3 stride 2 (gemm at batch 1 or past 16 wide)
      &kConvGrouped3x3Bcast8Avx512,  // 81: groups > 1, Kg 8, 3x3 s1/s2 pad 1, 256-bit: where AVX-512 is double-pumped
      &kConvGrouped3x3s1Avx512,      // 80: groups > 1, Cg < 16, 3x3 stride 1 pad 1
      &kConvGrouped3x3s2Avx512,      // 80: groups > 1, Cg < 16, 3x3 stride 2 pad 1
      &kConvDepthwise3x3Scalar,      // 75
      &kConvGrouped3x3Bcast8Avx2,    // 71: groups > 1, Kg 8, 3x3 s2 pad 1 (s1 when forced): no even/odd split
      &kConvGrouped3x3s1Avx2,        // 70
      &kConvGrouped3x3s2Avx2,        // 70
      &kConvGrouped3x3Bcast8Scalar,  // 66: as grouped3x3_bcast8_avx2
      &kConvGrouped3x3s1Scalar,      // 65
      &kConvGrouped3x3s2Scalar,      // 65
      &kConvGroupedAvx512,           // 60: groups > 1, Cg < 16
      &kConvGroupedAvx2,             // 50
      &kConvGroupedScalar,           // 40
      &kConvStemAvx512,              // 38: groups 1, at most 4 input channels (the stem)
      &kConvWinogradAvx512,          // 37: dense 3x3 stride 1, K >= 16
      &kConvWinogradS2Avx512,        // 36: dense 3x3 stride 2, K >= 16
      &kConvGemmAvx512,              // 35: dense, and grouped with Cg >= 16
      &kConvStemAvx2,                // 33
      &kConvWinogradAvx2,            // 32
      &kConvWinogradS2Avx2,          // 31
      &kConvGemmAvx2,                // 30
      &kConvStemScalar,              // 28
      &kConvWinogradScalar,          // 27
      &kConvWinogradS2Scalar,        // 26
      &kConvGemmScalar,              // 25
      &kConvDirectAvx512,
      &kConvDirectAvx2,
      &kConvDirectScalar,
      // 0, after the generic kernel: never chosen, only forced by name. The
      // blocked-layout kernels (resnext/conv_blocked.h) on NCHW tensors,
      // converting per image around the kernel, for tests of each variant.
      &kConvBlocked1x1Avx512,
      &kConvBlocked1x1Avx2,
      &kConvBlocked1x1Scalar,
      &kConvBlockedGrouped3x3Avx512,
      &kConvBlockedGrouped3x3Avx2,
      &kConvBlockedGrouped3x3Scalar,
      &kConvBlockedDense3x3Avx512,
      &kConvBlockedDense3x3Avx2,
      &kConvBlockedDense3x3Scalar,
      &kConvBlockedWinograd3x3Avx512,
      &kConvBlockedWinograd3x3Avx2,
      &kConvBlockedWinograd3x3Scalar,
      &kConvBlockedWinograd43Avx512,
      &kConvBlockedWinograd43Avx2,
      &kConvBlockedWinograd43Scalar,
      // 0: dense F(4x4) with the weights transformed per run; a network times it against
      // winograd_grouped_avx512 (ConvImpl::alternate).
      &kConvWinograd43OtfAvx512,
      // 0: dense F(2x2) with the weights transformed per run; a network times it against
      // winograd_avx512 (ConvImpl::alternate).
      &kConvWinograd22OtfAvx512,
  };
  *count = static_cast<int>(sizeof(kTable) / sizeof(kTable[0]));
  return kTable;
}

}  // namespace resnext
