"""The benchmark tools that evaluate levers: `vv_bench batch` (cross-stream batching: each stream's outputs of
a shared call against its own call) and bench/profile_graph.py (ORT's profiler per op type), on the tiny
model. The speed numbers are not asserted (benchmarks, not tests); the structure and the bitwise claims are."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ARTIFACTS, BUILD, ROOT, missing


@pytest.fixture(scope="module")
def vv_bench():
    exe = BUILD / "bench" / "vv_bench"
    if not exe.exists():
        missing(f"vv_bench not built: {exe} (run scripts/test.sh or cmake --build --preset dev)")
    return exe


def test_batch_mode_compares_each_stream(vv_bench, tiny_model, tmp_path):
    out = tmp_path / "batch.json"
    res = subprocess.run([vv_bench, "batch", "--model", tiny_model, "--voice", "synthetic", "--reps", "1",
                          "--frames", "12", "--streams", "3", "--json", out], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    d = json.loads(out.read_text())
    assert json.loads(res.stdout) == d
    assert [s["k"] for s in d["streams"]] == [1, 2, 3]
    assert d["rest_ms_per_frame"] > 0
    for s in d["streams"]:
        assert s["speech_step_ms"]["separate"] > 0 and s["speech_step_ms"]["batched"] > 0
        assert s["head_ms"]["separate"] > 0 and s["head_ms"]["batched"] > 0
        # the graphs compute each batch row on its own: rows of equal length and head rows are bit-identical
        assert s["speech_step_aligned"] == {"identical": True, "max_abs_diff": 0}
        assert s["head"] == {"identical": True, "max_abs_diff": 0}
        assert 0 <= s["speech_step"]["max_abs_diff"] < 1e-3
        assert s["projected_gain"] > 0 and s["projected_gain_head_only"] > 0
    one = d["streams"][0]
    assert one["speech_step"]["identical"]  # one stream: the joined cache is its own


def test_batch_mode_errors(vv_bench, tiny_model):
    res = subprocess.run([vv_bench, "batch", "--model", tiny_model, "--voice", "nobody"], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "unknown voice nobody" in res.stderr
    res = subprocess.run([vv_bench, "batch", "--voice", "synthetic"], capture_output=True, text=True)
    assert res.returncode == 1 and "--model and --voice are required" in res.stderr


def test_profile_graph_splits_the_time(tiny_model, tmp_path):
    out = tmp_path / "prof.json"
    res = subprocess.run([sys.executable, ROOT / "bench" / "profile_graph.py", "--model", tiny_model, "--graph",
                          "tts_lm", "--past", "20", "--runs", "3", "--read-gb-s", "10", "--json", out],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    d = json.loads(out.read_text())
    assert d["graph"] == "tts_lm" and d["nodes"] > 0 and d["wall_ms"] > 0 and d["kernel_ms"] > 0
    assert sum(o["nodes"] for o in d["ops"].values()) == d["nodes"]
    # every Qwen2 projection is a weight-bearing node group, one node per layer, with its weight bytes
    groups = d["weight_groups"]
    for name in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
        assert name in groups, sorted(groups)
        assert groups[name]["weight_mb"] > 0
    assert len({groups[n]["nodes"] for n in ("q_proj", "gate_proj", "down_proj")}) == 1
    assert d["weight_read_ms"] == pytest.approx(d["weight_mb"] / 10, abs=1e-3)


def test_profile_graph_unknown_graph(tiny_model):
    res = subprocess.run([sys.executable, ROOT / "bench" / "profile_graph.py", "--model", tiny_model, "--graph",
                          "nope"], capture_output=True, text=True)
    assert res.returncode != 0 and "nope.onnx does not exist" in res.stderr


def test_gqa_prototype_computes_the_exported_graph(tmp_path):
    """The GroupQueryAttention prototype (in-place KV buffers, rotary inside the op, fused projections) must
    compute what the exported TTS LM computes: its timings are only meaningful then."""
    art = ARTIFACTS / "tiny"
    for d in ("checkpoint", "model", "model-int8"):
        if not (art / d).exists():
            missing(f"tiny test artifacts missing: {art / d} (run scripts/make_test_model.sh)")
    out = tmp_path / "gqa.json"
    res = subprocess.run([sys.executable, ROOT / "bench" / "gqa_prototype.py", "--checkpoint", art / "checkpoint",
                          "--fp32", art / "model", "--int8", art / "model-int8", "--past", "20", "--reps", "2",
                          "--json", out], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    d = json.loads(out.read_text())
    assert set(d["speech_step_ms"]) == {f"{t} {p}" for t in ("exported", "gqa", "gqa+fused") for p in ("fp32", "int8")}
    assert d["max_abs_hidden"] > 0.1
    for name in ("gqa fp32", "gqa+fused fp32"):
        assert d["max_abs_diff_vs_exported"][name] < 1e-5, d
    for name in ("gqa int8", "gqa+fused int8"):
        assert d["max_abs_diff_vs_exported"][name] < 1e-2, d
