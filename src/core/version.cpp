#include "core/version.h"

#include <string_view>

#include "vibevoice/vibevoice.h"

// VV_VERSION must spell the numeric macros (the tests check those against the CMake project version).
#define VV_STRINGIFY_(x) #x
#define VV_STRINGIFY(x) VV_STRINGIFY_(x)
static_assert(std::string_view(VV_VERSION) == VV_STRINGIFY(VV_VERSION_MAJOR) "." VV_STRINGIFY(
                                                  VV_VERSION_MINOR) "." VV_STRINGIFY(VV_VERSION_PATCH),
              "VV_VERSION does not match VV_VERSION_MAJOR/MINOR/PATCH in vibevoice.h");

namespace vv {
const char* version_string() {
  return VV_VERSION;
}
}  // namespace vv
