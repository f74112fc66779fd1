"""G2 `tts_lm.onnx`: type-embedding add + the TTS LM's Qwen2 layers + final RMSNorm of the last position
+ EOS classifier (architecture.md 2.3, 2.4, 2.7; docs/model-format.md).

Batched rows may have different real past lengths: callers left-pad the caches and pass
`attention_mask` [B, P+T] (0 = padding), which is combined with the causal mask. `position_ids` are
per-row absolute positions, so RoPE is unaffected by the padding.
"""

from __future__ import annotations

import onnx

from ..config import ModelConfig
from ..weights import EOS, TTS_LM, TYPES
from .builder import FLOAT, INT64, GraphBuilder
from .qwen import Weights, build_mask_bias, build_rope, kv_io, kv_outputs, npw, qwen_layer, scalar_dim


def build_tts_lm(cfg: ModelConfig, weights: Weights) -> onnx.ModelProto:
    g = GraphBuilder("tts_lm")
    h = cfg.hidden_size
    embeds = g.input("inputs_embeds", FLOAT, ["batch", "seq", h])
    type_id = g.input("type_id", INT64, ["batch"])
    pos = g.input("position_ids", INT64, ["batch", "seq"])
    mask = g.input("attention_mask", INT64, ["batch", "total_seq"])
    pasts = kv_io(g, cfg, cfg.tts_layers, "batch")

    type_emb = g.gather(g.weight(npw(weights, TYPES), "tts_input_types"), type_id, 0, "type_emb")   # [B, H]
    with g.fp32():
        x = g.add(embeds, g.unsqueeze(type_emb, [1], "type_emb3"), "x0")
    rope = build_rope(g, pos, cfg.head_dim, cfg.rope_theta)
    bias = build_mask_bias(g, scalar_dim(g, pasts[0][0], 2, "past_len"), scalar_dim(g, embeds, 1, "new_len"),
                           mask, cfg.num_attention_heads // cfg.num_key_value_heads)
    presents = []
    for l in range(cfg.tts_layers):
        x, k, v = qwen_layer(g, cfg, weights, f"{TTS_LM}layers.{l}.", x, rope, bias, *pasts[l], f"l{l}")
        presents.append((k, v))

    # The norm is per row, so normalising only the last position equals norm-then-select.
    last = g.gather(x, g.const(-1, "int64", "last_idx"), 1, "last_raw")                               # [B, H]
    last = g.rms_norm(last, npw(weights, TTS_LM + "norm.weight"), cfg.rms_norm_eps, "final_norm")
    e = g.op("Relu", [g.linear(last, npw(weights, EOS + "fc1.weight"), npw(weights, EOS + "fc1.bias"),
                               "eos.fc1")], "eos.relu")
    logit = g.linear(e, npw(weights, EOS + "fc2.weight"), npw(weights, EOS + "fc2.bias"), "eos.fc2")   # [B, 1]
    g.output(last, "last_hidden", FLOAT, ["batch", h])
    g.output(g.squeeze(logit, [1], "eos_logit1"), "eos_logit", FLOAT, ["batch"])
    kv_outputs(g, cfg, presents, "batch")
    return g.model()
