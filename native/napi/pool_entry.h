// The two entry points of a pooling kernel, shared by max_pool2d_wrap.cc and
// avg_pool2d_wrap.cc: name(input, shape, output, params) runs it on the
// environment's pool; nameAsync(...) -> Promise runs it on a LayerWorker that
// computes on native copies of the input and output (see layer_worker.h).
// Each wrap supplies only its argument parser; the in/out checks live here so
// both enforce the same rules.
#pragma once

#include <napi.h>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_args.h"
#include "layer_worker.h"
#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext_napi {

template <class Params>
struct PoolArgs {
  Params p;
  F32View in, out;
};

// Exact lengths, no shared memory, and both arrays re-checked (still attached,
// same length) after every argument was read, in case a getter changed one.
template <class Params>
void CheckPoolBuffers(Napi::Env env, const PoolArgs<Params>& a, double in_len, double out_len) {
  WantLength(env, a.in, in_len, "input");
  WantLength(env, a.out, out_len, "output");
  if (Overlaps(a.in, a.out)) ThrowRange(env, "output: must not share memory with input");
  Recheck(a.in, "input");
  Recheck(a.out, "output");
}

template <class Params, PoolArgs<Params> (*Parse)(const Napi::CallbackInfo&),
          resnext::Status (*Kernel)(const Params&, const float*, float*, resnext::ThreadPool&)>
struct PoolEntry {
  static Napi::Value Run(const Napi::CallbackInfo& info) {
    PoolArgs<Params> a = Parse(info);
    resnext::Status s = Kernel(a.p, a.in.data, a.out.data, PoolOf(info.Env()));
    if (!s.ok()) ThrowStatus(info.Env(), s);
    return info.Env().Undefined();
  }

  static Napi::Value RunAsync(const Napi::CallbackInfo& info, const char* worker_name) {
    PoolArgs<Params> a = Parse(info);
    LayerWorker* w = LayerWorker::Create(info.Env(), worker_name);
    return w->Start([p = a.p, in = w->Input(a.in), out = w->Output(a.out), pool = &PoolOf(info.Env())]() {
      return Kernel(p, in, out, *pool);
    });
  }
};

}  // namespace resnext_napi
