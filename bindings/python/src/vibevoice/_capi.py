"""ctypes declarations of the C API (include/vibevoice/vibevoice.h) and the loader of libvibevoice.so.

Every struct mirrors the header field by field (same order, same C types; C enums are `int`), and every
function used gets its argtypes and restype. Keep this file in step with vibevoice.h: fields are only ever
appended there, and `struct_size` tells the library which of them this binding knows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from pathlib import Path

c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_float = ctypes.c_float
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_enum = ctypes.c_int  # vv_status, vv_stop_reason, vv_solver, vv_event_kind

# vv_status values
VV_OK = 0
# vv_event_kind values
VV_EVENT_AUDIO, VV_EVENT_UNDERRUN, VV_EVENT_END = 0, 1, 2


class EngineParams(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("model_dir", c_char_p),
        ("threads", c_int),
        ("provider", c_char_p),
    ]


class VoiceInfo(ctypes.Structure):
    _fields_ = [
        ("name", c_char_p),
        ("language", c_char_p),
        ("gender", c_char_p),
        ("lm_len", c_int),
        ("tts_len", c_int),
    ]


class AudioChunk(ctypes.Structure):
    _fields_ = [
        ("samples", ctypes.POINTER(c_float)),
        ("sample_count", c_size_t),
        ("sample_rate", c_int),
        ("first_frame", c_int64),
        ("frame_count", c_int64),
        ("text_begin", c_size_t),
        ("text_end", c_size_t),
    ]


class StreamEvent(ctypes.Structure):
    _fields_ = [
        ("kind", c_enum),
        ("frame", c_int64),
        ("stop_reason", c_enum),
        ("chunk", AudioChunk),
    ]


AudioCallback = ctypes.CFUNCTYPE(None, ctypes.POINTER(AudioChunk), c_void_p)
AbortCallback = ctypes.CFUNCTYPE(c_int, c_void_p)
EventCallback = ctypes.CFUNCTYPE(None, ctypes.POINTER(StreamEvent), c_void_p)


class SynthesisParams(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("voice", c_char_p),
        ("steps", c_int),
        ("cfg_scale", c_float),
        ("seed", c_uint64),
        ("solver", c_enum),
        ("chunk_frames", c_int),
        ("max_frames", c_int64),
        ("ignore_eos", c_int),
        ("noise", ctypes.POINTER(c_float)),
        ("noise_shape", ctypes.POINTER(c_int64)),
        ("noise_ndim", c_size_t),
        ("on_audio", AudioCallback),
        ("should_abort", AbortCallback),
        ("user_data", c_void_p),
        ("decode_thread", c_int),
        # appended after the first layout
        ("noise_len", c_size_t),
        ("on_event", EventCallback),
        ("normalize", c_int),
    ]


class Audio(ctypes.Structure):
    _fields_ = [
        ("samples", ctypes.POINTER(c_float)),
        ("sample_count", c_size_t),
        ("sample_rate", c_int),
        ("latents", ctypes.POINTER(c_float)),
        ("frames", c_int64),
        ("latent_dim", c_int),
        ("stop_reason", c_enum),
    ]


# name: (restype, argtypes)
_PROTOTYPES = {
    "vv_last_error": (c_char_p, []),
    "vv_version": (c_char_p, []),
    "vv_engine_default_params": (EngineParams, []),
    "vv_engine_load": (c_enum, [ctypes.POINTER(EngineParams), ctypes.POINTER(c_void_p)]),
    "vv_engine_free": (None, [c_void_p]),
    "vv_engine_sample_rate": (c_int, [c_void_p]),
    "vv_engine_samples_per_frame": (c_int, [c_void_p]),
    "vv_engine_voice_count": (c_size_t, [c_void_p]),
    "vv_engine_voice": (c_enum, [c_void_p, c_size_t, ctypes.POINTER(VoiceInfo)]),
    "vv_synthesis_default_params": (SynthesisParams, []),
    "vv_synthesize": (c_enum, [c_void_p, c_char_p, c_size_t, ctypes.POINTER(SynthesisParams),
                               ctypes.POINTER(ctypes.POINTER(Audio))]),
    "vv_audio_free": (None, [ctypes.POINTER(Audio)]),
    "vv_stream_create": (c_enum, [c_void_p, ctypes.POINTER(SynthesisParams), ctypes.POINTER(c_void_p)]),
    "vv_stream_push_text": (c_enum, [c_void_p, c_char_p, c_size_t]),
    "vv_stream_finish": (c_enum, [c_void_p]),
    "vv_stream_next": (c_enum, [c_void_p, ctypes.POINTER(StreamEvent)]),
    "vv_stream_wait": (c_enum, [c_void_p, ctypes.POINTER(c_enum)]),
    "vv_stream_cancel": (c_enum, [c_void_p]),
    "vv_stream_free": (None, [c_void_p]),
}

LIBRARY_ENV = "VIBEVOICE_LIBRARY"
_PREFIXES = ("/usr/local/lib", "/usr/lib", "/usr/lib64", "/opt/vibevoice/lib")


class LibraryNotFoundError(OSError):
    """libvibevoice.so could not be found or loaded."""


def _pkg_config_libdir() -> str | None:
    exe = shutil.which("pkg-config")
    if exe is None:
        return None
    try:
        res = subprocess.run([exe, "--variable=libdir", "vibevoice"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    return res.stdout.strip() or None


def _candidates() -> list[str]:
    """Where to look, in order (VIBEVOICE_LIBRARY is handled by the caller)."""
    out = []
    found = ctypes.util.find_library("vibevoice")
    if found:
        out.append(found)
    libdir = _pkg_config_libdir()
    for d in ([libdir] if libdir else []) + list(_PREFIXES):
        for name in ("libvibevoice.so", "libvibevoice.so.0"):
            p = Path(d) / name
            if p.exists():
                out.append(str(p))
    return out


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib: ctypes.CDLL | None = None


def load(path: str | os.PathLike | None = None) -> ctypes.CDLL:
    """Load libvibevoice.so once: `path`, else $VIBEVOICE_LIBRARY, else the usual places."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    explicit = path if path is not None else os.environ.get(LIBRARY_ENV)
    if explicit:
        try:
            _lib = _declare(ctypes.CDLL(os.fspath(explicit)))
        except OSError as e:
            raise LibraryNotFoundError(f"cannot load libvibevoice from {explicit!r} "
                                       f"({'argument' if path is not None else LIBRARY_ENV}): {e}") from e
        return _lib
    errors = []
    for cand in _candidates():
        try:
            _lib = _declare(ctypes.CDLL(cand))
            return _lib
        except (OSError, AttributeError) as e:
            errors.append(f"{cand}: {e}")
    tried = "; ".join(errors) if errors else "not found by ctypes.util.find_library, pkg-config or in " + \
        ", ".join(_PREFIXES)
    raise LibraryNotFoundError(
        "libvibevoice.so was not found (" + tried + "). Install the C library (cmake --install BUILD "
        "--prefix PREFIX) into a standard prefix or add PREFIX/lib to LD_LIBRARY_PATH, or point the "
        f"environment variable {LIBRARY_ENV} at the file, e.g. {LIBRARY_ENV}=/opt/vibevoice/lib/libvibevoice.so")
