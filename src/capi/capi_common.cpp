// The C API's error reporting (status + thread-local message) and the conversions between the C enums and
// structs and the C++ API types. The C enums are documented as equal to the C++ ones: checked here.
#include <new>

#include "capi/capi_internal.h"

static_assert(VV_ERROR_USAGE == static_cast<int>(vv::ErrorKind::kUsage));
static_assert(VV_ERROR_MODEL == static_cast<int>(vv::ErrorKind::kModel));
static_assert(VV_ERROR_INPUT == static_cast<int>(vv::ErrorKind::kInput));
static_assert(VV_ERROR_RUNTIME == static_cast<int>(vv::ErrorKind::kRuntime));
static_assert(VV_STOP_EOS == static_cast<int>(vv::StopReason::kEos));
static_assert(VV_STOP_MAX_FRAMES == static_cast<int>(vv::StopReason::kMaxFrames));
static_assert(VV_STOP_MAX_LENGTH == static_cast<int>(vv::StopReason::kMaxLength));
static_assert(VV_STOP_CANCELLED == static_cast<int>(vv::StopReason::kCancelled));
static_assert(VV_EVENT_AUDIO == static_cast<int>(vv::StreamEvent::kAudio));
static_assert(VV_EVENT_UNDERRUN == static_cast<int>(vv::StreamEvent::kUnderrun));
static_assert(VV_EVENT_END == static_cast<int>(vv::StreamEvent::kEnd));

namespace vv::capi {

thread_local std::string g_last_error;  // vv_last_error()

namespace {

// A switch (not a cast) so that a new C++ enumerator without a C counterpart fails to compile (-Wswitch).
vv_status to_c(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return VV_ERROR_USAGE;
    case ErrorKind::kModel:
      return VV_ERROR_MODEL;
    case ErrorKind::kInput:
      return VV_ERROR_INPUT;
    case ErrorKind::kRuntime:
      return VV_ERROR_RUNTIME;
  }
  return VV_ERROR_RUNTIME;
}

vv_event_kind to_c(StreamEvent::Kind kind) {
  switch (kind) {
    case StreamEvent::kAudio:
      return VV_EVENT_AUDIO;
    case StreamEvent::kUnderrun:
      return VV_EVENT_UNDERRUN;
    case StreamEvent::kEnd:
      return VV_EVENT_END;
  }
  return VV_EVENT_END;
}

}  // namespace

vv_status record(vv_status status, const std::string& message) {
  g_last_error = message;
  return status;
}

vv_status record_current_exception() {
  try {
    throw;
  } catch (const Error& e) {
    return record(to_c(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return record(VV_ERROR_RUNTIME, "out of memory");
  } catch (const std::exception& e) {
    return record(VV_ERROR_RUNTIME, std::string("internal error: ") + e.what());
  } catch (...) {
    return record(VV_ERROR_RUNTIME, "internal error: unknown exception");
  }
}

void require(const void* p, const char* what) {
  if (!p) fail(ErrorKind::kUsage, std::string(what) + " is NULL");
}

std::string_view text_view(const char* text, size_t text_len) {
  if (!text && text_len) fail(ErrorKind::kUsage, "text is NULL but text_len is " + std::to_string(text_len));
  return {text ? text : "", text_len};
}

vv_stop_reason to_c(StopReason reason) {
  switch (reason) {
    case StopReason::kEos:
      return VV_STOP_EOS;
    case StopReason::kMaxFrames:
      return VV_STOP_MAX_FRAMES;
    case StopReason::kMaxLength:
      return VV_STOP_MAX_LENGTH;
    case StopReason::kCancelled:
      return VV_STOP_CANCELLED;
  }
  return VV_STOP_CANCELLED;
}

vv_stream_event audio_event(const AudioChunk& c) {
  vv_stream_event ev{};
  ev.kind = VV_EVENT_AUDIO;
  ev.frame = c.first_frame + c.frame_count;
  ev.stop_reason = VV_STOP_EOS;
  ev.chunk = {c.samples.data(), c.samples.size(), c.sample_rate, c.first_frame,
              c.frame_count,    c.text_begin,     c.text_end};
  return ev;
}

vv_stream_event end_event(int64_t frames, StopReason reason) {
  vv_stream_event ev{};
  ev.kind = VV_EVENT_END;
  ev.frame = frames;
  ev.stop_reason = to_c(reason);
  return ev;
}

vv_stream_event to_c(const StreamEvent& event) {
  if (event.kind == StreamEvent::kAudio) return audio_event(event.chunk);
  if (event.kind == StreamEvent::kEnd) return end_event(event.frame, event.stop_reason);
  vv_stream_event ev{};
  ev.kind = to_c(event.kind);
  ev.frame = event.frame;
  ev.stop_reason = VV_STOP_EOS;
  return ev;
}

void deliver(const vv_synthesis_params& p, const vv_stream_event& event) {
  if (event.kind == VV_EVENT_AUDIO && p.on_audio) p.on_audio(&event.chunk, p.user_data);
  if (p.on_event) p.on_event(&event, p.user_data);
}

}  // namespace vv::capi

extern "C" const char* vv_last_error(void) {
  return vv::capi::g_last_error.c_str();
}
