"""G4 `diffusion_head.onnx`: the adaLN diffusion head predicting v (architecture.md 2.6). The timestep
is a float and its 256-d sinusoid features (cos first, then sin) are computed in-graph."""

from __future__ import annotations

import math

import numpy as np
import onnx
import torch

from ..config import ModelConfig
from ..weights import HEAD
from .builder import FLOAT, GraphBuilder
from .qwen import Weights, npw


def timestep_freqs(dim: int, max_period: float = 10000.0) -> np.ndarray:
    """f_i = exp(-ln(max_period) * i / half), computed with torch in fp32 exactly as the original
    TimestepEmbedder does, so the graph constant is bit-identical to the reference."""
    half = dim // 2
    return torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half).numpy()


def build_diffusion_head(cfg: ModelConfig, weights: Weights) -> onnx.ModelProto:
    if cfg.head_freq_dim % 2:
        raise ValueError(f"head_freq_dim ({cfg.head_freq_dim}) must be even")
    g = GraphBuilder("diffusion_head")
    h, eps = cfg.hidden_size, cfg.head_eps
    w = lambda n: npw(weights, HEAD + n)  # noqa: E731
    noisy = g.input("noisy", FLOAT, ["batch", cfg.latent_dim])
    t = g.input("timestep", FLOAT, ["batch"])
    cond = g.input("condition", FLOAT, ["batch", h])

    with g.fp32():  # t * f reaches ~1000 rad: fp16 would round the angle by up to 0.25
        args = g.mul(g.unsqueeze(t, [1], "t2"), g.const(timestep_freqs(cfg.head_freq_dim), hint="t_freqs"),
                     "t_args")
        tfeat = g.concat([g.op("Cos", [args], "t_cos"), g.op("Sin", [args], "t_sin")], -1, "t_feat")  # [B, 256]
    temb = g.linear(g.silu(g.linear(tfeat, w("t_embedder.mlp.0.weight"), None, "t_mlp0"), "t_act"),
                    w("t_embedder.mlp.2.weight"), None, "t_mlp2")
    cc = g.add(g.linear(cond, w("cond_proj.weight"), None, "cond_proj"), temb, "cond_t")
    s = g.silu(cc, "cond_act")  # shared input of every adaLN modulation
    x = g.linear(noisy, w("noisy_images_proj.weight"), None, "noisy_proj")

    def modulate(n: str, shift: str, scale: str, tag: str) -> str:
        return g.add(g.mul(n, g.add(scale, g.const(1.0), f"{tag}_1ps"), f"{tag}_sc"), shift, tag)

    for i in range(cfg.head_layers):
        p = f"layers.{i}."
        m = g.linear(s, w(p + "adaLN_modulation.1.weight"), None, f"l{i}.adaln")
        shift, scale, gate = g.split(m, [h, h, h], -1, f"l{i}.mod")
        n = modulate(g.rms_norm(x, w(p + "norm.weight"), eps, f"l{i}.norm"), shift, scale, f"l{i}.modulated")
        act = g.mul(g.silu(g.linear(n, w(p + "ffn.gate_proj.weight"), None, f"l{i}.gate_proj"), f"l{i}.act"),
                    g.linear(n, w(p + "ffn.up_proj.weight"), None, f"l{i}.up_proj"), f"l{i}.glu")
        ffn = g.linear(act, w(p + "ffn.down_proj.weight"), None, f"l{i}.down_proj")
        gated = g.mul(gate, ffn, f"l{i}.gated")
        with g.fp32():
            x = g.add(x, gated, f"l{i}.resid")

    m = g.linear(s, w("final_layer.adaLN_modulation.1.weight"), None, "final.adaln")
    shift, scale = g.split(m, [h, h], -1, "final.mod")
    n = modulate(g.rms_norm(x, None, eps, "final.norm"), shift, scale, "final.modulated")
    v = g.linear(n, w("final_layer.linear.weight"), None, "final.linear")
    g.output(v, "v", FLOAT, ["batch", cfg.latent_dim])
    return g.model()
