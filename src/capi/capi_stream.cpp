// C API: incremental synthesis (vv_stream_*) over vv::Stream, in callback mode (on_audio / on_event on the
// worker thread) or pull mode (vv_stream_next).
#include "capi/capi_internal.h"

using vv::capi::guarded;
using vv::capi::require;

extern "C" {

vv_status vv_stream_create(const vv_engine* engine, const vv_synthesis_params* params,
                           vv_stream** out_stream) {
  return guarded([&] {
    require(out_stream, "out_stream");
    *out_stream = nullptr;
    require(engine, "engine");
    const vv_synthesis_params p =
        vv::capi::versioned(params, vv_synthesis_default_params(), "vv_synthesis_params");
    const vv::SynthesisOptions o = vv::capi::to_options(p);
    const bool pull = !p.on_audio && !p.on_event;
    std::function<void(const vv::StreamEvent&)> on_event;
    if (!pull) on_event = [p](const vv::StreamEvent& ev) { vv::capi::deliver(p, vv::capi::to_c(ev)); };
    *out_stream = new vv_stream(engine->engine.stream(o, std::move(on_event)), pull);
  });
}

vv_status vv_stream_push_text(vv_stream* stream, const char* text, size_t text_len) {
  return guarded([&] {
    require(stream, "stream");
    const std::string_view t = vv::capi::text_view(text, text_len);
    stream->stream.push_text(t);
  });
}

vv_status vv_stream_finish(vv_stream* stream) {
  return guarded([&] {
    require(stream, "stream");
    stream->stream.finish();
  });
}

vv_status vv_stream_next(vv_stream* stream, vv_stream_event* out_event) {
  return guarded([&] {
    require(stream, "stream");
    require(out_event, "out_event");
    if (!stream->pull_mode) {
      vv::fail(vv::ErrorKind::kUsage,
               "vv_stream_next on a stream created with on_audio/on_event: its events go to the callbacks");
    }
    stream->current = stream->stream.pull();
    *out_event = vv::capi::to_c(stream->current);
  });
}

vv_status vv_stream_wait(vv_stream* stream, vv_stop_reason* out_reason) {
  return guarded([&] {
    require(stream, "stream");
    vv::StopReason reason = vv::StopReason::kEos;
    if (stream->pull_mode) {
      vv::StreamEvent ev;  // not `current`: what vv_stream_next handed out stays valid
      do {
        ev = stream->stream.pull();
      } while (ev.kind != vv::StreamEvent::kEnd);
      reason = ev.stop_reason;
    } else {
      reason = stream->stream.wait().stop_reason;
    }
    if (out_reason) *out_reason = vv::capi::to_c(reason);
  });
}

vv_status vv_stream_cancel(vv_stream* stream) {
  return guarded([&] {
    require(stream, "stream");
    stream->stream.cancel();
  });
}

void vv_stream_free(vv_stream* stream) {
  delete stream;
}

}  // extern "C"
