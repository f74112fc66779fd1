// Public error type (part of the C++ API), shared by every part of the engine. Each error carries a category
// that maps onto the documented CLI exit codes and C API status codes, and a message that names the
// file/field involved.
#pragma once

#include <stdexcept>
#include <string>

namespace vv {

enum class ErrorKind : int {
  kUsage = 2,    // bad arguments / options
  kModel = 3,    // model directory, graph, manifest or voice problem
  kInput = 4,    // bad input text / noise file / user data
  kRuntime = 5,  // ONNX Runtime failure, I/O failure while writing, internal error
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message) {
  throw Error(kind, message);
}

}  // namespace vv
