// Direct convolution for at most 4 input channels (the network stem), output
// pixels in the lanes and output channels in registers; AVX2: 8 columns per ymm, tiles of 4 channels x 3 vectors (12
// accumulators of 16 ymm). Algorithm and layouts: conv_stem.inc.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "vec_avx2.inc"
constexpr int kStemKB = 4, kStemT = 3;
#include "conv_stem.inc"

}  // namespace

extern const ConvImpl kConvStemAvx2 = {"stem_avx2", 33, Isa::kAvx2, StemUnsupported, StemPackedSize, StemPack, StemRun};
}  // namespace resnext
#pragma GCC pop_options
