"""`quantize` (and `export --precision`): fp16 / int8 copies of the tiny model load in onnxruntime, keep
the fp32 graph interface, and stay close to the fp32 graphs."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from conftest import run_cli

from vibevoice_onnx.quantize import compare
from vibevoice_onnx.validate import sample_feeds, session

GRAPHS = ("text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder")
# relative bound on max|q - fp32| / max|fp32| (measured on the tiny model: fp16 <= ~1e-3, int8 <= ~1e-2)
REL_BOUND = {"fp16": 1e-2, "int8": 5e-2}


@pytest.fixture(scope="module", params=["fp16", "int8"])
def quantized(request, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "model"
    res = run_cli("quantize", "--model", tiny_model, "--out", out, "--mode", request.param)
    return request.param, out, res.stdout


def test_directory_and_manifest(quantized, tiny_model):
    mode, out, _ = quantized
    src = json.loads((tiny_model / "vibevoice.json").read_text())
    dst = json.loads((out / "vibevoice.json").read_text())
    assert {n: g["precision"] for n, g in dst["graphs"].items()} == {n: mode for n in GRAPHS}
    src.pop("graphs"), dst.pop("graphs")
    if mode == "int8":  # the integer modes record their block size (default 64 for int8)
        assert dst.pop("quantization") == {"weights": "int8", "block_size": 64}
    assert src == dst  # everything else unchanged
    assert (out / "tokenizer.json").read_bytes() == (tiny_model / "tokenizer.json").read_bytes()
    assert (out / "voices" / "manifest.json").read_bytes() == (tiny_model / "voices" / "manifest.json").read_bytes()


def test_interface_unchanged_and_error_bounded(quantized, tiny_model):
    mode, out, stdout = quantized
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    for name in GRAPHS:
        f = f"{name}.onnx"
        a, b = session(tiny_model / f), session(out / f)
        io = lambda s: [(x.name, x.type, x.shape) for x in s.get_inputs() + s.get_outputs()]  # noqa: E731
        assert io(a) == io(b), name
        err, ref = compare(tiny_model / f, out / f, name, manifest, seed=5)
        assert np.isfinite(err) and err <= REL_BOUND[mode] * ref, (name, err, ref)
        assert name in stdout


def test_weights_are_really_converted(quantized, tiny_model):
    mode, out, _ = quantized
    m = onnx.load(str(out / "tts_lm.onnx"))
    ops = {n.op_type for n in m.graph.node}
    if mode == "int8":
        nbits = [n for n in m.graph.node if n.op_type == "MatMulNBits"]
        attr = lambda n, k: next(a.i for a in n.attribute if a.name == k)  # noqa: E731
        assert nbits and all(attr(n, "bits") == 8 and attr(n, "block_size") == 64 for n in nbits)
        assert "MatMul" not in ops or all(n.input[1] not in {t.name for t in m.graph.initializer}
                                          for n in m.graph.node if n.op_type == "MatMul")
        dec = onnx.load(str(out / "acoustic_decoder.onnx"))
        quantized = {n.name for n in dec.graph.node if n.op_type == "MatMulNBits"}
        floating = {n.name for n in dec.graph.node if n.op_type == "MatMul"}
        # low time resolution (stage 0/1, upsamplers 1/2: <= 8 rows per frame) int8, the rest float
        assert {"s0b0.linear1", "s0b0.linear2", "up1_mm", "up2_mm", "s1b0.linear1"} <= quantized
        assert {"up3_mm", "s2b0.linear1", "s6b0.linear2"} <= floating
    else:
        types = {t.data_type for t in m.graph.initializer if len(t.dims) == 2}
        assert onnx.TensorProto.FLOAT16 in types
    assert (out / "tts_lm.onnx").stat().st_size < (tiny_model / "tts_lm.onnx").stat().st_size * 0.6


def test_fp16_keeps_rope_and_norm_statistics_in_fp32(tiny_model, tmp_path):
    """Positions near the 8192 limit (fp16 spacing 4) are as accurate as positions near 0: the RoPE
    angles are computed in fp32 even in the fp16 graph, with no fp16 round trip in between."""
    run_cli("quantize", "--model", tiny_model, "--out", tmp_path / "m", "--mode", "fp16", "--no-check")
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    a, b = session(tiny_model / "text_lm.onnx"), session(tmp_path / "m" / "text_lm.onnx")
    errs = {}
    for start in (0, 8180):
        feeds = sample_feeds("text_lm", manifest, np.random.default_rng(1))[1]
        feeds["position_ids"] = feeds["position_ids"] + start
        x, y = a.run(None, feeds)[0], b.run(None, feeds)[0]
        errs[start] = float(np.abs(x - y).max() / np.abs(x).max())
    assert errs[8180] < 3 * errs[0] + 1e-3, errs
    m = onnx.load(str(tmp_path / "m" / "text_lm.onnx"))
    producers = {o: n for n in m.graph.node for o in n.output}
    cos = next(n for n in m.graph.node if n.op_type == "Cos")
    assert producers[cos.input[0]].op_type == "Concat"  # no Cast pair between the angle and Cos


def test_export_precision_int8(tiny_checkpoint, real_tokenizer, tmp_path):
    res = run_cli("export", "--checkpoint", tiny_checkpoint, "--out", tmp_path / "m", "--tokenizer", real_tokenizer,
                  "--precision", "int8")
    manifest = json.loads((tmp_path / "m" / "vibevoice.json").read_text())
    assert {g["precision"] for g in manifest["graphs"].values()} == {"int8"}
    assert "validation passed" in res.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vv-fp32-")]  # temp dir cleaned up


def test_rejects_non_fp32_input(quantized, tmp_path):
    _, out, _ = quantized
    res = run_cli("quantize", "--model", out, "--out", tmp_path / "x", "--mode", "int8", check=False)
    assert res.returncode == 2 and "not an fp32 model directory" in res.stderr


def test_block_size_option(tiny_model, tmp_path):
    out = tmp_path / "b128"
    run_cli("quantize", "--model", tiny_model, "--out", out, "--mode", "int8", "--block-size", "128", "--no-check")
    assert json.loads((out / "vibevoice.json").read_text())["quantization"] == {"weights": "int8", "block_size": 128}
    m = onnx.load(str(out / "diffusion_head.onnx"))
    sizes = {next(a.i for a in n.attribute if a.name == "block_size") for n in m.graph.node if n.op_type == "MatMulNBits"}
    assert sizes == {128}
    bad = run_cli("quantize", "--model", tiny_model, "--out", tmp_path / "bad", "--mode", "int8", "--block-size", "100",
                  check=False)
    assert bad.returncode != 0 and "block-size" in bad.stderr
