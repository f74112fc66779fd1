"""`export`: the model directory matches docs/model-format.md, and every graph matches the PyTorch
modules (modules.py, an independent oracle) on the tiny random checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from conftest import run_cli

from vibevoice_onnx.config import ModelConfig
from vibevoice_onnx.graphs import build_connector, decoder_states
from vibevoice_onnx.graphs.builder import dim_param_shape, save_model
from vibevoice_onnx.modules import VibeVoice
from vibevoice_onnx.validate import session, tts_case, tts_feeds, validate_model_dir

MANIFEST_KEYS = [
    "format_version", "exporter", "model_name", "source", "hidden_size", "num_attention_heads",
    "num_key_value_heads", "head_dim", "text_layers", "tts_layers", "vocab_size", "latent_dim", "rope_theta",
    "rms_norm_eps", "max_positions", "text_window", "speech_window", "speech_scaling_factor",
    "speech_bias_factor", "sample_rate", "hop_length", "negative_token_id", "eos_token_id", "defaults",
    "scheduler", "graphs", "decoder_states", "decoder_chunk_invariant", "tokenizer", "voices",
]
INT_KEYS = ["format_version", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
            "text_layers", "tts_layers", "vocab_size", "latent_dim", "max_positions", "text_window",
            "speech_window", "sample_rate", "hop_length", "negative_token_id", "eos_token_id"]
FLOAT_KEYS = ["rope_theta", "rms_norm_eps", "speech_scaling_factor", "speech_bias_factor"]


@pytest.fixture(scope="module")
def cfg(tiny_checkpoint) -> ModelConfig:
    return ModelConfig.from_json(tiny_checkpoint / "config.json")


@pytest.fixture(scope="module")
def oracle(tiny_checkpoint) -> VibeVoice:
    return VibeVoice.from_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="module")
def manifest(tiny_model) -> dict:
    return json.loads((tiny_model / "vibevoice.json").read_text())


def test_manifest_fields(manifest, cfg, real_tokenizer, tiny_model):
    # the test model is exported with --text-normalization (its entry: test_normalization.py)
    assert list(manifest) == MANIFEST_KEYS + ["text_normalization"]
    for k in INT_KEYS:
        assert type(manifest[k]) is int, k
    for k in FLOAT_KEYS:
        assert type(manifest[k]) is float, k
    assert manifest["format_version"] == 1
    assert manifest["exporter"].startswith("vibevoice-onnx ")
    assert manifest["source"]["random"] is True
    assert (manifest["hidden_size"], manifest["num_attention_heads"], manifest["num_key_value_heads"],
            manifest["head_dim"]) == (cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim)
    assert (manifest["text_layers"], manifest["tts_layers"]) == (cfg.text_layers, cfg.tts_layers)
    assert manifest["vocab_size"] == 151936 and manifest["latent_dim"] == 64
    assert manifest["max_positions"] == 8192 and manifest["hop_length"] == 3200 and manifest["sample_rate"] == 24000
    assert (manifest["text_window"], manifest["speech_window"]) == (5, 6)
    assert manifest["speech_scaling_factor"] == 0.2333984375 and manifest["speech_bias_factor"] == -0.0703125
    assert (manifest["negative_token_id"], manifest["eos_token_id"]) == (151655, 151643)
    assert manifest["defaults"] == {"steps": 5, "cfg_scale": 1.5, "solver": "ode"}
    assert manifest["scheduler"] == {"num_train_timesteps": 1000, "beta_schedule": "cosine",
                                     "prediction_type": "v_prediction"}
    assert manifest["graphs"] == {n: {"file": f"{n}.onnx", "precision": "fp32"}
                                  for n in ("text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder")}
    assert manifest["decoder_states"] == [s.manifest() for s in decoder_states(cfg)]
    assert (tiny_model / manifest["tokenizer"]).read_bytes() == real_tokenizer.read_bytes()
    voices = json.loads((tiny_model / manifest["voices"]).read_text())
    assert voices["format_version"] == 1 and isinstance(voices["voices"], list)
    for g in manifest["graphs"].values():
        assert (tiny_model / g["file"]).is_file()


def _io(path: Path) -> tuple[list, list]:
    m = onnx.load(str(path), load_external_data=False)
    f = lambda vs: [(v.name, v.type.tensor_type.elem_type, dim_param_shape(v)) for v in vs]  # noqa: E731
    return f(m.graph.input), f(m.graph.output)


def _sym(shape):
    """Shape with symbolic dims replaced by '?' (their names are ours, only their symbolic-ness is contract)."""
    return [d if isinstance(d, int) and d > 0 else "?" for d in shape]


F, I = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64


def test_graph_io_contract(tiny_model, cfg):
    h, kvh, d, z = cfg.hidden_size, cfg.num_key_value_heads, cfg.head_dim, cfg.latent_dim

    def kv(prefix, n, b):
        return [x for l in range(n) for x in ((f"{prefix}_key_{l}", F, [b, kvh, "?", d]),
                                              (f"{prefix}_value_{l}", F, [b, kvh, "?", d]))]

    def norm(io):
        return [(n, t, _sym(s)) for n, t, s in io]

    ins, outs = _io(tiny_model / "text_lm.onnx")
    assert norm(ins) == [("input_ids", I, [1, "?"]), ("position_ids", I, [1, "?"])] + kv("past", cfg.text_layers, 1)
    assert norm(outs) == [("hidden", F, [1, "?", h])] + kv("present", cfg.text_layers, 1)

    ins, outs = _io(tiny_model / "tts_lm.onnx")
    assert norm(ins) == [("inputs_embeds", F, ["?", "?", h]), ("type_id", I, ["?"]), ("position_ids", I, ["?", "?"]),
                         ("attention_mask", I, ["?", "?"])] + kv("past", cfg.tts_layers, "?")
    assert norm(outs) == [("last_hidden", F, ["?", h]), ("eos_logit", F, ["?"])] + kv("present", cfg.tts_layers, "?")

    assert [norm(x) for x in _io(tiny_model / "connector.onnx")] == [
        [("speech_latent", F, ["?", z])], [("embeds", F, ["?", h])]]
    assert [norm(x) for x in _io(tiny_model / "diffusion_head.onnx")] == [
        [("noisy", F, ["?", z]), ("timestep", F, ["?"]), ("condition", F, ["?", h])], [("v", F, ["?", z])]]

    ins, outs = _io(tiny_model / "acoustic_decoder.onnx")
    states = decoder_states(cfg)
    assert norm(ins) == [("latent", F, [1, z, "?"])] + [(f"state_in_{s.name[6:]}", F, list(s.shape)) for s in states]
    assert norm(outs) == [("audio", F, [1, 1, "?"])] + [(f"state_out_{s.name[6:]}", F, list(s.shape)) for s in states]


def test_every_graph_matches_pytorch(tiny_model, oracle, cfg):
    """The exporter's own validation (T = 1, 3, 5; P = 0, 7; ragged B = 2; K = 1, 3) within 1e-4."""
    results = {r.graph: r for r in validate_model_dir(tiny_model, oracle, cfg, seed=1)}
    assert set(results) == {"text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder"}
    for r in results.values():
        assert r.ok, r.line()
        assert r.max_abs < 1e-4 * max(1.0, r.ref_max), r.line()


def test_lm_graphs_accept_empty_past(tiny_model, oracle, cfg):
    """P = 0 (no cache at all) works for both LMs and yields presents of length T."""
    sess = session(tiny_model / "text_lm.onnx")
    empty = np.zeros((1, cfg.num_key_value_heads, 0, cfg.head_dim), np.float32)
    ids = np.array([[5, 151643, 42]])
    out = sess.run(None, {"input_ids": ids, "position_ids": np.arange(3)[None],
                          **{f"past_{kv}_{l}": empty for l in range(cfg.text_layers) for kv in ("key", "value")}})
    with torch.no_grad():
        ref, _ = oracle.text_lm(torch.tensor(ids), torch.arange(3)[None])
    assert out[1].shape == (1, cfg.num_key_value_heads, 3, cfg.head_dim)
    np.testing.assert_allclose(out[0], ref.numpy(), atol=1e-5, rtol=0)

    g = torch.Generator().manual_seed(3)
    x, type_id, pos, mask, past = tts_case(cfg, 1, 2, [0], g)
    out = session(tiny_model / "tts_lm.onnx").run(None, tts_feeds(x, type_id, pos, mask, past))
    assert out[2].shape == (1, cfg.num_key_value_heads, 2, cfg.head_dim)
    with torch.no_grad():
        ref, _ = oracle.tts_lm(x, type_id, pos)
    np.testing.assert_allclose(out[0], ref[:, -1].numpy(), atol=1e-5, rtol=0)


def test_ragged_batch_equals_two_single_calls(tiny_model, cfg):
    """Positive and negative CFG branches in one B=2 call (left-padded pasts + mask) == two B=1 calls."""
    sess = session(tiny_model / "tts_lm.onnx")
    names = [o.name for o in sess.get_outputs()]
    g = torch.Generator().manual_seed(7)
    lens, t = [9, 1], 1
    x, _, pos, mask, past = tts_case(cfg, 2, t, lens, g)
    type_id = torch.tensor([0, 0])
    # garbage in the padded slots must not matter
    for k, v in past:
        k[1, :, :8] = 1e4
        v[1, :, :8] = -1e4
    both = dict(zip(names, sess.run(None, tts_feeds(x, type_id, pos, mask, past))))
    p = max(lens)
    for row, n in enumerate(lens):
        row_past = [(k[row:row + 1, :, p - n:], v[row:row + 1, :, p - n:]) for k, v in past]
        single = dict(zip(names, sess.run(None, tts_feeds(x[row:row + 1], type_id[row:row + 1], pos[row:row + 1],
                                                          torch.ones(1, n + t, dtype=torch.int64), row_past))))
        np.testing.assert_allclose(both["last_hidden"][row], single["last_hidden"][0], atol=1e-5, rtol=0)
        np.testing.assert_allclose(both["eos_logit"][row], single["eos_logit"][0], atol=1e-5, rtol=0)
        for l in range(cfg.tts_layers):
            np.testing.assert_allclose(both[f"present_key_{l}"][row, :, p - n:], single[f"present_key_{l}"][0],
                                       atol=1e-5, rtol=0)


def test_validation_detects_a_wrong_graph(tiny_model, oracle, cfg, tmp_path):
    """The validator is not vacuous: a connector with one perturbed weight fails it."""
    (tmp_path / "m").mkdir()
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    (tmp_path / "m" / "vibevoice.json").write_text(json.dumps(manifest))
    m = onnx.load(str(tiny_model / "connector.onnx"))
    w = next(t for t in m.graph.initializer if t.name == "fc2.weight_t")
    arr = onnx.numpy_helper.to_array(w).copy()
    arr[0, 0] += 0.01
    w.CopyFrom(onnx.numpy_helper.from_array(arr, w.name))
    onnx.save(m, str(tmp_path / "m" / "connector.onnx"))
    (res,) = validate_model_dir(tmp_path / "m", oracle, cfg, graphs=["connector"])
    assert not res.ok and res.max_abs > 1e-3


def test_external_data_round_trip(tiny_checkpoint, tmp_path):
    """Large graphs are saved with `<file>.data` beside them and load from another working directory."""
    from vibevoice_onnx.weights import load_checkpoint

    cfg, weights = load_checkpoint(tiny_checkpoint)
    files = save_model(build_connector(cfg, weights), tmp_path / "connector.onnx", external=True)
    assert [f.name for f in files] == ["connector.onnx", "connector.onnx.data"]
    assert (tmp_path / "connector.onnx").stat().st_size < 10_000
    z = np.random.default_rng(0).standard_normal((2, cfg.latent_dim)).astype(np.float32)
    got = session(tmp_path / "connector.onnx").run(None, {"speech_latent": z})[0]
    with torch.no_grad():
        ref = VibeVoice(cfg, weights).connector(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)


def test_cli_requires_tokenizer(tiny_checkpoint, tmp_path):
    res = run_cli("export", "--checkpoint", tiny_checkpoint, "--out", tmp_path / "m", check=False)
    assert res.returncode == 2
    assert "--tokenizer is required" in res.stderr and "Traceback" not in res.stderr


def test_cli_export_prints_validation(tiny_checkpoint, real_tokenizer, tmp_path):
    """A fresh export through the real CLI prints per-output parity lines for every graph and passes."""
    res = run_cli("export", "--checkpoint", tiny_checkpoint, "--out", tmp_path / "m", "--tokenizer", real_tokenizer)
    lines = [l for l in res.stdout.splitlines() if "max-abs" in l]
    graphs = {"text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder"}
    assert {g for g in graphs if any(g in l for l in lines)} == graphs, res.stdout
    assert all(" ok" in l and "FAIL" not in l for l in lines), res.stdout
    assert "validation passed" in res.stdout
    assert math.isfinite(float(lines[0].split("max-abs")[1].split()[0]))


def test_failed_validation_writes_no_manifest(tiny_checkpoint, real_tokenizer, tmp_path, monkeypatch, capsys):
    """An export whose validation fails (a connector with one perturbed weight) exits non-zero, writes no
    vibevoice.json, keeps the earlier model directory as it was and leaves no staging directory behind."""
    from vibevoice_onnx import cli, graphs

    def bad_connector(cfg, weights):
        m = build_connector(cfg, weights)
        w = next(t for t in m.graph.initializer if t.name == "fc2.weight_t")
        arr = onnx.numpy_helper.to_array(w).copy()
        arr[0, 0] += 0.05
        w.CopyFrom(onnx.numpy_helper.from_array(arr, w.name))
        return m

    monkeypatch.setitem(graphs.GRAPHS, "connector", bad_connector)
    out = tmp_path / "m"
    out.mkdir()
    (out / "vibevoice.json").write_text('{"earlier": true}')
    code = cli.main(["export", "--checkpoint", str(tiny_checkpoint), "--out", str(out),
                     "--tokenizer", str(real_tokenizer)])
    captured = capsys.readouterr()
    assert code == 1
    assert "connector" in captured.out and "FAILED" in captured.out
    assert "error: validation failed" in captured.err and f"nothing was written to {out}" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert sorted(p.name for p in out.iterdir()) == ["vibevoice.json"]
    assert (out / "vibevoice.json").read_text() == '{"earlier": true}'


@pytest.mark.parametrize("key", ["ddpm_num_steps", "ddpm_beta_schedule", "prediction_type"])
def test_manifest_requires_scheduler_fields(cfg, key):
    """The noise schedule comes from config.json, never from a default of the exporter."""
    from vibevoice_onnx.export import build_manifest

    raw = json.loads(json.dumps(cfg.raw))
    del raw["diffusion_head_config"][key]
    with pytest.raises(ValueError, match=f"diffusion_head_config.{key}: missing"):
        build_manifest(ModelConfig.from_dict(raw), {}, model_name="x", checkpoint="x", random=True)
    raw["diffusion_head_config"][key] = 1000.0 if key == "ddpm_num_steps" else 7
    with pytest.raises(ValueError, match=f"diffusion_head_config.{key}: expected"):
        build_manifest(ModelConfig.from_dict(raw), {}, model_name="x", checkpoint="x", random=True)
