#include "core/version.h"

namespace vv {
const char* version_string() {
  return "0.1.0";
}
}  // namespace vv
