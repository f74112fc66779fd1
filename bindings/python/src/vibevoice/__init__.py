"""Python binding of vibevoice-onnx: streaming text-to-speech with VibeVoice-Realtime-0.5B on ONNX Runtime.

A thin layer over the C API of libvibevoice.so (include/vibevoice/vibevoice.h) with ctypes:
- no compiler and no build step at install (a pure-Python package), and nothing to rebuild per Python
  version: the C API is the library's stable ABI (its structs are versioned by `struct_size`);
- ctypes releases the GIL during every foreign call, so synthesis, a blocking Stream iteration and
  Stream.wait() run without the GIL: other Python threads (a text producer, a player, a canceller) keep
  running, and several threads can synthesize on one Engine at once;
- the cost is a small per-call overhead (microseconds), negligible against the model calls behind each one.
No torch and no Python run inside the engine.

    import vibevoice
    with vibevoice.Engine("model") as engine:
        audio = engine.synthesize("Hello from Python.", voice="en-Emma_woman")  # float32, 24 kHz
        with engine.stream(voice="en-Emma_woman") as stream:
            stream.push_text("Hello ")
            stream.push_text("again.")
            stream.finish()
            for chunk in stream:
                play(chunk.samples)

The library is found through $VIBEVOICE_LIBRARY (a path to libvibevoice.so), else
ctypes.util.find_library("vibevoice"), `pkg-config --variable=libdir vibevoice` and the usual prefixes
(/usr/local/lib, /usr/lib, /opt/vibevoice/lib); it is loaded at the first Engine (or load_library()), so
`import vibevoice` itself never fails for want of it.
"""

from __future__ import annotations

import ctypes
import enum
import math
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

import numpy as np

from . import _capi
from ._capi import LibraryNotFoundError
from ._errors import (InputError, ModelError, Status, UsageError, VibeVoiceError, VibeVoiceRuntimeError,
                      error_for)

# Equal to VV_VERSION of include/vibevoice/vibevoice.h (tests/python/test_binding.py checks it and vv_version()).
__version__ = "0.1.0"

__all__ = ["Engine", "Stream", "Voice", "Chunk", "Underrun", "Audio", "StopReason", "Solver", "Status",
           "VibeVoiceError", "UsageError", "ModelError", "InputError", "VibeVoiceRuntimeError",
           "LibraryNotFoundError", "load_library", "library_version", "__version__"]

Text = Union[str, bytes, bytearray, memoryview]


class StopReason(enum.IntEnum):
    """vv_stop_reason."""

    EOS = 0         # end-of-speech classifier fired
    MAX_FRAMES = 1  # max_frames / max_seconds reached
    MAX_LENGTH = 2  # model position limit reached
    CANCELLED = 3   # Stream.cancel()


class Solver(enum.IntEnum):
    """vv_solver."""

    DEFAULT = 0
    ODE = 1
    SDE = 2


@dataclass(frozen=True)
class Voice:
    name: str
    language: str
    gender: str
    lm_len: int
    tts_len: int


@dataclass(frozen=True)
class Chunk:
    """Audio of frames [first_frame, first_frame + frame_count), aligned to the byte span
    [text_begin, text_end) of the UTF-8 text (of all text pushed so far, for a stream)."""

    samples: np.ndarray  # float32, 1-D, a copy owned by Python
    sample_rate: int
    first_frame: int
    frame_count: int
    text_begin: int
    text_end: int


@dataclass(frozen=True)
class Underrun:
    """Generation caught up with the pushed text and waits at `frame` for more text or finish()."""

    frame: int


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32 [sample_count]
    sample_rate: int
    latents: np.ndarray  # float32 [frames, latent_dim]
    frames: int
    stop_reason: StopReason


def load_library(path=None) -> ctypes.CDLL:
    """Load libvibevoice.so (from `path`, else as described in the module docstring) and check that its
    major version is this binding's. Raises LibraryNotFoundError (an OSError) with the way to point at it."""
    lib = _capi.load(path)
    have = lib.vv_version().decode()
    if have.split(".")[0] != __version__.split(".")[0]:
        raise LibraryNotFoundError(f"libvibevoice {have} is not compatible with the vibevoice binding "
                                   f"{__version__} (major versions differ)")
    return lib


def library_version() -> str:
    """vv_version() of the loaded library."""
    return load_library().vv_version().decode()


def _check(lib: ctypes.CDLL, status: int) -> None:
    if status != _capi.VV_OK:
        raise error_for(status, (lib.vv_last_error() or b"").decode("utf-8", "replace"))


def _utf8(text: Text, what: str = "text") -> bytes:
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InputError(Status.INPUT, f"{what} is not encodable as UTF-8: {e}") from None
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


def _int_in(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise UsageError(Status.USAGE, f"{name} must be in [{lo}, {hi}], got {value}")
    return value


_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _copy_floats(ptr, count: int) -> np.ndarray:
    if count == 0 or not ptr:
        return np.zeros(0, dtype=np.float32)
    return np.ctypeslib.as_array(ptr, shape=(count,)).copy()


def _chunk(c: _capi.AudioChunk) -> Chunk:
    return Chunk(_copy_floats(c.samples, c.sample_count), c.sample_rate, c.first_frame, c.frame_count,
                 c.text_begin, c.text_end)


def _noise_array(noise) -> np.ndarray:
    """Validate injected noise (vv_synthesis_params.noise): a C-contiguous float32 numpy array [F, Z] or
    [F, steps, Z] with no empty dimension; the library checks Z, steps and F against the model and the
    utterance (InputError)."""
    if not isinstance(noise, np.ndarray):
        raise UsageError(Status.USAGE, f"noise must be a numpy.ndarray of float32, not {type(noise).__name__}")
    if noise.dtype != np.float32:
        raise UsageError(Status.USAGE, f"noise must have dtype float32 (native byte order), not {noise.dtype} "
                                       "(use noise.astype(numpy.float32))")
    if noise.ndim not in (2, 3):
        raise UsageError(Status.USAGE, f"noise must have shape [frames, latent_dim] or [frames, steps, latent_dim], "
                                       f"got {noise.ndim} dimensions {list(noise.shape)}")
    if 0 in noise.shape:
        raise UsageError(Status.USAGE, f"noise has an empty dimension: shape {list(noise.shape)}")
    if not noise.flags.c_contiguous:
        raise UsageError(Status.USAGE, "noise must be C-contiguous (use numpy.ascontiguousarray(noise))")
    return noise


def _closed(what: str) -> UsageError:
    return UsageError(Status.USAGE, f"the {what} is closed")


class _Closable:
    """close() on leaving a `with` block and when garbage-collected."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # e.g. at interpreter shutdown: nothing sensible left to do
            pass


class Engine(_Closable):
    """A loaded model (vv_engine). Thread-safe: several threads may synthesize and stream at once.

    Engine(model_dir, threads=0, provider="cpu"); close() (or the `with` block) frees it and every open
    Stream of it; do not close it while another thread still synthesizes with it."""

    def __init__(self, model_dir, threads: int = 0, provider: str = "cpu", *, library=None):
        self._handle = None
        self._lock = threading.Lock()
        self._streams: weakref.WeakSet[Stream] = weakref.WeakSet()
        self._lib = load_library(library)
        params = self._lib.vv_engine_default_params()
        params.struct_size = ctypes.sizeof(_capi.EngineParams)
        self._model_dir = str(Path(model_dir))
        params.model_dir = os.fsencode(self._model_dir)
        params.threads = _int_in("threads", threads, *_INT32)
        if not isinstance(provider, str):
            raise TypeError(f"provider must be a str, not {type(provider).__name__}")
        params.provider = provider.encode()
        handle = ctypes.c_void_p()
        _check(self._lib, self._lib.vv_engine_load(ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle
        self.sample_rate: int = self._lib.vv_engine_sample_rate(handle)
        self.voices: list[Voice] = []
        for i in range(self._lib.vv_engine_voice_count(handle)):
            info = _capi.VoiceInfo()
            _check(self._lib, self._lib.vv_engine_voice(handle, i, ctypes.byref(info)))
            self.voices.append(Voice(*(s.decode() if s else "" for s in (info.name, info.language, info.gender)),
                                     info.lm_len, info.tts_len))
        self.samples_per_frame: int = self._lib.vv_engine_samples_per_frame(handle)

    # ---- life time ----
    def close(self) -> None:
        with self._lock:
            if self._handle is None:
                return
            for s in list(self._streams):
                s.close()
            self._lib.vv_engine_free(self._handle)
            self._handle = None

    def _live(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise _closed("engine")
        return self._handle

    @property
    def voice_names(self) -> list[str]:
        return [v.name for v in self.voices]

    # ---- options ----
    def _params(self, voice: str, seed: int, steps, cfg_scale, solver, chunk_frames: int, max_frames,
                max_seconds, ignore_eos: bool, decode_thread: bool) -> _capi.SynthesisParams:
        p = self._lib.vv_synthesis_default_params()
        p.struct_size = ctypes.sizeof(_capi.SynthesisParams)
        if not isinstance(voice, str):
            raise TypeError(f"voice must be a str (one of {self.voice_names}), not {type(voice).__name__}")
        p.voice = voice.encode()
        p.seed = _int_in("seed", seed, 0, 2**64 - 1)
        if steps is not None:
            p.steps = _int_in("steps", steps, *_INT32)
        if cfg_scale is not None:
            p.cfg_scale = float(cfg_scale)
        if solver is not None:
            try:
                p.solver = Solver[solver.upper()] if isinstance(solver, str) else Solver(solver)
            except (KeyError, ValueError):
                raise UsageError(Status.USAGE, f"solver must be 'default', 'ode' or 'sde', got {solver!r}") from None
        p.chunk_frames = _int_in("chunk_frames", chunk_frames, *_INT32)
        if max_frames is not None and max_seconds is not None:
            raise UsageError(Status.USAGE, "give at most one of max_frames and max_seconds")
        if max_frames is not None:
            p.max_frames = _int_in("max_frames", max_frames, *_INT64)
        if max_seconds is not None:
            s = float(max_seconds)
            if not (s > 0 and s <= 1e9):
                raise UsageError(Status.USAGE, f"max_seconds must be a number in (0, 1e9], got {max_seconds!r}")
            p.max_frames = math.ceil(s * self.sample_rate / self.samples_per_frame)
        p.ignore_eos = int(bool(ignore_eos))
        p.decode_thread = int(bool(decode_thread))
        return p

    @staticmethod
    def _set_noise(p: _capi.SynthesisParams, noise) -> tuple:
        """Point p's noise fields at `noise` (validated); returns the objects the fields point into, which the
        caller keeps alive until the C call that takes `p` returns (the library copies the noise there)."""
        if noise is None:
            return ()
        arr = _noise_array(noise)
        shape = (_capi.c_int64 * arr.ndim)(*arr.shape)
        p.noise = arr.ctypes.data_as(ctypes.POINTER(_capi.c_float))
        p.noise_shape = shape
        p.noise_ndim = arr.ndim
        p.noise_len = arr.size
        return arr, shape

    # ---- synthesis ----
    def synthesize_audio(self, text: Text, voice: str, *, seed: int = 0, steps: int | None = None,
                         cfg_scale: float | None = None, solver=None, chunk_frames: int = 0,
                         max_frames: int | None = None, max_seconds: float | None = None,
                         ignore_eos: bool = False, decode_thread: bool = False,
                         normalize: bool = False, noise: np.ndarray | None = None) -> Audio:
        """The whole utterance (vv_synthesize) with its latents and stop reason. Options as in
        vv_synthesis_params: steps 1..50 (None: the model's), cfg_scale >= 0 (None: the model's),
        solver 'ode'/'sde' (None: the model's), max_frames or max_seconds (None: until the end of speech),
        normalize (numbers, money, dates, ... read as words; the model directory's grammars).

        noise: injected diffusion noise instead of the seeded generator (e.g. to compare two models on
        the same noise): a C-contiguous float32 array [F, latent_dim] (the initial x of each frame) or
        [F, steps, latent_dim] ([f, 0] the initial x, [f, k] the SDE noise of solver step k-1; needed for
        the SDE solver); F >= the frames generated. A wrong dtype, rank or layout raises UsageError here,
        a shape that does not fit the model, the steps or the utterance InputError from the library."""
        data = _utf8(text)
        p = self._params(voice, seed, steps, cfg_scale, solver, chunk_frames, max_frames, max_seconds,
                         ignore_eos, decode_thread)
        p.normalize = int(bool(normalize))
        keep = self._set_noise(p, noise)  # alive until vv_synthesize (which copies the noise) returns
        out = ctypes.POINTER(_capi.Audio)()
        _check(self._lib, self._lib.vv_synthesize(self._live(), data, len(data), ctypes.byref(p), ctypes.byref(out)))
        del keep
        try:
            a = out.contents
            samples = _copy_floats(a.samples, a.sample_count)
            latents = _copy_floats(a.latents, a.frames * a.latent_dim).reshape(a.frames, a.latent_dim)
            return Audio(samples, a.sample_rate, latents, a.frames, StopReason(a.stop_reason))
        finally:
            self._lib.vv_audio_free(out)

    def synthesize(self, text: Text, voice: str, **options) -> np.ndarray:
        """Speak `text` (str, or UTF-8 bytes): 1-D float32 samples at self.sample_rate. Texts of any length
        (spoken in segments). Options: see synthesize_audio()."""
        return self.synthesize_audio(text, voice, **options).samples

    def stream(self, voice: str, *, seed: int = 0, steps: int | None = None, cfg_scale: float | None = None,
               solver=None, chunk_frames: int = 0, max_frames: int | None = None,
               max_seconds: float | None = None, ignore_eos: bool = False,
               decode_thread: bool = False) -> Stream:
        """An incremental utterance (vv_stream_create, pull mode): push text, iterate over the audio."""
        p = self._params(voice, seed, steps, cfg_scale, solver, chunk_frames, max_frames, max_seconds,
                         ignore_eos, decode_thread)
        handle = ctypes.c_void_p()
        with self._lock:
            _check(self._lib, self._lib.vv_stream_create(self._live(), ctypes.byref(p), ctypes.byref(handle)))
            s = Stream(self, handle)
            self._streams.add(s)
        return s


class Stream(_Closable):
    """An utterance whose text arrives in pieces (vv_stream, pull mode); from Engine.stream().

    Producer side: push_text(), finish(). Consumer side: iterate (AUDIO chunks), events() (chunks and
    underruns), wait(). The two sides may run on two threads (e.g. a thread pushing LLM tokens while the
    main thread plays the chunks); each side on one thread at a time. cancel() from any thread, at any
    time (also while another thread blocks in the iteration). The audio equals Engine.synthesize() of the
    whole text, bit for bit, for any split of the text.

    Iterating yields only Chunk objects: an underrun (generation waits for text) is no audio, so it is
    skipped there and counted in `underruns`; events() yields it as an Underrun. The iteration ends at
    the end of the utterance; then `stop_reason` tells why (None before). close() (or the `with` block)
    cancels a running utterance and frees the stream."""

    def __init__(self, engine: Engine, handle: ctypes.c_void_p):
        self._engine = engine  # keeps the engine alive while the stream lives
        self._lib = engine._lib
        self._handle = handle
        self._life = threading.Lock()      # the handle against free while cancel() uses it
        self._consumer = threading.Lock()  # vv_stream_next / vv_stream_wait
        self._producer = threading.Lock()  # vv_stream_push_text / vv_stream_finish
        self._event = _capi.StreamEvent()
        self.stop_reason: StopReason | None = None
        self.underruns = 0

    # ---- producer ----
    def push_text(self, text: Text) -> None:
        """Append text (str, or bytes: a piece may end inside a UTF-8 sequence)."""
        data = _utf8(text)
        with self._producer:
            _check(self._lib, self._lib.vv_stream_push_text(self._live(), data, len(data)))

    def finish(self) -> None:
        """End of text; returns at once (the audio keeps coming through the iteration)."""
        with self._producer:
            _check(self._lib, self._lib.vv_stream_finish(self._live()))

    # ---- any thread ----
    def cancel(self) -> None:
        """Stop generation as soon as possible; the stream ends with StopReason.CANCELLED. No-op once closed."""
        with self._life:
            if self._handle is not None:
                _check(self._lib, self._lib.vv_stream_cancel(self._handle))

    # ---- consumer ----
    def _next_event(self) -> Chunk | Underrun | None:
        """The next event, None at the end (and after it)."""
        with self._consumer:
            if self.stop_reason is not None:
                return None
            ev = self._event
            _check(self._lib, self._lib.vv_stream_next(self._live(), ctypes.byref(ev)))
            if ev.kind == _capi.VV_EVENT_AUDIO:
                return _chunk(ev.chunk)  # copied before the next call invalidates the samples
            if ev.kind == _capi.VV_EVENT_UNDERRUN:
                self.underruns += 1
                return Underrun(ev.frame)
            self.stop_reason = StopReason(ev.stop_reason)
            return None

    def events(self) -> Iterator[Chunk | Underrun]:
        """Every event up to the end: Chunk (audio) and Underrun."""
        while (ev := self._next_event()) is not None:
            yield ev

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        while True:
            ev = self._next_event()
            if ev is None:
                raise StopIteration
            if isinstance(ev, Chunk):
                return ev

    def wait(self) -> StopReason:
        """Block until generation is over (the events not yet pulled are discarded); the stop reason."""
        with self._consumer:
            if self.stop_reason is None:
                reason = _capi.c_enum()
                _check(self._lib, self._lib.vv_stream_wait(self._live(), ctypes.byref(reason)))
                self.stop_reason = StopReason(reason.value)
            return self.stop_reason

    # ---- life time ----
    def _live(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise _closed("stream")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Cancel if still running, then free. Waits for a consumer blocked in the iteration to return."""
        self.cancel()
        with self._consumer, self._producer, self._life:
            if self._handle is not None:
                self._lib.vv_stream_free(self._handle)
                self._handle = None
