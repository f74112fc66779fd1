"""The connector (spec 2.5), the EOS classifier (2.7) and the acoustic decoder (2.8, 3.8) against the
independent float64 numpy re-derivations of numpy_spec.py, both for the PyTorch oracle (modules.py) and
for the exported ONNX graphs (onnxruntime), on the tiny random checkpoint."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

import numpy_spec as ref
from vibevoice_onnx.modules import VibeVoice
from vibevoice_onnx.weights import load_checkpoint

# float32 vs float64, relative to the reference's peak. Measured on the tiny model: <= 6e-7 (modules.py and
# ONNX alike). 1e-5 still catches spec slips in the decoder of the size of eps 1e-6 instead of 1e-5 (2e-4
# of the peak) or the tanh GELU instead of the erf one (4e-5).
TOL = 1e-5


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):
    cfg, w = load_checkpoint(tiny_checkpoint)
    return cfg, {k: ref.f64(v) for k, v in w.items()}, VibeVoice(cfg, w)


def graph(model_dir, name: str) -> ort.InferenceSession:
    return ort.InferenceSession(str(model_dir / f"{name}.onnx"), providers=["CPUExecutionProvider"])


def close(got, want, what: str) -> None:
    got = np.asarray(got, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err, peak = float(np.abs(got - want).max()), float(np.abs(want).max())
    print(f"{what}: max-abs error {err:.3g}, rel {err / peak:.2g}")
    assert err <= TOL * peak, f"{what}: max-abs error {err:.3g} (max |ref| {peak:.3g})"


def test_reference_is_not_trivial(loaded):
    """The references use every weight they name: perturbing one changes their output."""
    cfg, W, _ = loaded
    z = np.random.default_rng(0).standard_normal((2, cfg.latent_dim))
    base = ref.connector(W, z)
    W2 = dict(W, **{ref.CONNECTOR + "norm.weight": W[ref.CONNECTOR + "norm.weight"] * 1.01})
    assert np.abs(ref.connector(W2, z) - base).max() > 1e-4
    x = np.zeros((3, 5))
    x[:, 2] = 1.0  # an impulse: the causal conv output before t = 2 is the bias only
    w = np.random.default_rng(1).standard_normal((4, 3, 7))
    y = ref.causal_conv(x, w, np.ones(4))
    np.testing.assert_allclose(y[:, :2], 1.0)
    np.testing.assert_allclose(y[:, 2:], 1.0 + w[:, :, ::-1][:, :, :3].sum(1))


@torch.no_grad()
def test_connector(loaded, tiny_model):
    cfg, W, m = loaded
    z = np.random.default_rng(2).standard_normal((3, cfg.latent_dim))
    want = ref.connector(W, z)
    close(m.connector(torch.tensor(z, dtype=torch.float32)).numpy(), want, "modules.Connector")
    got = graph(tiny_model, "connector").run(["embeds"], {"speech_latent": z.astype(np.float32)})[0]
    close(got, want, "connector.onnx")


@torch.no_grad()
def test_eos_classifier(loaded, tiny_model):
    cfg, W, m = loaded
    rng = np.random.default_rng(3)
    h = rng.standard_normal((4, cfg.hidden_size))
    close(m.tts_lm.eos_logit(torch.tensor(h, dtype=torch.float32)).numpy(), ref.eos_logit(W, h), "modules eos_logit")
    # the graph applies the classifier to its own final-normed last hidden (2.3, 2.7)
    b, t, p = 2, 3, 4
    feeds = {"inputs_embeds": rng.standard_normal((b, t, cfg.hidden_size)).astype(np.float32),
             "type_id": np.array([0, 1], np.int64), "position_ids": np.tile(np.arange(p, p + t), (b, 1)),
             "attention_mask": np.ones((b, p + t), np.int64)}
    for l in range(cfg.tts_layers):
        for kind in ("key", "value"):
            feeds[f"past_{kind}_{l}"] = rng.standard_normal((b, cfg.num_key_value_heads, p, cfg.head_dim)).astype(
                np.float32)
    last, logit = graph(tiny_model, "tts_lm").run(["last_hidden", "eos_logit"], feeds)
    close(logit, ref.eos_logit(W, np.asarray(last, np.float64)), "tts_lm.onnx eos_logit")


@torch.no_grad()
def test_acoustic_decoder(loaded, tiny_model):
    """Whole-sequence decode of 4 frames; the ONNX graph also in chunks 1 + 3 carrying its states."""
    cfg, W, m = loaded
    z = 0.5 * np.random.default_rng(4).standard_normal((cfg.latent_dim, 4))
    want = ref.acoustic_decoder(W, z, list(cfg.decoder_depths))
    assert want.shape == (4 * 3200,) and np.abs(want).max() > 1e-3
    close(m.decoder(torch.tensor(z[None], dtype=torch.float32))[0, 0].numpy(), want, "modules.AcousticDecoder")

    sess = graph(tiny_model, "acoustic_decoder")
    states = {i.name: np.zeros(i.shape, np.float32) for i in sess.get_inputs() if i.name.startswith("state_in_")}
    outs = [o.name for o in sess.get_outputs()]
    audio = []
    for lo, hi in ((0, 1), (1, 4)):
        res = dict(zip(outs, sess.run(None, {"latent": z[None, :, lo:hi].astype(np.float32), **states})))
        audio.append(res["audio"][0, 0])
        states = {k: res["state_out_" + k[len("state_in_"):]] for k in states}
    close(np.concatenate(audio), want, "acoustic_decoder.onnx (chunks 1 + 3)")
    whole = sess.run(["audio"], {"latent": z[None].astype(np.float32),
                                 **{k: np.zeros_like(v) for k, v in states.items()}})[0]
    close(whole[0, 0], want, "acoustic_decoder.onnx (whole)")
