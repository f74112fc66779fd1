"""`quantize` (and `export --precision`): fp16 / int8 copies of the tiny model load in onnxruntime, keep
the fp32 graph interface, and stay close to the fp32 graphs."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import onnx
import pytest
from conftest import run_cli

from vibevoice_onnx import cli, quantize, validate
from vibevoice_onnx.quantize import QUANT_BOUNDS, QuantizationError, compare, quantize_model_dir
from vibevoice_onnx.validate import sample_feeds, session

GRAPHS = ("text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder")
# An independent, looser per-output bound: max|q - fp32| <= REL_BOUND x max(1, max|fp32| of that output)
# (measured on the tiny model, worst output: fp16 6e-3 at max|ref| 2 (a decoder state), int8 9.4e-2 at 2)
REL_BOUND = {"fp16": 1e-2, "int8": 1e-1}


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
        outputs = compare(tiny_model / f, out / f, name, manifest, seed=5)
        assert [o.name for o in outputs] == [x.name for x in a.get_outputs()]
        for o in outputs:
            assert np.isfinite(o.max_abs) and o.max_abs <= REL_BOUND[mode] * max(1.0, o.ref_max), (name, o)
            assert o.ok(QUANT_BOUNDS[mode]), o.line(QUANT_BOUNDS[mode])
        assert f"({mode})  vs fp32: ok" in next(line for line in stdout.splitlines() if line.strip().startswith(name))
    assert "eos_logit" in stdout and "FAIL" not in stdout


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
    assert res.returncode == 3 and "not an fp32 model directory" in res.stderr  # a model error
    assert not (tmp_path / "x").exists()


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


def test_int4_passes_its_bounds(tiny_model, tmp_path):
    res = run_cli("quantize", "--model", tiny_model, "--out", tmp_path / "q4", "--mode", "int4")
    assert sum("(int4)  vs fp32: ok" in line for line in res.stdout.splitlines()) == len(GRAPHS), res.stdout


def scale_output(model: onnx.ModelProto, output: str, factor: float) -> None:
    """Multiply graph output `output` by `factor` (in place): a broken graph."""
    g = model.graph
    for n in g.node:
        n.output[:] = [f"{output}_unscaled" if o == output else o for o in n.output]
    g.initializer.append(onnx.numpy_helper.from_array(np.array(factor, np.float32), f"{output}_factor"))
    g.node.append(onnx.helper.make_node("Mul", [f"{output}_unscaled", f"{output}_factor"], [output]))


def test_broken_bound_fails_the_command(tiny_model, tmp_path, monkeypatch, capsys):
    """A quantized connector whose output is 1.5x too large: `quantize` exits non-zero (3) and names the
    graph, the output, the measured error and the bound."""
    real = quantize.quantize_graph

    def broken(path, mode, block_size=None):
        model = real(path, mode, block_size)
        if path.name == "connector.onnx":
            scale_output(model, "embeds", 1.5)
        return model

    monkeypatch.setattr(quantize, "quantize_graph", broken)
    dst = tmp_path / "q"
    dst.mkdir()
    (dst / "vibevoice.json").write_text("{}")  # an earlier model in --out stays as it was
    code = cli.main(["quantize", "--model", str(tiny_model), "--out", str(dst), "--mode", "int8"])
    out, err = capsys.readouterr()
    assert code == 3, (out, err)
    assert "connector/embeds: max-abs error" in err and "> bound" in err, err
    assert f"nothing was written to {dst}" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"]  # no staging directory left
    assert sorted(p.name for p in dst.iterdir()) == ["vibevoice.json"]
    assert (dst / "vibevoice.json").read_text() == "{}"
    assert "tts_lm/" not in err  # only the broken graph is named
    assert "embeds" in out and "FAIL" in out


def test_eos_sign_flip_fails_within_magnitude_bound(tiny_model, tmp_path, monkeypatch):
    """The quantized eos_logit says "continue" (-0.02) where fp32 says "stop" (0.12): an error of 0.14, small
    against its bound (max|ref| 3 here) and the KV values, but a changed stop decision."""
    real = validate.session
    dst = tmp_path / "q"

    class Session:
        def __init__(self, path):
            self.s, self.quantized = real(path), tiny_model not in path.parents
            self.get_outputs = self.s.get_outputs

        def run(self, names, feeds):
            outs = self.s.run(names, feeds)
            i = [o.name for o in self.s.get_outputs()].index("eos_logit") if "inputs_embeds" in feeds else None
            if i is not None:
                outs[i] = np.full_like(outs[i], -0.02 if self.quantized else 0.12)
                outs[i][0] = 3.0
            return outs

    monkeypatch.setattr(validate, "session", Session)
    with pytest.raises(QuantizationError) as e:
        quantize_model_dir(tiny_model, dst, "int8", log=lambda *_: None)
    msg = str(e.value)
    assert "tts_lm/eos_logit: sign disagrees with the reference at |ref| 0.12 > margin 0.1" in msg, msg
    assert "max-abs error" not in msg  # the magnitude bound alone would have passed
    assert not dst.exists()  # a model that failed its bounds is not left where the engine would load it


def test_per_graph_precision(tiny_model, tmp_path, vibevoice_bin):
    """int8 language models and connector with the diffusion head and the decoder kept fp32 (the safe mix for
    larger models): the kept graphs are byte-identical copies, the manifest says each graph's precision, and
    the C++ engine speaks with the mixed directory."""
    out = tmp_path / "mixed"
    res = run_cli("quantize", "--model", tiny_model, "--out", out, "--mode", "int8",
                  "--graphs", "diffusion_head=fp32,acoustic_decoder=fp32")
    assert "kept (a copy of the fp32 graph)" in res.stdout
    manifest = json.loads((out / "vibevoice.json").read_text())
    precisions = {name: g["precision"] for name, g in manifest["graphs"].items()}
    assert precisions == {"text_lm": "int8", "tts_lm": "int8", "connector": "int8", "diffusion_head": "fp32",
                          "acoustic_decoder": "fp32"}
    assert manifest["quantization"] == {"weights": "int8", "block_size": 64, "graphs": precisions}
    for name in ("diffusion_head", "acoustic_decoder"):
        f = manifest["graphs"][name]["file"]
        assert (out / f).read_bytes() == (tiny_model / f).read_bytes()
    synth = subprocess.run([str(vibevoice_bin), "synth", "--model", str(out), "--voice", "synthetic", "--text",
                            "Mixed precision.", "--raw", "-", "--quiet", "--threads", "1"], capture_output=True)
    assert synth.returncode == 0 and len(synth.stdout) > 0, synth.stderr.decode()
    # int4 language models, the rest int8
    res = run_cli("quantize", "--model", tiny_model, "--out", tmp_path / "q4", "--mode", "int8",
                  "--graphs", "text_lm=int4,tts_lm=int4")
    m4 = json.loads((tmp_path / "q4" / "vibevoice.json").read_text())
    assert m4["graphs"]["text_lm"]["precision"] == "int4" and m4["graphs"]["connector"]["precision"] == "int8"


@pytest.mark.parametrize("graphs,needle", [("nope=int8", "unknown graph 'nope'"), ("text_lm=int3", "must be one of"),
                                           ("text_lm", "NAME=PRECISION")])
def test_per_graph_precision_errors(tiny_model, tmp_path, graphs, needle):
    res = run_cli("quantize", "--model", tiny_model, "--out", tmp_path / "x", "--mode", "int8", "--graphs", graphs,
                  check=False)
    assert res.returncode == 2 and needle in res.stderr, res.stderr
    assert not (tmp_path / "x").exists()
