"""The stateful streaming acoustic decoder graph (G5): any chunking of the frames gives the same audio, bit
for bit, and the audio of the whole-sequence PyTorch decoder and of the original-style streaming decoder of
modules.py (within float tolerance)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vibevoice_onnx.config import ModelConfig
from vibevoice_onnx.graphs import decoder_states
from vibevoice_onnx.modules import StreamingAcousticDecoder, VibeVoice
from vibevoice_onnx.validate import decode_stream, session

N_FRAMES = 8


@pytest.fixture(scope="module")
def cfg(tiny_checkpoint) -> ModelConfig:
    return ModelConfig.from_json(tiny_checkpoint / "config.json")


@pytest.fixture(scope="module")
def dec(tiny_model):
    return session(tiny_model / "acoustic_decoder.onnx")


@pytest.fixture(scope="module")
def latents(cfg) -> np.ndarray:
    return (0.7 * torch.randn(1, cfg.latent_dim, N_FRAMES, generator=torch.Generator().manual_seed(11))).numpy()


@pytest.fixture(scope="module")
def whole_torch(tiny_checkpoint, latents) -> np.ndarray:
    model = VibeVoice.from_checkpoint(tiny_checkpoint)
    with torch.no_grad():
        return model.decoder(torch.from_numpy(latents)).numpy()


def test_chunkings_agree(dec, cfg, latents, whole_torch):
    one = decode_stream(dec, cfg, latents, [1] * N_FRAMES)
    four = decode_stream(dec, cfg, latents, [4, 4])
    whole = decode_stream(dec, cfg, latents, [N_FRAMES])
    ragged = decode_stream(dec, cfg, latents, [3, 1, 4])
    assert one.shape == (1, 1, 3200 * N_FRAMES)
    scale = max(1.0, float(np.abs(whole_torch).max()))
    for x in (four, whole, ragged):  # bit for bit: the engine may choose chunk sizes by timing
        np.testing.assert_array_equal(x, one)
    assert np.abs(one - whole_torch).max() < 1e-5 * scale
    assert np.abs(whole_torch).max() > 1e-3  # not vacuous: the random decoder makes non-silent audio


def test_matches_original_streaming_decoder(tiny_checkpoint, dec, cfg, latents):
    """modules.StreamingAcousticDecoder keeps the original's 2r-1-frame convT caches; ours keeps 1 frame."""
    ref = StreamingAcousticDecoder(VibeVoice.from_checkpoint(tiny_checkpoint).decoder)
    with torch.no_grad():
        expect = torch.cat([ref.step(torch.from_numpy(latents[:, :, i:i + 2])) for i in range(0, N_FRAMES, 2)], -1)
    got = decode_stream(dec, cfg, latents, [2] * (N_FRAMES // 2))
    assert np.abs(got - expect.numpy()).max() < 1e-5 * max(1.0, float(expect.abs().max()))


def test_denormalisation_is_inside_the_graph(dec, cfg, tiny_model):
    """The graph takes the raw diffusion output z and de-normalises it itself: z = scale * bias makes
    z / scale - bias == 0, which must decode differently from z = 0 (de-normalised to -bias != 0)."""
    m = json.loads((tiny_model / "vibevoice.json").read_text())
    z0 = np.full((1, cfg.latent_dim, 1), m["speech_scaling_factor"] * m["speech_bias_factor"], np.float32)
    zero_latent = decode_stream(dec, cfg, z0, [1])
    raw_zero = decode_stream(dec, cfg, np.zeros_like(z0), [1])
    assert np.abs(zero_latent - raw_zero).max() > 1e-6


def test_states_are_carried(dec, cfg, latents):
    """Restarting from zero states in the middle changes the audio (the states matter)."""
    carried = decode_stream(dec, cfg, latents, [4, 4])[..., 4 * 3200:]
    restarted = decode_stream(dec, cfg, latents[:, :, 4:], [4])
    assert np.abs(carried - restarted).max() > 1e-6


def test_real_geometry_has_the_34_states_of_the_spec(real_config):
    """architecture.md 2.8's state table for the released config."""
    states = decoder_states(ModelConfig.from_json(real_config))
    assert len(states) == 34
    assert [s.name for s in states] == [f"state_{i:02d}" for i in range(34)]
    expect = [(1, 64, 6)] + [(1, 2048, 6)] * 8 + [(1, 2048, 1)]
    for width in (1024, 512, 256, 128, 64, 32):
        expect += [(1, width, 6)] * 3
        if width > 32:
            expect += [(1, width, 1)]
    expect += [(1, 32, 6)]
    assert [s.shape for s in states] == expect
    assert sum(int(np.prod(s.shape)) for s in states) == 139_200
    assert states[0].owner.startswith("upsample_layers.0") and states[-1].owner.startswith("head")
