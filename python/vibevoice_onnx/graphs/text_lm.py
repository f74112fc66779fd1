"""G1 `text_lm.onnx`: token-embedding gather + the text LM's Qwen2 layers, no final norm
(architecture.md 2.2, docs/model-format.md)."""

from __future__ import annotations

import onnx

from ..config import ModelConfig
from ..weights import TEXT_LM
from .builder import FLOAT, INT64, GraphBuilder
from .qwen import Weights, build_mask_bias, build_rope, kv_io, kv_outputs, npw, qwen_layer, scalar_dim


def build_text_lm(cfg: ModelConfig, weights: Weights) -> onnx.ModelProto:
    g = GraphBuilder("text_lm")
    ids = g.input("input_ids", INT64, [1, "seq"])
    pos = g.input("position_ids", INT64, [1, "seq"])
    pasts = kv_io(g, cfg, cfg.text_layers, 1)

    x = g.gather(g.weight(npw(weights, TEXT_LM + "embed_tokens.weight"), "embed_tokens"), ids, 0, "embeds")
    rope = build_rope(g, pos, cfg.head_dim, cfg.rope_theta)
    bias = build_mask_bias(g, scalar_dim(g, pasts[0][0], 2, "past_len"), scalar_dim(g, ids, 1, "new_len"), None,
                           cfg.num_attention_heads // cfg.num_key_value_heads)
    presents = []
    for l in range(cfg.text_layers):
        x, k, v = qwen_layer(g, cfg, weights, f"{TEXT_LM}layers.{l}.", x, rope, bias, *pasts[l], f"l{l}")
        presents.append((k, v))
    g.output(x, "hidden", FLOAT, [1, "seq", cfg.hidden_size])
    kv_outputs(g, cfg, presents, 1)
    return g.model()
