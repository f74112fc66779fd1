// Internal spelling of the public error type (include/vibevoice/error.hpp).
#pragma once

#include "vibevoice/error.hpp"
