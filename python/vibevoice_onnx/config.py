"""Model geometry parsed from the Hugging Face `config.json` of VibeVoice-Realtime-0.5B.

Every dimension and layer count used anywhere in the package comes from `ModelConfig`, so the same code
handles the real 0.5B geometry and the shrunken `tiny` test geometry (architecture.md section 1).
A few structural constants of the original code that are not in config.json (kernel sizes, the diffusion
head's 256-d timestep features, the decoder FFN ratio) are fields with the original's values as defaults.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelConfig:
    # Qwen2 stacks (decoder_config)
    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    num_hidden_layers: int
    tts_layers: int
    text_layers: int
    vocab_size: int
    rope_theta: float
    rms_norm_eps: float
    max_position_embeddings: int
    # speech latent
    latent_dim: int
    # diffusion head (diffusion_head_config)
    head_layers: int
    head_ffn_dim: int
    head_eps: float
    # acoustic decoder (acoustic_tokenizer_config)
    decoder_n_filters: int
    decoder_ratios: tuple[int, ...]
    decoder_depths: tuple[int, ...]
    decoder_eps: float
    hop_length: int
    # structural constants of the original code (not in config.json)
    head_freq_dim: int = 256          # sinusoidal timestep features of the diffusion head
    decoder_kernel: int = 7           # stem, depthwise mixer and head conv kernel size
    decoder_ffn_ratio: int = 4        # Block1D FFN expansion
    num_input_types: int = 2          # tts_input_types rows: 0 = speech, 1 = text
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ derived geometry
    @property
    def decoder_channels(self) -> list[int]:
        """Width of each decoder stage: n_filters * 2^(n_ratios - i), i = 0..n_ratios (2048 ... 32)."""
        n = len(self.decoder_ratios)
        return [self.decoder_n_filters * 2 ** (n - i) for i in range(n + 1)]

    @property
    def num_kv_groups(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_json(cls, path: str | Path) -> "ModelConfig":
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"config file not found: {path}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON: {e}") from None
        try:
            return cls.from_dict(raw)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ModelConfig":
        """Parse the HF config dict; raise ValueError naming the offending field."""
        if not isinstance(raw, dict):
            raise ValueError("config must be a JSON object")
        dec = _section(raw, "decoder_config")
        head = _section(raw, "diffusion_head_config")
        tok = _section(raw, "acoustic_tokenizer_config")

        hidden = _int(dec, "hidden_size", "decoder_config")
        heads = _int(dec, "num_attention_heads", "decoder_config")
        kv_heads = _int(dec, "num_key_value_heads", "decoder_config")
        if hidden % heads:
            raise ValueError(f"decoder_config.hidden_size ({hidden}) is not divisible by "
                             f"decoder_config.num_attention_heads ({heads})")
        head_dim = hidden // heads
        if "head_dim" in dec and dec["head_dim"] is not None and int(dec["head_dim"]) != head_dim:
            raise ValueError(f"decoder_config.head_dim ({dec['head_dim']}) != hidden_size/num_attention_heads "
                             f"({head_dim})")
        if head_dim % 2:
            raise ValueError(f"decoder_config head dim ({head_dim}) must be even for RoPE")
        if heads % kv_heads:
            raise ValueError(f"decoder_config.num_attention_heads ({heads}) is not divisible by "
                             f"decoder_config.num_key_value_heads ({kv_heads})")
        n_layers = _int(dec, "num_hidden_layers", "decoder_config")
        tts_layers = _int(raw, "tts_backbone_num_hidden_layers", "")
        if not 0 < tts_layers < n_layers:
            raise ValueError(f"tts_backbone_num_hidden_layers ({tts_layers}) must be in "
                             f"1..decoder_config.num_hidden_layers-1 ({n_layers - 1})")
        if dec.get("rope_scaling") not in (None, {}):
            raise ValueError("decoder_config.rope_scaling: only plain RoPE (null) is supported")

        latent = _int(raw, "acoustic_vae_dim", "")
        for sec, name, key in ((tok, "acoustic_tokenizer_config", "vae_dim"),
                               (head, "diffusion_head_config", "latent_size"),
                               (head, "diffusion_head_config", "speech_vae_dim")):
            if key in sec and sec[key] is not None and int(sec[key]) != latent:
                raise ValueError(f"{name}.{key} ({sec[key]}) != acoustic_vae_dim ({latent})")

        head_hidden = _int(head, "hidden_size", "diffusion_head_config")
        if head_hidden != hidden:
            raise ValueError(f"diffusion_head_config.hidden_size ({head_hidden}) != decoder_config.hidden_size "
                             f"({hidden})")
        ratio = _float(head, "head_ffn_ratio", "diffusion_head_config")
        head_ffn = int(hidden * ratio)
        if head_ffn <= 0:
            raise ValueError(f"diffusion_head_config.head_ffn_ratio ({ratio}) gives an empty FFN")

        ratios = tok.get("decoder_ratios")
        if ratios is None:
            ratios = tok.get("encoder_ratios")
        ratios = _int_list(ratios, "acoustic_tokenizer_config.decoder_ratios")
        depths_raw = tok.get("decoder_depths")
        if depths_raw is None:
            enc = _int_list(tok.get("encoder_depths"), "acoustic_tokenizer_config.encoder_depths")
            depths = list(reversed(enc))
            depth_field = "acoustic_tokenizer_config.encoder_depths"
        else:
            depths = _int_list(depths_raw, "acoustic_tokenizer_config.decoder_depths")
            depth_field = "acoustic_tokenizer_config.decoder_depths"
        if len(depths) != len(ratios) + 1:
            raise ValueError(f"{depth_field} has {len(depths)} stages, expected len(decoder_ratios)+1 = "
                             f"{len(ratios) + 1}")
        if any(r <= 0 for r in ratios):
            raise ValueError("acoustic_tokenizer_config.decoder_ratios must be positive")
        if any(d < 0 for d in depths):
            raise ValueError(f"{depth_field} must be non-negative")
        n_filters = _int(tok, "decoder_n_filters", "acoustic_tokenizer_config")
        for key, want in (("causal", True), ("channels", 1), ("disable_last_norm", True)):
            if key in tok and tok[key] != want:
                raise ValueError(f"acoustic_tokenizer_config.{key} must be {want!r} (got {tok[key]!r})")
        for key, want in (("conv_norm", "none"), ("mixer_layer", "depthwise_conv"), ("layernorm", "RMSNorm"),
                          ("pad_mode", "constant")):
            if key in tok and tok[key] != want:
                raise ValueError(f"acoustic_tokenizer_config.{key} must be {want!r} (got {tok[key]!r})")
        if "conv_bias" in tok and tok["conv_bias"] is not True:
            raise ValueError("acoustic_tokenizer_config.conv_bias must be true")
        if dec.get("hidden_act", "silu") != "silu":
            raise ValueError(f"decoder_config.hidden_act must be 'silu' (got {dec['hidden_act']!r})")

        cfg = cls(
            hidden_size=hidden,
            num_attention_heads=heads,
            num_key_value_heads=kv_heads,
            head_dim=head_dim,
            intermediate_size=_int(dec, "intermediate_size", "decoder_config"),
            num_hidden_layers=n_layers,
            tts_layers=tts_layers,
            text_layers=n_layers - tts_layers,
            vocab_size=_int(dec, "vocab_size", "decoder_config"),
            rope_theta=_float(dec, "rope_theta", "decoder_config"),
            rms_norm_eps=_float(dec, "rms_norm_eps", "decoder_config"),
            max_position_embeddings=_int(dec, "max_position_embeddings", "decoder_config"),
            latent_dim=latent,
            head_layers=_int(head, "head_layers", "diffusion_head_config"),
            head_ffn_dim=head_ffn,
            head_eps=_float(head, "rms_norm_eps", "diffusion_head_config"),
            decoder_n_filters=n_filters,
            decoder_ratios=tuple(ratios),
            decoder_depths=tuple(depths),
            decoder_eps=_float(tok, "layernorm_eps", "acoustic_tokenizer_config"),
            hop_length=math.prod(ratios),
            raw=raw,
        )
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The parsed geometry as a JSON-serialisable dict (lists, not tuples; no raw config)."""
        d = asdict(self)
        d.pop("raw")
        d["decoder_ratios"] = list(self.decoder_ratios)
        d["decoder_depths"] = list(self.decoder_depths)
        d["decoder_channels"] = self.decoder_channels
        return d


# ---------------------------------------------------------------------- helpers
def _section(raw: dict, name: str) -> dict:
    sec = raw.get(name)
    if not isinstance(sec, dict):
        raise ValueError(f"{name}: missing or not an object")
    return sec


def _where(sec: str, key: str) -> str:
    return f"{sec}.{key}" if sec else key


def _int(d: dict, key: str, sec: str) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise ValueError(f"{_where(sec, key)}: expected an integer, got {v!r}")
    if int(v) <= 0:
        raise ValueError(f"{_where(sec, key)}: must be positive, got {v!r}")
    return int(v)


def _float(d: dict, key: str, sec: str) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{_where(sec, key)}: expected a number, got {v!r}")
    if v <= 0:
        raise ValueError(f"{_where(sec, key)}: must be positive, got {v!r}")
    return float(v)


def _int_list(v: Any, name: str) -> list[int]:
    """Accept a list of ints or the original's dash-separated string form ("3-3-3")."""
    if isinstance(v, str):
        try:
            return [int(p) for p in v.split("-")]
        except ValueError:
            raise ValueError(f"{name}: cannot parse {v!r} (expected e.g. \"3-3-3\")") from None
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return list(v)
    raise ValueError(f"{name}: expected a list of integers or a \"3-3-3\" string, got {v!r}")
