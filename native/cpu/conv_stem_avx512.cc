// Direct convolution for at most 4 input channels (the network stem), output
// pixels in the lanes and output channels in registers; AVX-512: 16 columns per zmm, tiles of 8 channels x 3 vectors
// (24 accumulators). Algorithm and layouts: conv_stem.inc.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "vec_avx512.inc"
constexpr int kStemKB = 8, kStemT = 3;
#include "conv_stem.inc"

}  // namespace

extern const ConvImpl kConvStemAvx512 = {"stem_avx512",  38,       Isa::kAvx512, StemUnsupported,
                                         StemPackedSize, StemPack, StemRun};
}  // namespace resnext
#pragma GCC pop_options
