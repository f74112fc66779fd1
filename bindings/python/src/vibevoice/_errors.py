"""Status codes and the exceptions raised for them."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """vv_status (equal to the `vibevoice` CLI exit codes)."""

    OK = 0
    USAGE = 2
    MODEL = 3
    INPUT = 4
    RUNTIME = 5


class VibeVoiceError(Exception):
    """A call into libvibevoice failed. `.status` is the Status (its `.value` is the vv_status, `.name` its
    name); `.message` is vv_last_error() of the failing call (or the binding's own check)."""

    status: Status = Status.RUNTIME

    def __init__(self, status: Status | int, message: str):
        try:
            self.status = Status(status)
        except ValueError:  # a status this binding does not know yet: keep the number
            self.status = status  # type: ignore[assignment]
        self.message = message
        name = getattr(self.status, "name", str(status))
        super().__init__(f"{message} [{name}]" if message else f"vibevoice error [{name}]")


class UsageError(VibeVoiceError, ValueError):
    """VV_ERROR_USAGE: a bad argument or option value, misuse of a stream (e.g. push after finish)."""


class ModelError(VibeVoiceError):
    """VV_ERROR_MODEL: model directory, graph, manifest or voice problem (incl. an unknown voice)."""


class InputError(VibeVoiceError, ValueError):
    """VV_ERROR_INPUT: bad text (invalid UTF-8, empty, too long) or bad injected noise."""


class VibeVoiceRuntimeError(VibeVoiceError, RuntimeError):
    """VV_ERROR_RUNTIME: ONNX Runtime failure, unavailable execution provider, out of memory, internal."""


_BY_STATUS = {Status.USAGE: UsageError, Status.MODEL: ModelError, Status.INPUT: InputError,
              Status.RUNTIME: VibeVoiceRuntimeError}


def error_for(status: int, message: str) -> VibeVoiceError:
    """The exception for a non-OK status (the subclass for a known status, VibeVoiceError otherwise)."""
    cls = _BY_STATUS.get(status, VibeVoiceError)  # type: ignore[call-overload]
    return cls(status, message)
