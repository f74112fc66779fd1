#pragma once

namespace vv {
// Library version ("major.minor.patch"): VV_VERSION of include/vibevoice/vibevoice.h.
const char* version_string();
}  // namespace vv
