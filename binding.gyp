{
  # The CPU addon (build/Release/resnext.node). Built for baseline x86-64: the
  # AVX2 and AVX-512 kernels enable their ISA per file with
  # `#pragma GCC target` and are only called after CPUID says the CPU has it,
  # so the addon never dies with SIGILL on an older CPU.
  "targets": [
    {
      "target_name": "resnext",
      "sources": [
        "native/core/validate.cc",
        "native/core/conv_plan.cc",
        "native/cpu/cpu_features.cc",
        "native/cpu/thread_pool.cc",
        "native/cpu/malloc_policy.cc",
        "native/cpu/same_bytes.cc",
        "native/cpu/packed_buffer.cc",
        "native/cpu/registry.cc",
        "native/cpu/conv_direct_scalar.cc",
        "native/cpu/conv_direct_avx2.cc",
        "native/cpu/conv_direct_avx512.cc",
        "native/cpu/conv_gemm_scalar.cc",
        "native/cpu/conv_gemm_avx2.cc",
        "native/cpu/conv_gemm_avx512.cc",
        "native/cpu/conv_winograd_scalar.cc",
        "native/cpu/conv_winograd_avx2.cc",
        "native/cpu/conv_winograd_avx512.cc",
        "native/cpu/conv_winograd_grouped_avx512.cc",
        "native/cpu/conv_winograd_grouped_f43_avx512.cc",
        "native/cpu/conv_winograd43_otf_avx512.cc",
        "native/cpu/conv_winograd22_otf_avx512.cc",
        "native/cpu/conv_winograd_grouped_f43x4_avx512.cc",
        "native/cpu/conv_grouped_scalar.cc",
        "native/cpu/conv_grouped_avx2.cc",
        "native/cpu/conv_grouped_avx512.cc",
        "native/cpu/conv_grouped3x3s1_scalar.cc",
        "native/cpu/conv_grouped3x3s1_avx2.cc",
        "native/cpu/conv_grouped3x3s1_avx512.cc",
        "native/cpu/conv_grouped3x3s2_scalar.cc",
        "native/cpu/conv_grouped3x3s2_avx2.cc",
        "native/cpu/conv_grouped3x3s2_avx512.cc",
        "native/cpu/conv_grouped3x3s2_bcast_avx512.cc",
        "native/cpu/conv_grouped3x3_bcast8_avx512.cc",
        "native/cpu/conv_grouped3x3_bcast8_avx2.cc",
        "native/cpu/conv_grouped3x3_bcast8_scalar.cc",
        "native/cpu/conv_grouped3x3s2_bcast32_avx512.cc",
        "native/cpu/conv_grouped3x3s2_rows_avx512.cc",
        "native/cpu/conv_grouped3x3s2_small_avx512.cc",
        "native/cpu/conv_depthwise3x3_scalar.cc",
        "native/cpu/conv_depthwise3x3_avx2.cc",
        "native/cpu/conv_depthwise3x3_avx512.cc",
        "native/cpu/conv_stem_scalar.cc",
        "native/cpu/conv_stem_avx2.cc",
        "native/cpu/conv_stem_avx512.cc",
        "native/cpu/conv_blocked_layout.cc",
        "native/cpu/conv_blocked1x1_scalar.cc",
        "native/cpu/conv_blocked1x1_avx2.cc",
        "native/cpu/conv_blocked1x1_avx512.cc",
        "native/cpu/conv_blocked_grouped3x3_scalar.cc",
        "native/cpu/conv_blocked_grouped3x3_avx2.cc",
        "native/cpu/conv_blocked_grouped3x3_avx512.cc",
        "native/cpu/conv_blocked_dense3x3_scalar.cc",
        "native/cpu/conv_blocked_dense3x3_avx2.cc",
        "native/cpu/conv_blocked_dense3x3_avx512.cc",
        "native/cpu/conv_blocked_winograd3x3_scalar.cc",
        "native/cpu/conv_blocked_winograd3x3_avx2.cc",
        "native/cpu/conv_blocked_winograd3x3_avx512.cc",
        "native/napi/convert.cc",
        "native/napi/conv_plan_wrap.cc",
        "native/cpu/max_pool2d.cc",
        "native/cpu/max_pool3x3s2_avx512.cc",
        "native/cpu/avg_pool2d.cc",
        "native/cpu/global_avg_pool.cc",
        "native/cpu/pool_kernels_scalar.cc",
        "native/cpu/pool_kernels_avx2.cc",
        "native/cpu/pool_kernels_avx512.cc",
        "native/cpu/linear.cc",
        "native/napi/max_pool2d_wrap.cc",
        "native/napi/avg_pool2d_wrap.cc",
        "native/napi/global_avg_pool_wrap.cc",
        "native/napi/linear_wrap.cc",
        "native/cpu/layer_program.cc",
        "native/napi/network_wrap.cc",
        "native/napi/addon.cc",
        "native/cpu/glibc_compat.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include"
      ],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: when a worker is terminated
      # mid-call, napi_throw and the napi_define_properties of a new Napi::Error
      # fail with napi_pending_exception although nothing is pending, and
      # node-addon-api would abort the whole process (a SIGABRT seen once in
      # test/lifetimes.test.ts' worker_terminate); with it the error is
      # dropped, since nothing can observe it (node-addon-api PR 975).
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-O2"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-pthread", "-fno-math-errno"],
      # libstdc++ is linked statically so the prebuilt addon needs no GLIBCXX_
      # symbols and loads on distributions with an older libstdc++ (see
      # native/cpu/glibc_compat.cc). libgcc stays dynamic: the static unwinder
      # of GCC 12 would need glibc 2.35's _dl_find_object.
      "ldflags": ["-pthread", "-static-libstdc++"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1}}
    }
  ]
}
