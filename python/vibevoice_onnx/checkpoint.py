"""`random-checkpoint`: an HF-style checkpoint directory with the official tensor names and random weights.

Real weights are not available, so every test and benchmark runs on checkpoints written here. The tensor
set is exactly `weights.expected_schema(cfg)` (605 tensors / 1,017,626,724 parameters for the released
config with `--preset full`). `--preset tiny` (the default, so that a forgotten flag never allocates the
1B-parameter model) shrinks widths and depths but keeps the real vocabulary size, latent size and the
3200-sample hop. Weight scales are chosen so activations stay O(1) through every stack, the decoder
produces audible (not ~0, not clipping) audio, and the EOS classifier fires after a few dozen frames of
an ordinary generation loop.

The command also writes `DIR/voices/synthetic.pt`, a voice prompt in the official `.pt` format computed
with the random model itself (see `write_synthetic_voice`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import types
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import torch

from .config import ModelConfig
from .weights import (BIAS, CONNECTOR, DECODER, EOS, HEAD, SCALING, TEXT_LM, TTS_LM, TYPES, expected_schema,
                      schema_num_params)

SPEECH_SCALING_FACTOR = 0.2333984375
SPEECH_BIAS_FACTOR = -0.0703125
NEGATIVE_TOKEN_ID = 151655

# the shrunken geometry of `--preset tiny` (same keys as the real config; vocab, latent and ratios kept)
TINY_OVERRIDES = {
    "decoder_config": {"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
                       "intermediate_size": 128, "num_hidden_layers": 3, "max_window_layers": 3},
    "tts_backbone_num_hidden_layers": 2,
    "diffusion_head_config": {"hidden_size": 64, "head_layers": 2},
    "acoustic_tokenizer_config": {"decoder_n_filters": 2, "encoder_n_filters": 2, "decoder_depths": None,
                                  "encoder_depths": "1-1-1-1-1-1-1"},
}

# EOS calibration target: per-frame logit ~ N(EOS_TARGET_MEAN, ~1) in units of its spread across frames
EOS_TARGET_SIGMAS = 2.25


# ---------------------------------------------------------------------------------------------- config
def make_config(real: dict, preset: str) -> dict:
    """The config.json dict to write for `preset` ('full' = unchanged, 'tiny' = TINY_OVERRIDES applied)."""
    cfg = copy.deepcopy(real)
    if preset == "tiny":
        for key, val in TINY_OVERRIDES.items():
            if isinstance(val, dict):
                cfg.setdefault(key, {}).update(val)
            else:
                cfg[key] = val
    elif preset != "full":
        raise ValueError(f"unknown preset {preset!r} (expected tiny or full)")
    return cfg


# ---------------------------------------------------------------------------------------------- weights
def _init_tensor(name: str, shape: tuple[int, ...], cfg: ModelConfig, g: torch.Generator) -> torch.Tensor:
    """Random init by tensor role. Linears use std 1/sqrt(fan_in) (variance preserving); residual-branch
    output projections are scaled by 1/sqrt(2*layers) so the residual stream stays O(1)."""

    def normal(std: float, mean: float = 0.0) -> torch.Tensor:
        return torch.randn(shape, generator=g) * std + mean

    def fan_in_std(scale: float = 1.0) -> float:
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
        return scale / math.sqrt(fan_in)

    if name == SCALING:
        return torch.tensor(SPEECH_SCALING_FACTOR)
    if name == BIAS:
        return torch.tensor(SPEECH_BIAS_FACTOR)
    if name.endswith("embed_tokens.weight"):
        return normal(1.0)
    if name == TYPES:
        return normal(0.5)
    # norms (RMSNorm weights ~ 1)
    if name.endswith(("layernorm.weight", "norm.weight")) and len(shape) == 1:
        return normal(0.1, 1.0)

    if name.startswith((TEXT_LM, TTS_LM)):
        n_layers = cfg.text_layers if name.startswith(TEXT_LM) else cfg.tts_layers
        if name.endswith("bias"):
            return normal(0.02)
        if name.endswith(("o_proj.weight", "down_proj.weight")):
            return normal(fan_in_std(1.0 / math.sqrt(2 * n_layers)))
        return normal(fan_in_std())
    if name.startswith(CONNECTOR):
        return normal(0.02) if name.endswith("bias") else normal(fan_in_std())
    if name.startswith(HEAD):
        if "adaLN_modulation" in name:
            return normal(fan_in_std(0.5))           # shift/scale/gate ~ 0.5
        if name.endswith("down_proj.weight"):
            return normal(fan_in_std(1.0 / math.sqrt(cfg.head_layers)))
        return normal(fan_in_std())
    if name.startswith(DECODER):
        if name.endswith(("gamma", "ffn_gamma")):
            return normal(0.02, 0.1).abs()          # layer scale: small but not negligible
        if name.endswith("bias"):
            return normal(0.01)
        if "convtr" in name:                         # [C_in, C_out, 2r]: each output sees 2 frames of C_in
            return normal(1.0 / math.sqrt(2 * shape[0]))
        if name.endswith("head.conv.conv.weight"):
            return normal(fan_in_std(0.015))         # audio peak ~0.1-1
        return normal(fan_in_std())
    if name.startswith(EOS):
        if name.endswith("fc1.bias"):
            return torch.zeros(shape)
        if name.endswith("fc2.bias"):
            return torch.full(shape, -2.5)           # replaced by calibrate_eos when possible
        if name.endswith("fc2.weight"):
            return normal(fan_in_std(math.sqrt(2.0)))  # ReLU halves the variance
        return normal(fan_in_std())
    raise AssertionError(f"no init rule for {name}")  # pragma: no cover


def random_weights(cfg: ModelConfig, seed: int, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """All schema tensors, generated in schema order from one seeded generator, cast to `dtype`."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, shape in expected_schema(cfg).items():
        t = _init_tensor(name, shape, cfg, g)
        assert tuple(t.shape) == shape, name
        out[name] = t.to(dtype).contiguous()
    return out


# ---------------------------------------------------------------------------------------------- EOS calibration
@torch.no_grad()
def _rollout_hiddens(model, seed: int, n_text: int = 12, n_frames: int = 48) -> torch.Tensor:
    """A cheap imitation of the generation loop (text window, then speech frames fed back through the
    connector, with latents from a few diffusion-head Euler steps) returning the positive TTS hiddens
    after every speech frame [n_frames, H]. Used to calibrate the EOS bias."""
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, 151643 if cfg.vocab_size > 151643 else cfg.vocab_size, (1, n_text), generator=g)
    pos = torch.arange(n_text)[None]
    hl, _ = model.text_lm(ids, pos)
    hs, kv = model.tts_lm(hl, torch.tensor([1]), pos)
    h, p = hs[:, -1], n_text
    out = []
    for _ in range(n_frames):
        x = torch.randn(1, cfg.latent_dim, generator=g)
        for t in (999.0, 600.0, 200.0):  # crude v-prediction denoising, enough to give realistic-ish latents
            v = model.head(x, torch.tensor([t]), h)
            x = 0.5 * x - 0.5 * v
        e = model.connector(x)
        hs, kv = model.tts_lm(e[:, None], torch.tensor([0]), torch.tensor([[p]]), kv)
        p += 1
        h = hs[:, -1]
        out.append(h[0])
    return torch.stack(out)


def calibrate_eos(cfg: ModelConfig, weights: dict[str, torch.Tensor], seed: int) -> float:
    """Set `tts_eos_classifier.fc2.bias` so the per-frame logit of a rollout sits EOS_TARGET_SIGMAS spreads
    below zero (EOS then fires after a few dozen frames, not at the first one and not never)."""
    from .modules import VibeVoice

    model = VibeVoice(cfg, {k: v.float() for k, v in weights.items()})
    hiddens = _rollout_hiddens(model, seed)
    w, b = EOS + "fc2.weight", EOS + "fc2.bias"
    raw = model.tts_lm.eos_logit(hiddens) - model.tts_lm.eos_fc2.bias[0]
    spread = max(float(raw.std()), 0.25)
    bias = -float(raw.mean()) - EOS_TARGET_SIGMAS * spread
    # rescale fc2 so the spread across frames is ~1 (keeps the logit un-saturated), then shift
    scale = 1.0 / spread
    weights[w] = (weights[w].float() * scale).to(weights[w].dtype)
    weights[b] = torch.tensor([bias * scale]).to(weights[b].dtype)
    return bias * scale


# ---------------------------------------------------------------------------------------------- voice .pt
class _StandInBaseModelOutputWithPast(OrderedDict):
    """Pickles exactly like transformers' ModelOutput dataclass: REDUCE(cls, field values), SETITEMS of the
    non-None fields, BUILD with the instance __dict__."""

    _fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions")

    def __init__(self, last_hidden_state=None, past_key_values=None, hidden_states=None, attentions=None):
        super().__init__()
        vals = (last_hidden_state, past_key_values, hidden_states, attentions)
        for k, v in zip(self._fields, vals):
            object.__setattr__(self, k, v)
        for k, v in zip(self._fields, vals):
            if v is not None:
                self[k] = v

    def __reduce__(self):
        cls, _args, *rest = super().__reduce__()
        return (cls, tuple(getattr(self, f) for f in self._fields), *rest)


class _StandInDynamicCache:
    """Pickles like transformers 4.51's DynamicCache: NEWOBJ + BUILD({_seen_tokens, key_cache, value_cache})."""

    def __init__(self, key_cache: list, value_cache: list, seen: int):
        self._seen_tokens = seen
        self.key_cache = key_cache
        self.value_cache = value_cache


@contextmanager
def _transformers_stand_ins():
    """Register the stand-ins under the official module/class names for the duration of a torch.save."""
    names = {"transformers": None, "transformers.modeling_outputs": "BaseModelOutputWithPast",
             "transformers.cache_utils": "DynamicCache"}
    saved = {n: sys.modules.get(n) for n in names}
    classes = {"BaseModelOutputWithPast": _StandInBaseModelOutputWithPast, "DynamicCache": _StandInDynamicCache}
    orig = {c: (cls.__module__, cls.__qualname__, cls.__name__) for c, cls in classes.items()}
    try:
        for mod_name, cls_name in names.items():
            mod = types.ModuleType(mod_name)
            if cls_name:
                cls = classes[cls_name]
                cls.__module__, cls.__qualname__, cls.__name__ = mod_name, cls_name, cls_name
                setattr(mod, cls_name, cls)
            sys.modules[mod_name] = mod
        yield classes
    finally:
        for c, cls in classes.items():
            cls.__module__, cls.__qualname__, cls.__name__ = orig[c]
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def _bf16_kv(t: torch.Tensor) -> torch.Tensor:
    """[1,KVH,S,D] -> bf16 view with the official memory layout: storage [1,S,KVH,D] (non-contiguous view)
    for S>1; contiguous for S=1 (as in the real presets)."""
    t = t.to(torch.bfloat16)
    b, kvh, s, d = t.shape
    if s == 1:  # fresh standard strides ([KVH*D, D, D, 1]); .contiguous() would keep odd size-1 strides
        return torch.empty(b, kvh, s, d, dtype=torch.bfloat16).copy_(t)
    storage = torch.empty(b, s, kvh, d, dtype=torch.bfloat16).copy_(t.permute(0, 2, 1, 3))
    return storage.permute(0, 2, 1, 3)


def save_voice_pt(path: Path, entries: dict[str, tuple[torch.Tensor, list]]) -> None:
    """Write an official-format voice prompt: entries[key] = (last_hidden [1,S,H], [(K,V) per layer])."""
    with _transformers_stand_ins() as classes:
        obj = {}
        for key in ("lm", "tts_lm", "neg_lm", "neg_tts_lm"):
            hidden, kv = entries[key]
            cache = classes["DynamicCache"]([_bf16_kv(k) for k, _ in kv], [_bf16_kv(v) for _, v in kv],
                                            hidden.shape[1])
            obj[key] = classes["BaseModelOutputWithPast"](
                torch.empty(hidden.shape, dtype=torch.bfloat16).copy_(hidden), cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, path, pickle_protocol=2)


@torch.no_grad()
def synthetic_voice_entries(model, seed: int, n_text: int = 24, n_speech: int = 40) -> dict:
    """Compute a voice prompt with the model itself (architecture.md 3.2 structure):
    lm = text LM over random text ids; tts_lm = TTS LM over that hidden (+type 1) then speech frames
    (random latents through the connector, +type 0); neg_* = the 1-token negative prompt."""
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed + 2)
    hi = min(cfg.vocab_size, 151643)
    ids = torch.randint(0, hi, (1, n_text), generator=g)
    pos = torch.arange(n_text)[None]
    lm_h, lm_kv = model.text_lm(ids, pos)
    tts_h1, kv = model.tts_lm(lm_h, torch.tensor([1]), pos)
    z = torch.randn(n_speech, cfg.latent_dim, generator=g)
    e = model.connector(z)[None]
    tts_h2, tts_kv = model.tts_lm(e, torch.tensor([0]), torch.arange(n_text, n_text + n_speech)[None], kv)
    neg_ids = torch.tensor([[NEGATIVE_TOKEN_ID if cfg.vocab_size > NEGATIVE_TOKEN_ID else cfg.vocab_size - 1]])
    zero = torch.zeros(1, 1, dtype=torch.long)
    neg_lm_h, neg_lm_kv = model.text_lm(neg_ids, zero)
    neg_tts_h, neg_tts_kv = model.tts_lm(neg_lm_h, torch.tensor([1]), zero)
    return {
        "lm": (lm_h, lm_kv),
        "tts_lm": (torch.cat([tts_h1, tts_h2], dim=1), tts_kv),
        "neg_lm": (neg_lm_h, neg_lm_kv),
        "neg_tts_lm": (neg_tts_h, neg_tts_kv),
    }


def write_synthetic_voice(model, path: Path, seed: int) -> dict[str, int]:
    """Write DIR/voices/synthetic.pt; return its lengths {'lm_len', 'tts_len'}."""
    entries = synthetic_voice_entries(model, seed)
    save_voice_pt(path, entries)
    return {"lm_len": entries["lm"][0].shape[1], "tts_len": entries["tts_lm"][0].shape[1]}


# ---------------------------------------------------------------------------------------------- driver
def write_random_checkpoint(config_path: Path, out: Path, preset: str = "tiny", seed: int = 0,
                            dtype: str = "bf16", voice: bool = True, calibrate: bool | None = None) -> dict:
    """Write out/config.json, out/model.safetensors and (if `voice`) out/voices/synthetic.pt.

    `calibrate` (default: True for tiny, False for full) runs a short rollout to set the EOS bias; for the
    full preset the analytic init is used to avoid materialising the 1B model in fp32 twice."""
    from safetensors.torch import save_file

    from .modules import VibeVoice

    if dtype not in ("bf16", "fp32"):
        raise ValueError(f"unknown dtype {dtype!r} (expected bf16 or fp32)")
    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    raw = json.loads(Path(config_path).read_text())
    cfg_dict = make_config(raw, preset)
    cfg = ModelConfig.from_dict(cfg_dict)
    weights = random_weights(cfg, seed, torch_dtype)
    if calibrate is None:
        calibrate = preset == "tiny"
    eos_bias = calibrate_eos(cfg, weights, seed) if calibrate else float(weights[EOS + "fc2.bias"][0])
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg_dict, indent=2) + "\n")
    save_file(weights, str(out / "model.safetensors"),
              metadata={"format": "pt", "generator": "vibevoice-onnx random-checkpoint", "preset": preset,
                        "seed": str(seed)})
    info = {"preset": preset, "seed": seed, "dtype": dtype, "tensors": len(weights),
            "params": schema_num_params({k: tuple(v.shape) for k, v in weights.items()}), "eos_bias": eos_bias}
    if voice:
        # the model sees exactly the stored (possibly bf16-rounded) weights
        model = VibeVoice(cfg, {k: v.float() for k, v in weights.items()})
        del weights
        info.update(write_synthetic_voice(model, out / "voices" / "synthetic.pt", seed))
    return info


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, type=Path, help="the model's HF config.json")
    p.add_argument("--out", required=True, type=Path, help="output checkpoint directory")
    p.add_argument("--preset", choices=("tiny", "full"), default="tiny",
                   help="tiny (default): shrunken test geometry; full: the config's own geometry (1B params)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16",
                   help="tensor dtype in model.safetensors (default bf16, like the released checkpoint)")
    p.add_argument("--no-voice", action="store_true", help="do not write voices/synthetic.pt")


def run(args: argparse.Namespace) -> int:
    from .cli import CliError

    if not args.config.is_file():
        raise CliError(f"config file not found: {args.config}")
    try:
        info = write_random_checkpoint(args.config, args.out, args.preset, args.seed, args.dtype,
                                       voice=not args.no_voice)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(f"wrote {args.out}: preset {info['preset']}, {info['tensors']} tensors, {info['params']:,} params "
          f"({info['dtype']}), EOS bias {info['eos_bias']:.3f}"
          + (f", voices/synthetic.pt (lm {info['lm_len']}, tts {info['tts_len']})" if "lm_len" in info else ""))
    return 0
