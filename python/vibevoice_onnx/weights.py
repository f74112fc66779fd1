"""The checkpoint schema (official tensor names and shapes) and the loader for HF checkpoint directories.

`expected_schema(cfg)` is derived from the key tables of architecture.md section 2 and is the single
source of truth for both the random-checkpoint writer and the loader: for the released config it is
exactly 605 tensors / 1,017,626,724 parameters (section 6.1).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .config import ModelConfig

TEXT_LM = "model.language_model."
TTS_LM = "model.tts_language_model."
TYPES = "model.tts_input_types.weight"
CONNECTOR = "model.acoustic_connector."
HEAD = "model.prediction_head."
DECODER = "model.acoustic_tokenizer.decoder."
SCALING = "model.speech_scaling_factor"
BIAS = "model.speech_bias_factor"
EOS = "tts_eos_classifier."

Shape = tuple[int, ...]


def qwen_layer_schema(cfg: ModelConfig, prefix: str) -> dict[str, Shape]:
    """One Qwen2 decoder layer (section 2.1); `prefix` ends with 'layers.{l}.'."""
    h, kv, ff = cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim, cfg.intermediate_size
    return {
        prefix + "input_layernorm.weight": (h,),
        prefix + "self_attn.q_proj.weight": (h, h),
        prefix + "self_attn.q_proj.bias": (h,),
        prefix + "self_attn.k_proj.weight": (kv, h),
        prefix + "self_attn.k_proj.bias": (kv,),
        prefix + "self_attn.v_proj.weight": (kv, h),
        prefix + "self_attn.v_proj.bias": (kv,),
        prefix + "self_attn.o_proj.weight": (h, h),
        prefix + "post_attention_layernorm.weight": (h,),
        prefix + "mlp.gate_proj.weight": (ff, h),
        prefix + "mlp.up_proj.weight": (ff, h),
        prefix + "mlp.down_proj.weight": (h, ff),
    }


def block1d_schema(d: int, k: int, ffn_ratio: int, prefix: str) -> dict[str, Shape]:
    """One decoder Block1D of width d (section 2.8)."""
    return {
        prefix + "norm.weight": (d,),
        prefix + "ffn_norm.weight": (d,),
        prefix + "mixer.conv.conv.conv.weight": (d, 1, k),
        prefix + "mixer.conv.conv.conv.bias": (d,),
        prefix + "gamma": (d,),
        prefix + "ffn_gamma": (d,),
        prefix + "ffn.linear1.weight": (ffn_ratio * d, d),
        prefix + "ffn.linear1.bias": (ffn_ratio * d,),
        prefix + "ffn.linear2.weight": (d, ffn_ratio * d),
        prefix + "ffn.linear2.bias": (d,),
    }


def expected_schema(cfg: ModelConfig) -> dict[str, Shape]:
    """Every tensor of the official checkpoint for this config, name -> shape, in a stable order."""
    h, z, v = cfg.hidden_size, cfg.latent_dim, cfg.vocab_size
    s: dict[str, Shape] = {}
    # text LM: embedding + layers, no final norm (1.3, 2.2)
    s[TEXT_LM + "embed_tokens.weight"] = (v, h)
    for l in range(cfg.text_layers):
        s.update(qwen_layer_schema(cfg, f"{TEXT_LM}layers.{l}."))
    # TTS LM: (unused) embedding + layers + final norm (2.3)
    s[TTS_LM + "embed_tokens.weight"] = (v, h)
    for l in range(cfg.tts_layers):
        s.update(qwen_layer_schema(cfg, f"{TTS_LM}layers.{l}."))
    s[TTS_LM + "norm.weight"] = (h,)
    # type embeddings (2.4)
    s[TYPES] = (cfg.num_input_types, h)
    # connector (2.5)
    s[CONNECTOR + "fc1.weight"] = (h, z)
    s[CONNECTOR + "fc1.bias"] = (h,)
    s[CONNECTOR + "norm.weight"] = (h,)
    s[CONNECTOR + "fc2.weight"] = (h, h)
    s[CONNECTOR + "fc2.bias"] = (h,)
    # diffusion head (2.6)
    f = cfg.head_ffn_dim
    s[HEAD + "noisy_images_proj.weight"] = (h, z)
    s[HEAD + "cond_proj.weight"] = (h, h)
    s[HEAD + "t_embedder.mlp.0.weight"] = (h, cfg.head_freq_dim)
    s[HEAD + "t_embedder.mlp.2.weight"] = (h, h)
    for i in range(cfg.head_layers):
        p = f"{HEAD}layers.{i}."
        s[p + "norm.weight"] = (h,)
        s[p + "ffn.gate_proj.weight"] = (f, h)
        s[p + "ffn.up_proj.weight"] = (f, h)
        s[p + "ffn.down_proj.weight"] = (h, f)
        s[p + "adaLN_modulation.1.weight"] = (3 * h, h)
    s[HEAD + "final_layer.adaLN_modulation.1.weight"] = (2 * h, h)
    s[HEAD + "final_layer.linear.weight"] = (z, h)
    # acoustic decoder (2.8)
    ch, k = cfg.decoder_channels, cfg.decoder_kernel
    s[DECODER + "upsample_layers.0.0.conv.conv.weight"] = (ch[0], z, k)
    s[DECODER + "upsample_layers.0.0.conv.conv.bias"] = (ch[0],)
    for i, r in enumerate(cfg.decoder_ratios, start=1):
        s[DECODER + f"upsample_layers.{i}.0.convtr.convtr.weight"] = (ch[i - 1], ch[i], 2 * r)
        s[DECODER + f"upsample_layers.{i}.0.convtr.convtr.bias"] = (ch[i],)
    for i, depth in enumerate(cfg.decoder_depths):
        for j in range(depth):
            s.update(block1d_schema(ch[i], k, cfg.decoder_ffn_ratio, f"{DECODER}stages.{i}.{j}."))
    s[DECODER + "head.conv.conv.weight"] = (1, ch[-1], k)
    s[DECODER + "head.conv.conv.bias"] = (1,)
    # scalar buffers (1.8)
    s[SCALING] = ()
    s[BIAS] = ()
    # EOS classifier (2.7)
    s[EOS + "fc1.weight"] = (h, h)
    s[EOS + "fc1.bias"] = (h,)
    s[EOS + "fc2.weight"] = (1, h)
    s[EOS + "fc2.bias"] = (1,)
    return s


def schema_num_params(schema: dict[str, Shape]) -> int:
    return sum(math.prod(shape) for shape in schema.values())


class CheckpointError(ValueError):
    """A checkpoint directory that does not match the expected schema."""


def load_checkpoint(ckpt_dir: str | Path, *, strict: bool = True) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """Read `config.json` + `model.safetensors` from `ckpt_dir`; return fp32 tensors by official name.

    Every schema tensor must be present with its exact shape. Extra tensors are an error when `strict`
    (the official checkpoint has none), else ignored."""
    from safetensors import safe_open

    ckpt_dir = Path(ckpt_dir)
    cfg_path, st_path = ckpt_dir / "config.json", ckpt_dir / "model.safetensors"
    for p in (cfg_path, st_path):
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint file missing: {p}")
    cfg = ModelConfig.from_json(cfg_path)
    schema = expected_schema(cfg)
    out: dict[str, torch.Tensor] = {}
    try:
        handle = safe_open(str(st_path), framework="pt")
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(f"{st_path}: cannot read safetensors file: {e}") from None
    with handle as f:
        names = set(f.keys())
        missing = [n for n in schema if n not in names]
        if missing:
            more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
            raise CheckpointError(f"{st_path}: missing tensor(s) {', '.join(missing[:5])}{more}")
        extra = sorted(names - set(schema))
        if extra and strict:
            more = f" (and {len(extra) - 5} more)" if len(extra) > 5 else ""
            raise CheckpointError(f"{st_path}: unexpected tensor(s) {', '.join(extra[:5])}{more}")
        for name, shape in schema.items():
            sl = f.get_slice(name)
            got = tuple(sl.get_shape())
            if got != shape:
                raise CheckpointError(f"{st_path}: tensor {name} has shape {list(got)}, expected {list(shape)} "
                                      f"for this config.json")
            t = f.get_tensor(name)
            if not t.is_floating_point():
                raise CheckpointError(f"{st_path}: tensor {name} has dtype {t.dtype}, expected a float type")
            out[name] = t.to(torch.float32)
    return cfg, out
