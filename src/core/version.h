#pragma once

namespace vv {
// Library version ("major.minor.patch").
const char* version_string();
}  // namespace vv
