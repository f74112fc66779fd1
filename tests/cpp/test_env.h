// Environment of the C++ tests, shared by every test file: whether they run under CI (CI=true), where a
// missing input is a failure instead of a skip (DEVELOPERS.md).
#pragma once

#include <cstdlib>
#include <string_view>

namespace vv_test {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string_view(ci) == "true";
}

}  // namespace vv_test
