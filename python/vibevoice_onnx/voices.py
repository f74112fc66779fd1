"""`voices`: convert official voice-prompt `.pt` files into the model directory's `voices/` layout
(docs/model-format.md) without executing any pickle code (see safe_pickle.py).

A preset holds four cached prompts (architecture.md 3.2): `lm` (text LM KV), `tts_lm` (positive TTS KV),
`neg_lm` (unused), `neg_tts_lm` (negative TTS KV + the first frame's negative condition). Output per
voice: `voices/<name>/*.npy` in C order and `voices/manifest.json` (entries merged by name).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import FORMAT_VERSION
from .config import ModelConfig
from .safe_pickle import DEFAULT_MAX_ELEMENTS, CacheRecord, ModelOutputRecord, UnsafePickleError, load_torch_zip

PRESET_KEYS = ("lm", "tts_lm", "neg_lm", "neg_tts_lm")
VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # also the voice's directory name: never "." or ".."
_NAME_RE = re.compile(r"^(?P<lang>[A-Za-z]{2,3})-(?P<speaker>[^_]+)_(?P<gender>[A-Za-z]+)$")


class VoiceError(ValueError):
    """A preset that cannot be read or does not fit the model."""


def load_pt_preset(path: str | Path, max_elements: int = DEFAULT_MAX_ELEMENTS) -> dict[str, dict[str, Any]]:
    """Read an official preset safely. Returns {key: {'last_hidden_state': fp32 [1,S,H],
    'key_cache': [fp32 [1,KVH,S,D] contiguous per layer], 'value_cache': [...]}} for the 4 keys,
    after checking the structure is internally consistent."""
    path = Path(path)
    try:
        obj = load_torch_zip(path, max_elements)
    except UnsafePickleError as e:
        raise VoiceError(str(e)) from None
    if not isinstance(obj, dict) or set(obj) != set(PRESET_KEYS):
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise VoiceError(f"{path}: expected a dict with keys {list(PRESET_KEYS)}, got {keys}")
    out: dict[str, dict[str, Any]] = {}
    for key in PRESET_KEYS:
        rec = obj[key]
        if not isinstance(rec, ModelOutputRecord) or "last_hidden_state" not in rec \
                or not isinstance(rec.get("past_key_values"), CacheRecord):
            raise VoiceError(f"{path}: entry '{key}' is not a BaseModelOutputWithPast with a DynamicCache")
        h = rec["last_hidden_state"]
        cache = rec["past_key_values"]
        ks, vs = cache.key_cache, cache.value_cache
        if not (isinstance(h, np.ndarray) and h.ndim == 3 and h.shape[0] == 1):
            raise VoiceError(f"{path}: {key}.last_hidden_state must be [1, S, H], got "
                             f"{getattr(h, 'shape', type(h).__name__)}")
        s = h.shape[1]
        if not (isinstance(ks, list) and isinstance(vs, list) and len(ks) == len(vs) and ks):
            raise VoiceError(f"{path}: {key} cache must have equal, non-empty key/value lists")
        for l, (k, v) in enumerate(zip(ks, vs)):
            for what, t in (("key", k), ("value", v)):
                if not (isinstance(t, np.ndarray) and t.ndim == 4 and t.shape[0] == 1 and t.shape[2] == s
                        and t.shape == ks[0].shape):
                    raise VoiceError(f"{path}: {key} {what} cache of layer {l} has shape "
                                     f"{getattr(t, 'shape', None)}, expected [1, KVH, {s}, D] like layer 0")
        out[key] = {"last_hidden_state": torch.from_numpy(h),
                    "key_cache": [torch.from_numpy(k) for k in ks],
                    "value_cache": [torch.from_numpy(v) for v in vs]}
    for a, b in (("lm", "neg_lm"), ("tts_lm", "neg_tts_lm")):
        if len(out[a]["key_cache"]) != len(out[b]["key_cache"]) or \
                out[a]["key_cache"][0].shape[1::2] != out[b]["key_cache"][0].shape[1::2]:
            raise VoiceError(f"{path}: '{a}' and '{b}' caches have different geometry")
    return out


def check_fits(preset: dict[str, dict[str, Any]], cfg: ModelConfig, path: Path) -> None:
    """Raise VoiceError when the preset's layer counts or widths differ from the model's."""
    want_layers = {"lm": cfg.text_layers, "neg_lm": cfg.text_layers,
                   "tts_lm": cfg.tts_layers, "neg_tts_lm": cfg.tts_layers}
    for key in PRESET_KEYS:
        e = preset[key]
        n = len(e["key_cache"])
        if n != want_layers[key]:
            raise VoiceError(f"{path}: '{key}' has {n} layers but the model's "
                             f"{'text' if 'tts' not in key else 'TTS'} LM has {want_layers[key]}; this preset "
                             f"does not fit the model geometry")
        hid = e["last_hidden_state"].shape[-1]
        _, kvh, _, d = e["key_cache"][0].shape
        if (hid, kvh, d) != (cfg.hidden_size, cfg.num_key_value_heads, cfg.head_dim):
            raise VoiceError(f"{path}: '{key}' has hidden size {hid}, {kvh} KV heads, head dim {d}, but the model "
                             f"has {cfg.hidden_size}, {cfg.num_key_value_heads}, {cfg.head_dim}; this preset "
                             f"does not fit the model geometry")
    for key in ("tts_lm",):
        if preset[key]["last_hidden_state"].shape[1] > cfg.max_position_embeddings:
            raise VoiceError(f"{path}: '{key}' is longer than max_position_embeddings")


def voice_metadata(path: Path) -> dict[str, str]:
    """name/language/gender from `<lang>-<Name>_<gender>.pt` (else language and gender are empty)."""
    name = path.stem
    if not VALID_NAME.match(name):
        raise VoiceError(f"{path}: '{name}' is not a valid voice name (letters, digits, '.', '_', '-', starting "
                         f"with a letter or digit); rename the file")
    m = _NAME_RE.match(name)
    return {"name": name, "dir": name, "language": m["lang"] if m else "", "gender": m["gender"] if m else ""}


def _write_npy(path: Path, t: torch.Tensor, np_dtype: str) -> None:
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype(np_dtype))
    if not np.isfinite(a).all():
        raise VoiceError(f"{path.name}: values overflow {np_dtype} (use --dtype fp32)")
    np.save(path, a)


def max_tensor_elements(cfg: ModelConfig | None) -> int:
    """The largest tensor a preset of this model can hold: a full-length cache or hidden-state sequence."""
    if cfg is None:
        return DEFAULT_MAX_ELEMENTS
    return cfg.max_position_embeddings * max(cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim)


def convert_voices(pt_paths: list[Path], out_dir: Path, cfg: ModelConfig | None = None,
                   dtype: str = "fp32", force: bool = False) -> list[dict]:
    """Convert each preset into `out_dir/<name>/*.npy` and merge its entry into `out_dir/manifest.json`.
    Returns the new manifest entries. All presets are read and validated before anything is written; an
    existing voice of the same name is replaced only with `force`."""
    if dtype not in ("fp32", "fp16"):
        raise VoiceError(f"unknown dtype {dtype!r} (expected fp32 or fp16)")
    np_dtype = "<f4" if dtype == "fp32" else "<f2"
    out_dir = Path(out_dir)
    loaded = []
    for p in map(Path, pt_paths):
        voice_metadata(p)  # the name first: nothing is read for a preset that cannot be written
        preset = load_pt_preset(p, max_tensor_elements(cfg))
        if cfg is not None:
            check_fits(preset, cfg, p)
        loaded.append((p, preset))
    names = [voice_metadata(p)["name"] for p, _ in loaded]
    if len(set(names)) != len(names):
        raise VoiceError(f"duplicate voice names in input: {names}")
    if not force:
        existing = [n for n in names if (out_dir / n).exists()]
        if existing:
            raise VoiceError(f"voice {', '.join(existing)} already exists in {out_dir}; use --force to replace it")

    entries = []
    for p, preset in loaded:
        meta = voice_metadata(p)
        vdir = out_dir / meta["dir"]
        vdir.mkdir(parents=True, exist_ok=True)
        for old in vdir.glob("*.npy"):
            old.unlink()
        for key, short in (("lm", "lm"), ("tts_lm", "tts"), ("neg_tts_lm", "neg_tts")):
            e = preset[key]
            for l, (k, v) in enumerate(zip(e["key_cache"], e["value_cache"])):
                _write_npy(vdir / f"{short}.k.{l}.npy", k[0], np_dtype)   # [KVH, S, D]
                _write_npy(vdir / f"{short}.v.{l}.npy", v[0], np_dtype)
        _write_npy(vdir / "neg_tts.last_hidden.npy", preset["neg_tts_lm"]["last_hidden_state"][0, -1], np_dtype)
        _write_npy(vdir / "tts.last_hidden.npy", preset["tts_lm"]["last_hidden_state"][0, -1], np_dtype)
        entries.append({**meta, "lm_len": int(preset["lm"]["last_hidden_state"].shape[1]),
                        "tts_len": int(preset["tts_lm"]["last_hidden_state"].shape[1]), "dtype": dtype})

    manifest_path = out_dir / "manifest.json"
    voices: list[dict] = []
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
            voices = list(old.get("voices", []))
        except (json.JSONDecodeError, AttributeError):
            raise VoiceError(f"{manifest_path}: existing manifest is not valid JSON; remove it first") from None
    new_names = {e["name"] for e in entries}
    voices = [v for v in voices if v.get("name") not in new_names] + entries
    voices.sort(key=lambda v: v["name"])
    manifest_path.write_text(json.dumps({"format_version": FORMAT_VERSION, "voices": voices}, indent=2) + "\n")
    return entries


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in", dest="inputs", nargs="+", required=True, type=Path, metavar="X.pt",
                   help="official voice preset files (*.pt)")
    p.add_argument("--out", required=True, type=Path, help="output voices directory (MODEL_DIR/voices)")
    p.add_argument("--config", type=Path, help="model config.json: check the presets fit its geometry")
    p.add_argument("--dtype", choices=("fp32", "fp16"), default="fp32")
    p.add_argument("--force", action="store_true", help="replace voices that already exist in --out")


def run(args: argparse.Namespace) -> int:
    from .cli import CliError

    cfg = None
    if args.config is not None:
        try:
            cfg = ModelConfig.from_json(args.config)
        except (OSError, ValueError) as e:
            raise CliError(str(e), code=3) from None
    for p in args.inputs:
        if not p.is_file():
            raise CliError(f"voice preset not found: {p}", code=3)
    try:
        entries = convert_voices(args.inputs, args.out, cfg, args.dtype, force=args.force)
    except (VoiceError, FileNotFoundError) as e:
        raise CliError(str(e), code=3) from None
    for e in entries:
        print(f"{e['name']}: lm {e['lm_len']}, tts {e['tts_len']} -> {args.out / e['dir']}")
    return 0
