// Status codes returned by every kernel, plan and validation function.
// Kernels never throw and never see Node: they return a Status, and the
// N-API layer (native/napi/) turns it into a JS TypeError/RangeError/Error.
#pragma once

#include <string>

namespace resnext {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a parameter value is out of range (RangeError in JS)
  kInvalidType,      // a parameter has the wrong type (TypeError in JS)
  kUnsupported,      // valid, but this implementation cannot run it
  kOutOfMemory,
  kInternal,
};

// A status is a code plus a message naming the offending parameter and value,
// e.g. "groups: expected a positive integer that divides C=17 but received 3".
struct Status {
  StatusCode code = StatusCode::kOk;
  std::string message;

  static Status Ok() { return Status{}; }
  static Status InvalidArgument(std::string msg) { return Status{StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status InvalidType(std::string msg) { return Status{StatusCode::kInvalidType, std::move(msg)}; }
  static Status Unsupported(std::string msg) { return Status{StatusCode::kUnsupported, std::move(msg)}; }
  static Status OutOfMemory(std::string msg) { return Status{StatusCode::kOutOfMemory, std::move(msg)}; }
  static Status Internal(std::string msg) { return Status{StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code == StatusCode::kOk; }
};

}  // namespace resnext
