"""ModelConfig parsing of the released config.json and rejection of inconsistent configs."""

from __future__ import annotations

import copy
import json

import pytest

from vibevoice_onnx.checkpoint import make_config
from vibevoice_onnx.config import ModelConfig


def test_real_config_values(real_config):
    c = ModelConfig.from_json(real_config)
    # architecture.md 1.2-1.5
    assert (c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim) == (896, 14, 2, 64)
    assert (c.intermediate_size, c.num_hidden_layers, c.tts_layers, c.text_layers) == (4864, 24, 20, 4)
    assert (c.vocab_size, c.rope_theta, c.rms_norm_eps, c.max_position_embeddings) == (151936, 1e6, 1e-6, 8192)
    assert (c.latent_dim, c.head_layers, c.head_ffn_dim, c.head_eps) == (64, 4, 2688, 1e-5)
    assert c.decoder_n_filters == 32 and c.decoder_ratios == (8, 5, 5, 4, 2, 2)
    assert c.decoder_depths == (8, 3, 3, 3, 3, 3, 3)  # null -> reversed "3-3-3-3-3-3-8"
    assert c.decoder_eps == 1e-5 and c.hop_length == 3200
    assert c.decoder_channels == [2048, 1024, 512, 256, 128, 64, 32]
    d = c.to_dict()
    json.dumps(d)
    assert d["decoder_depths"] == [8, 3, 3, 3, 3, 3, 3] and d["text_layers"] == 4 and "raw" not in d


def test_tiny_preset_config(real_config):
    c = ModelConfig.from_dict(make_config(json.loads(real_config.read_text()), "tiny"))
    assert c.vocab_size == 151936 and c.hop_length == 3200 and c.latent_dim == 64
    assert c.head_dim * c.num_attention_heads == c.hidden_size
    assert c.decoder_depths == (1,) * 7 and c.text_layers >= 1


def test_decoder_depths_string_and_list(real_config):
    raw = json.loads(real_config.read_text())
    raw["acoustic_tokenizer_config"]["decoder_depths"] = "2-1-1-1-1-1-1"
    assert ModelConfig.from_dict(raw).decoder_depths == (2, 1, 1, 1, 1, 1, 1)
    raw["acoustic_tokenizer_config"]["decoder_depths"] = [1, 2, 3, 4, 5, 6, 7]
    assert ModelConfig.from_dict(raw).decoder_depths == (1, 2, 3, 4, 5, 6, 7)


@pytest.mark.parametrize("path,value,field", [
    (("decoder_config", "hidden_size"), 900, "num_attention_heads"),
    (("decoder_config", "num_key_value_heads"), 3, "num_key_value_heads"),
    (("decoder_config", "head_dim"), 32, "head_dim"),
    (("tts_backbone_num_hidden_layers",), 24, "tts_backbone_num_hidden_layers"),
    (("decoder_config", "vocab_size"), "big", "vocab_size"),
    (("decoder_config", "rope_theta"), -1.0, "rope_theta"),
    (("diffusion_head_config", "hidden_size"), 512, "diffusion_head_config.hidden_size"),
    (("diffusion_head_config", "latent_size"), 32, "latent_size"),
    (("acoustic_tokenizer_config", "decoder_depths"), "3-3", "decoder_depths"),
    (("acoustic_tokenizer_config", "decoder_depths"), "a-b", "decoder_depths"),
    (("acoustic_tokenizer_config", "decoder_n_filters"), 0, "decoder_n_filters"),
    (("decoder_config", "rope_scaling"), {"type": "linear", "factor": 2.0}, "rope_scaling"),
    (("decoder_config",), None, "decoder_config"),
])
def test_inconsistent_configs_name_the_field(real_config, path, value, field):
    raw = copy.deepcopy(json.loads(real_config.read_text()))
    d = raw
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    with pytest.raises(ValueError, match=field):
        ModelConfig.from_dict(raw)


def test_from_json_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        ModelConfig.from_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        ModelConfig.from_json(bad)
