// Shared by the C API sources (src/capi/*.cpp): the handle types, the translation of C++ exceptions into a
// vv_status plus a thread-local message, the copy of versioned parameter structs, and the conversions
// between the C structs of include/vibevoice/vibevoice.h and the C++ types of vibevoice.hpp.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "vibevoice/vibevoice.h"
#include "vibevoice/vibevoice.hpp"

struct vv_engine {
  vv::Engine engine;
  std::vector<vv::VoiceDescription> voices;
};

struct vv_stream {
  vv_stream(vv::Stream s, bool pull) : stream(std::move(s)), pull_mode(pull) {}
  vv::Stream stream;
  const bool pull_mode;     // created without callbacks: events come from vv_stream_next
  vv::StreamEvent current;  // the last event of vv_stream_next (backs the samples it handed out)
};

namespace vv::capi {

// Sets this thread's last error message; returns `status`.
vv_status record(vv_status status, const std::string& message);
// The status and message for the exception being handled (call only inside a catch block).
vv_status record_current_exception();

// Runs `body`, translating exceptions into a status and the thread's last error.
template <typename F>
vv_status guarded(F&& body) {
  try {
    body();
    return VV_OK;
  } catch (...) {
    return record_current_exception();
  }
}

// kUsage "<what> is NULL" when p is null.
void require(const void* p, const char* what);
// The text argument of the C API as a view (kUsage for NULL with a non-zero length).
std::string_view text_view(const char* text, size_t text_len);

// Copies a caller's params struct over the defaults, honouring its struct_size (an older header's struct is
// a prefix of the current one). The copy keeps the caller's struct_size, so has_field() can tell which
// fields the caller's header had.
template <typename T>
T versioned(const T* given, T defaults, const char* what) {
  require(given, what);
  if (given->struct_size < sizeof(size_t) || given->struct_size > sizeof(T)) {
    vv::fail(vv::ErrorKind::kUsage,
             std::string(what) + ".struct_size is " + std::to_string(given->struct_size) + " (expected " +
                 std::to_string(sizeof(T)) + "); start from the *_default_params() function");
  }
  std::memcpy(static_cast<void*>(&defaults), given, given->struct_size);
  return defaults;
}

// True when a field ending at byte `field_end` was part of the caller's struct.
inline bool has_field(size_t struct_size, size_t field_end) {
  return struct_size >= field_end;
}

// Validated options of a vv_synthesis_params (copies the injected noise).
vv::SynthesisOptions to_options(const vv_synthesis_params& p);

vv_stop_reason to_c(vv::StopReason reason);
vv_stream_event to_c(const vv::StreamEvent& event);
vv_stream_event audio_event(const vv::AudioChunk& chunk);  // refers to chunk.samples
vv_stream_event end_event(int64_t frames, vv::StopReason reason);
// Hands an event to the callbacks of `p`: on_audio (audio events) and on_event (all).
void deliver(const vv_synthesis_params& p, const vv_stream_event& event);

}  // namespace vv::capi
