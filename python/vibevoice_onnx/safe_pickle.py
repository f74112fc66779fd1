"""A restricted reader for the official voice-prompt `.pt` files (torch zip archives) that never executes
pickle code.

`torch.load(weights_only=False)` on a downloaded `.pt` runs arbitrary code; `weights_only=True` refuses the
two `transformers` classes the presets contain. This module unpickles `data.pkl` with an allow-list of
exactly the five globals the official presets use (shared/data/README.md):

    transformers.modeling_outputs.BaseModelOutputWithPast  -> ModelOutputRecord (plain dict subclass)
    transformers.cache_utils.DynamicCache                   -> CacheRecord (plain attribute holder)
    torch._utils._rebuild_tensor_v2                         -> our own rebuild (numpy, bounds-checked)
    torch.BFloat16Storage                                   -> a marker; bytes come from the zip record
    collections.OrderedDict                                 -> collections.OrderedDict (backward hooks)

Any other global is refused with an error that names the file and the global. Storages are decoded from
the zip's `data/<key>` records with numpy (bf16 -> fp32 by bit shifting) and tensors are rebuilt with the
stored offset/size/stride, so the presets' non-contiguous KV views come out right.
"""

from __future__ import annotations

import functools
import io
import math
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np


class UnsafePickleError(ValueError):
    """The file is not a well-formed preset or references a global outside the allow-list."""


class ModelOutputRecord(dict):
    """Stand-in for BaseModelOutputWithPast: REDUCE(cls, (last_hidden_state, past_key_values, ...)),
    SETITEMS, BUILD(state dict)."""

    _fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions")

    def __init__(self, *args: Any):
        super().__init__()
        if len(args) > len(self._fields):
            raise UnsafePickleError(f"BaseModelOutputWithPast built with {len(args)} arguments")
        for k, v in zip(self._fields, args):
            if v is not None:
                self[k] = v

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not set(state) <= set(self._fields):
            raise UnsafePickleError("unexpected BaseModelOutputWithPast state")
        for k, v in state.items():
            if v is not None:
                self[k] = v


class CacheRecord:
    """Stand-in for DynamicCache: NEWOBJ(cls) + BUILD({_seen_tokens, key_cache, value_cache})."""

    _allowed = {"_seen_tokens", "key_cache", "value_cache"}

    def __init__(self) -> None:
        self.key_cache: list = []
        self.value_cache: list = []
        self._seen_tokens = 0

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict) or not set(state) <= self._allowed:
            extra = sorted(set(state) - self._allowed) if isinstance(state, dict) else type(state).__name__
            raise UnsafePickleError(f"unexpected DynamicCache state {extra}")
        self.__init__()
        for k, v in state.items():
            setattr(self, k, v)


class _BFloat16StorageMarker:
    """Returned for `torch.BFloat16Storage`; only compared by identity in persistent_load."""

    itemsize = 2


def _bf16_bytes_to_f32(raw: bytes, byteorder: str) -> np.ndarray:
    u16 = np.frombuffer(raw, dtype="<u2" if byteorder == "little" else ">u2")
    return (u16.astype(np.uint32) << 16).view(np.float32)


# Largest tensor a preset may hold when the caller gives no model geometry: 2^26 elements (256 MiB as fp32),
# 9x the largest tensor of the real model (8192 positions x 896 hidden).
DEFAULT_MAX_ELEMENTS = 1 << 26


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None, *,
                       max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    """Rebuild a (possibly non-contiguous) view of a decoded storage as a contiguous fp32 numpy array.
    The element count is checked against `max_elements` before anything is allocated (a zero-stride view of
    a tiny storage can claim any size)."""
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise UnsafePickleError("tensor rebuilt from something that is not a decoded storage")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) and all(isinstance(v, int) and v >= 0 for v in (*size, *stride))):
        raise UnsafePickleError(f"malformed tensor geometry size={size!r} stride={stride!r} offset={offset!r}")
    if backward_hooks not in (None, OrderedDict()) or metadata not in (None, {}, OrderedDict()):
        raise UnsafePickleError("tensor with backward hooks or metadata is not a plain voice-prompt tensor")
    if any(n == 0 for n in size):
        return np.zeros(size, dtype=np.float32)
    if math.prod(size) > max_elements:
        raise UnsafePickleError(f"tensor of shape {size} ({math.prod(size):,} elements) is larger than any "
                                f"tensor of the model ({max_elements:,} elements at most)")
    last = offset + sum((n - 1) * st for n, st in zip(size, stride))
    if offset < 0 or last >= storage.shape[0]:
        raise UnsafePickleError(f"tensor view (offset {offset}, size {size}, stride {stride}) exceeds its "
                                f"storage of {storage.shape[0]} elements")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=tuple(s * item for s in stride),
                                           writeable=False)
    return np.array(view, dtype=np.float32, order="C", copy=True)  # owned, writable, contiguous


_ALLOWED: dict[tuple[str, str], Any] = {
    ("transformers.modeling_outputs", "BaseModelOutputWithPast"): ModelOutputRecord,
    ("transformers.cache_utils", "DynamicCache"): CacheRecord,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch", "BFloat16Storage"): _BFloat16StorageMarker,
    ("collections", "OrderedDict"): OrderedDict,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, byteorder: str, path: Path,
                 max_elements: int):
        super().__init__(io.BytesIO(data))
        self._zip, self._prefix, self._byteorder, self._path = archive, prefix, byteorder, path
        self._max_elements = max_elements
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        obj = _ALLOWED.get((module, name))
        if obj is _rebuild_tensor_v2:
            return functools.partial(_rebuild_tensor_v2, max_elements=self._max_elements)
        if obj is None:
            raise UnsafePickleError(f"{self._path}: refused to load global '{module}.{name}' (not one of the "
                                    f"classes an official voice preset uses; the file may be malicious)")
        return obj

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnsafePickleError(f"{self._path}: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid
        if storage_type is not _BFloat16StorageMarker:
            raise UnsafePickleError(f"{self._path}: unsupported storage type {storage_type!r}")
        if not isinstance(key, str) or not key.isdigit() or not isinstance(numel, int) or numel < 0:
            raise UnsafePickleError(f"{self._path}: malformed storage record {pid!r:.80}")
        if numel > _STORAGE_FACTOR * self._max_elements:
            raise UnsafePickleError(f"{self._path}: storage {key} claims {numel:,} elements, more than a voice "
                                    f"preset of this model can hold")
        if key not in self._storages:
            name = f"{self._prefix}data/{key}"
            try:
                if self._zip.getinfo(name).file_size != numel * 2:  # before reading (and inflating) it
                    raise UnsafePickleError(f"{self._path}: storage {key} has {self._zip.getinfo(name).file_size} "
                                            f"bytes, expected {numel * 2}")
                raw = self._zip.read(name)
            except KeyError:
                raise UnsafePickleError(f"{self._path}: storage record {name} is missing") from None
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise UnsafePickleError(f"{self._path}: storage record {name} is corrupt: {e}") from None
            if len(raw) != numel * 2:
                raise UnsafePickleError(f"{self._path}: storage {key} has {len(raw)} bytes, expected {numel * 2}")
            self._storages[key] = _bf16_bytes_to_f32(raw, self._byteorder)
        return self._storages[key]


_STORAGE_FACTOR = 64  # a storage may back several tensors (all layers of a cache at most)


def load_torch_zip(path: str | Path, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Any:
    """Unpickle the `data.pkl` of a torch zip archive with the allow-list above. Tensors come back as
    contiguous float32 numpy arrays; the transformers classes as ModelOutputRecord / CacheRecord. No tensor
    may have more than `max_elements` elements (checked before allocation)."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"voice preset not found: {path}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise UnsafePickleError(f"{path}: not a readable torch .pt zip archive (truncated or corrupt?): {e}") \
            from None
    with archive:
        pkls = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkls) != 1:
            raise UnsafePickleError(f"{path}: expected exactly one data.pkl in the archive, found {len(pkls)}")
        prefix = pkls[0][: -len("data.pkl")]
        try:
            data = archive.read(pkls[0])
            byteorder = "little"
            if prefix + "byteorder" in archive.namelist():
                byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise UnsafePickleError(f"{path}: corrupt archive member: {e}") from None
        if byteorder not in ("little", "big"):
            raise UnsafePickleError(f"{path}: unknown byteorder {byteorder!r}")
        try:
            return _RestrictedUnpickler(data, archive, prefix, byteorder, path, max_elements).load()
        except UnsafePickleError as e:
            msg = str(e)
            raise UnsafePickleError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
        except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError, ValueError) as e:
            raise UnsafePickleError(f"{path}: malformed pickle in data.pkl: {type(e).__name__}: {e}") from None
