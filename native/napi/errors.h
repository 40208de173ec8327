// Turning native Status values and argument problems into JS exceptions.
// Only native/napi/ includes napi.h. Messages follow the TS layer's style:
// "<parameter>: expected <what> but received <value>". Bad arguments are
// TypeError/RangeError; runtime failures are Errors with a stable `code`
// (ERR_RESNEXT_*, see docs/errors.md) that lib/errors.ts rethrows as
// ResnextError.
#pragma once

#include <napi.h>

#include <string>

#include "resnext/status.h"

namespace resnext_napi {

inline Napi::Error StatusToError(Napi::Env env, const resnext::Status& s) {
  switch (s.code) {
    case resnext::StatusCode::kInvalidArgument:
      return Napi::RangeError::New(env, s.message);
    case resnext::StatusCode::kInvalidType:
      return Napi::TypeError::New(env, s.message);
    default: {
      Napi::Error e = Napi::Error::New(env, s.message);
      const char* code = s.code == resnext::StatusCode::kOutOfMemory   ? "ERR_RESNEXT_OUT_OF_MEMORY"
                         : s.code == resnext::StatusCode::kUnsupported ? "ERR_RESNEXT_UNSUPPORTED"
                                                                       : "ERR_RESNEXT_INTERNAL";
      e.Set("code", Napi::String::New(env, code));
      return e;
    }
  }
}

// Thrown as C++ exceptions (NAPI_CPP_EXCEPTIONS) from argument conversion and
// turned into JS exceptions by node-addon-api at the boundary.
[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }
[[noreturn]] inline void ThrowCode(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}
[[noreturn]] inline void ThrowStatus(Napi::Env env, const resnext::Status& s) { throw StatusToError(env, s); }

}  // namespace resnext_napi
