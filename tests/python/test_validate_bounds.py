"""validate: every output of a graph has its own bound (atol + rtol x max|ref of that output|), and the EOS
logit's sign must agree with the reference; a small eos_logit is not judged against the larger KV caches."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from vibevoice_onnx.bounds import OutputStat
from vibevoice_onnx.graphs import build_tts_lm
from vibevoice_onnx.modules import VibeVoice
from vibevoice_onnx.validate import FP32_BOUNDS, FP32_TOL, Result, validate_model_dir
from vibevoice_onnx.weights import EOS, load_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tiny_checkpoint):
    return load_checkpoint(tiny_checkpoint)


def tts_only_dir(tmp_path, tiny_model, cfg, weights):
    """A model directory holding only a tts_lm graph built from `weights`."""
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    (tmp_path / "vibevoice.json").write_text(json.dumps(manifest))
    onnx.save(build_tts_lm(cfg, weights), str(tmp_path / manifest["graphs"]["tts_lm"]["file"]))
    return tmp_path


def scaled_eos(weights, scale: float, bias_offset: float = 0.0):
    """The weights with the EOS head's last layer scaled (a small eos_logit) and its bias shifted."""
    w = dict(weights)
    w[EOS + "fc2.weight"] = weights[EOS + "fc2.weight"] * scale
    w[EOS + "fc2.bias"] = weights[EOS + "fc2.bias"] * scale + bias_offset
    return w


def run_tts(model_dir, oracle, cfg) -> Result:
    with torch.no_grad():
        (res,) = validate_model_dir(model_dir, oracle, cfg, graphs=["tts_lm"])
    return res


def test_small_eos_error_fails_its_own_bound(checkpoint, tiny_model, tmp_path):
    """An eos_logit offset of 3e-4 passes the old criterion (one bound from the largest reference of all
    outputs, the KV caches ~4) but breaks eos_logit's own bound (its values are ~0.03 here)."""
    cfg, weights = checkpoint
    ref_w = scaled_eos(weights, 0.01)
    res = run_tts(tts_only_dir(tmp_path, tiny_model, cfg, scaled_eos(weights, 0.01, 3e-4)), VibeVoice(cfg, ref_w), cfg)
    eos = next(o for o in res.outputs if o.name == "eos_logit")
    assert eos.ref_max < 0.1 < res.ref_max  # eos is the small output
    assert abs(eos.max_abs - 3e-4) < 1e-5
    assert res.max_abs <= FP32_TOL * max(1.0, res.ref_max)  # the old global criterion would pass
    assert not res.ok
    (msg,) = res.problems()
    assert msg.startswith("tts_lm/eos_logit: max-abs error 3.0") and "> bound 1.0" in msg, msg
    assert "FAIL" in res.line() and "tts_lm/eos_logit" in res.line()


def test_unperturbed_small_eos_passes(checkpoint, tiny_model, tmp_path):
    cfg, weights = checkpoint
    w = scaled_eos(weights, 0.01)
    res = run_tts(tts_only_dir(tmp_path, tiny_model, cfg, w), VibeVoice(cfg, w), cfg)
    assert res.ok, res.line()
    assert {"last_hidden", "eos_logit", "present_key_0"} <= {o.name for o in res.outputs}


def test_eos_sign_flip_fails(checkpoint, tiny_model, tmp_path):
    """An EOS head with the opposite sign: its error (<= 2 x 3e-3) is tiny next to the KV values (~4),
    yet it would stop speech where the reference continues, and the sign check says so."""
    cfg, weights = checkpoint
    res = run_tts(tts_only_dir(tmp_path, tiny_model, cfg, scaled_eos(weights, -1e-3)),
                  VibeVoice(cfg, scaled_eos(weights, 1e-3)), cfg)
    eos = next(o for o in res.outputs if o.name == "eos_logit")
    assert eos.max_abs < 1e-2 and eos.flip_ref > FP32_BOUNDS.sign_margin
    assert any(m.startswith("tts_lm/eos_logit:") and "sign disagrees" in m for m in res.problems()), res.problems()


def test_sign_check_alone_fails():
    """Within the magnitude bound (large max|ref|) but a flipped sign beyond the margin: not ok."""
    o = OutputStat("eos_logit")
    o.add(np.array([50.0, 0.0001]), np.array([50.0, -0.002]))
    assert o.max_abs <= o.bound(FP32_BOUNDS)
    assert o.flip_ref == pytest.approx(0.002)
    assert not o.ok(FP32_BOUNDS) and "sign disagrees" in o.problem("tts_lm", FP32_BOUNDS)
    # below the margin a flip is not a decision change
    near = OutputStat("eos_logit")
    near.add(np.array([50.0, 0.0001]), np.array([50.0, -0.0005]))
    assert near.ok(FP32_BOUNDS) and near.problem("tts_lm", FP32_BOUNDS) is None
    # other outputs are not sign-checked
    kv = OutputStat("present_key_0")
    kv.add(np.array([50.0, 0.0001]), np.array([50.0, -0.002]))
    assert kv.ok(FP32_BOUNDS)


def test_each_output_has_its_own_bound():
    small, large = OutputStat("hidden"), OutputStat("present_key_0")
    small.add(np.array([0.1, 0.0]), np.array([0.1, 5e-4]))  # error 5e-4 on an output of max 0.1
    large.add(np.array([1000.0]), np.array([1000.05]))  # error 5e-2 on an output of max 1000
    res = Result("text_lm", [small, large], cases=1)
    assert large.ok(FP32_BOUNDS) and not small.ok(FP32_BOUNDS)
    (msg,) = res.problems()
    assert msg.startswith("text_lm/hidden:") and "5.000e-04 > bound 1.100e-04" in msg, msg
