// The table of CPU convolution implementations, highest priority first.
// Adding a kernel = defining its ConvImpl in its own file and listing it here.
#include "resnext/conv_kernel.h"

namespace resnext {

extern const ConvImpl kConvGroupedAvx512;
extern const ConvImpl kConvGroupedAvx2;
extern const ConvImpl kConvGroupedScalar;
extern const ConvImpl kConvGemmAvx512;
extern const ConvImpl kConvGemmAvx2;
extern const ConvImpl kConvGemmScalar;
extern const ConvImpl kConvDirectAvx512;
extern const ConvImpl kConvDirectAvx2;
extern const ConvImpl kConvDirectScalar;

const ConvImpl* const* ConvImpls(int* count) {
  static const ConvImpl* const kTable[] = {
      &kConvGroupedAvx512,  // 60: groups > 1, Cg < 16
      &kConvGroupedAvx2,    // 50
      &kConvGroupedScalar,  // 40
      &kConvGemmAvx512,  // 35: dense, and grouped with Cg >= 16
      &kConvGemmAvx2,    // 30
      &kConvGemmScalar,  // 25
      &kConvDirectAvx512,
      &kConvDirectAvx2,
      &kConvDirectScalar,
  };
  *count = static_cast<int>(sizeof(kTable) / sizeof(kTable[0]));
  return kTable;
}

}  // namespace resnext
