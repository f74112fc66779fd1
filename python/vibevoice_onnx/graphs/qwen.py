"""Qwen2 decoder-layer subgraphs shared by the text LM (G1) and the TTS LM (G2): RoPE, grouped-query
attention with past/present KV, causal + padding mask, SwiGLU MLP (architecture.md section 2.1).

Layouts: hidden [B, T, H]; caches [B, KVH, S, D] with keys stored post-RoPE (S = P + T). Grouped-query
attention stacks the G query heads of each KV head as rows: queries [B, KVH, G*T, D] (row g*T + t) against
the cache as it is, scores = Q K^T [B, KVH, G*T, S], so the KV heads are neither copied G times nor
transposed (ORT fuses the K^T into the MatMul: FusedMatMul transB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from ..config import ModelConfig
from .builder import FLOAT, GraphBuilder

Weights = Mapping[str, "np.ndarray | torch.Tensor"]


def npw(weights: Weights, name: str) -> np.ndarray:
    """A checkpoint tensor as a float32 numpy array (checkpoints load as fp32 torch tensors)."""
    t = weights[name]
    if isinstance(t, torch.Tensor):
        return t.detach().to(torch.float32).cpu().numpy()
    return np.asarray(t, dtype=np.float32)


def rope_inv_freq(head_dim: int, theta: float) -> np.ndarray:
    """HF Qwen2 inverse frequencies, computed with torch exactly as transformers does so the graph
    constant is bit-identical to the PyTorch reference."""
    exps = torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim
    return (1.0 / (theta ** exps)).numpy().astype(np.float32)


@dataclass
class Rope:
    cos: str  # [B, T, 1, D]
    sin: str  # [B, T, 1, D]


def build_rope(g: GraphBuilder, position_ids: str, head_dim: int, theta: float) -> Rope:
    """cos/sin tables of the rotate-half RoPE for every (row, new token), computed once per graph."""
    with g.fp32():
        pos = g.unsqueeze(g.cast(position_ids, FLOAT, "pos_f"), [-1], "pos_f3")      # [B, T, 1]
        ang = g.mul(pos, g.const(rope_inv_freq(head_dim, theta), hint="rope_inv_freq"), "rope_angle")  # [B,T,D/2]
        emb = g.concat([ang, ang], -1, "rope_emb")                                     # [B, T, D]
        cos = g.unsqueeze(g.op("Cos", [emb], "rope_cos3"), [2], "rope_cos")
        sin = g.unsqueeze(g.op("Sin", [emb], "rope_sin3"), [2], "rope_sin")
    return Rope(cos, sin)


def apply_rope(g: GraphBuilder, x: str, rope: Rope, head_dim: int, hint: str) -> str:
    """x [B, T, N, D] -> x*cos + rotate_half(x)*sin, rotate_half(x) = concat(-x[D/2:], x[:D/2])."""
    half = head_dim // 2
    x1 = g.slice(x, [0], [half], [-1], f"{hint}_x1")
    x2 = g.slice(x, [half], [head_dim], [-1], f"{hint}_x2")
    rot = g.concat([g.op("Neg", [x2], f"{hint}_nx2"), x1], -1, f"{hint}_rot")
    return g.add(g.mul(x, rope.cos, f"{hint}_c"), g.mul(rot, rope.sin, f"{hint}_s"), hint)


def build_mask_bias(g: GraphBuilder, past_len: str, new_len: str, attention_mask: str | None,
                    groups: int) -> str:
    """Additive attention bias: 0 where query i (absolute cache index P+i) may attend key j (j <= P+i
    and attention_mask[b, j] == 1), float32-lowest elsewhere (as transformers does, so a masked score
    contributes exactly 0 after softmax).

    `past_len`/`new_len` are int64 scalars. Returns [G*T, S] without a mask, [B, 1, G*T, S] with one
    (broadcast against scores [B, KVH, G*T, S]; row g*T + t is query t, see qwen_layer)."""
    total = g.add(past_len, new_len, "total_len")
    one = g.const(1, np.int64, "one")
    kidx = g.op("Range", [g.const(0, np.int64, "zero"), total, one], "key_idx")         # [S]
    qidx = g.op("Range", [past_len, total, one], "query_idx")                           # [T]
    allowed = g.op("LessOrEqual", [g.unsqueeze(kidx, [0], "key_idx2"), g.unsqueeze(qidx, [1], "query_idx2")],
                   "causal")                                                             # [T, S]
    if attention_mask is not None:
        pad = g.unsqueeze(g.cast(attention_mask, 9, "mask_bool"), [1], "mask_b1s")      # [B, 1, S]
        allowed = g.op("And", [allowed, pad], "allowed")                                 # [B, T, S]
    lowest = float(np.finfo(np.float32).min)
    with g.fp32():
        bias = g.op("Where", [allowed, g.const(0.0), g.const(lowest)], "mask_bias_ts")
        if attention_mask is None:
            return g.op("Tile", [bias, g.i64([groups, 1])], "mask_bias")                 # [G*T, S]
        bias = g.op("Tile", [bias, g.i64([1, groups, 1])], "mask_bias_gts")             # [B, G*T, S]
        return g.unsqueeze(bias, [1], "mask_bias")                                        # [B, 1, G*T, S]


def scalar_dim(g: GraphBuilder, x: str, axis: int, hint: str) -> str:
    """Size of `x` along `axis` as an int64 scalar."""
    return g.squeeze(g.shape(x, axis, axis + 1, f"{hint}_1"), [0], hint)


def qwen_layer(g: GraphBuilder, cfg: ModelConfig, weights: Weights, prefix: str, x: str, rope: Rope,
               mask_bias: str, past_k: str, past_v: str, tag: str) -> tuple[str, str, str]:
    """One Qwen2 decoder layer. Returns (x_out, present_k, present_v)."""
    nh, kvh, d, h = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
    groups = nh // kvh
    eps = cfg.rms_norm_eps

    def w(n: str) -> np.ndarray:
        return npw(weights, prefix + n)

    hn = g.rms_norm(x, w("input_layernorm.weight"), eps, f"{tag}.input_norm")
    q = g.linear(hn, w("self_attn.q_proj.weight"), w("self_attn.q_proj.bias"), f"{tag}.q_proj")
    k = g.linear(hn, w("self_attn.k_proj.weight"), w("self_attn.k_proj.bias"), f"{tag}.k_proj")
    v = g.linear(hn, w("self_attn.v_proj.weight"), w("self_attn.v_proj.bias"), f"{tag}.v_proj")
    q = apply_rope(g, g.reshape(q, [0, 0, nh, d], f"{tag}.q4"), rope, d, f"{tag}.q_rope")    # [B,T,NH,D]
    k = apply_rope(g, g.reshape(k, [0, 0, kvh, d], f"{tag}.k4"), rope, d, f"{tag}.k_rope")   # [B,T,KVH,D]
    v = g.reshape(v, [0, 0, kvh, d], f"{tag}.v4")
    k = g.transpose(k, [0, 2, 1, 3], f"{tag}.k_bhtd")
    v = g.transpose(v, [0, 2, 1, 3], f"{tag}.v_bhtd")
    k_all = g.concat([past_k, k], 2, f"{tag}.present_k")                                  # [B,KVH,S,D]
    v_all = g.concat([past_v, v], 2, f"{tag}.present_v")

    q5 = g.transpose(g.reshape(q, [0, 0, kvh, groups, d], f"{tag}.q5"), [0, 2, 3, 1, 4], f"{tag}.q_grp")
    q4 = g.reshape(q5, [0, kvh, -1, d], f"{tag}.q_rows")                                   # [B,KVH,G*T,D]
    qk = g.matmul(q4, g.transpose(k_all, [0, 1, 3, 2], f"{tag}.kt"), f"{tag}.qk")            # [B,KVH,G*T,S]
    with g.fp32():
        scores = g.mul(qk, g.const(1.0 / np.sqrt(d)), f"{tag}.scores")
        scores = g.add(scores, mask_bias, f"{tag}.masked")
        probs = g.op("Softmax", [scores], f"{tag}.probs", axis=-1)
    o = g.reshape(g.matmul(probs, v_all, f"{tag}.pv"), [0, 0, groups, -1, d], f"{tag}.o5")  # [B,KVH,G,T,D]
    o = g.reshape(g.transpose(o, [0, 3, 1, 2, 4], f"{tag}.o_t"), [0, 0, h], f"{tag}.o")    # [B,T,H]
    attn = g.linear(o, w("self_attn.o_proj.weight"), None, f"{tag}.o_proj")
    with g.fp32():
        x = g.add(x, attn, f"{tag}.resid1")

    hn = g.rms_norm(x, w("post_attention_layernorm.weight"), eps, f"{tag}.post_norm")
    gate = g.silu(g.linear(hn, w("mlp.gate_proj.weight"), None, f"{tag}.gate_proj"), f"{tag}.act")
    up = g.linear(hn, w("mlp.up_proj.weight"), None, f"{tag}.up_proj")
    down = g.linear(g.mul(gate, up, f"{tag}.glu"), w("mlp.down_proj.weight"), None, f"{tag}.down_proj")
    with g.fp32():
        x = g.add(x, down, f"{tag}.resid2")
    return x, k_all, v_all


def kv_io(g: GraphBuilder, cfg: ModelConfig, layers: int, batch: int | str) -> list[tuple[str, str]]:
    """Declare past_key_{l}/past_value_{l} inputs [B, KVH, P, D]; returns their names per layer."""
    shape = [batch, cfg.num_key_value_heads, "past_seq", cfg.head_dim]
    return [(g.input(f"past_key_{l}", FLOAT, shape), g.input(f"past_value_{l}", FLOAT, shape))
            for l in range(layers)]


def kv_outputs(g: GraphBuilder, cfg: ModelConfig, presents: list[tuple[str, str]], batch: int | str) -> None:
    shape = [batch, cfg.num_key_value_heads, "total_seq", cfg.head_dim]
    for l, (k, v) in enumerate(presents):
        g.output(k, f"present_key_{l}", FLOAT, shape)
        g.output(v, f"present_value_{l}", FLOAT, shape)
