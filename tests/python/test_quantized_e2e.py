"""`vibevoice synth` (the C++ CLI) on the int8, int4 and fp16 copies of the tiny model against the fp32 model,
same voice, text and injected noise, 30 frames (EOS ignored): the audio must stay within a measured SNR band
of the fp32 audio. The quantized copies come from scripts/make_test_model.sh ($VV_TEST_ARTIFACTS/tiny/model-*);
when missing the test fails under CI=true and is skipped otherwise."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import ARTIFACTS, missing

TEXT = ("Hello there, this is a quantization test of the streaming engine. The text covers several windows, "
        "and the speech goes on after it.")
FRAMES = 30
# Audio SNR vs fp32 (16-bit WAVs, same noise). Measured over numpy noise seeds 0..19: int8 33.0-34.2 dB,
# int4 12.6-14.1 dB, fp16 61.7-62.0 dB (latents: 34.6-36.2, 14.1-15.9, 73.4-76.5 dB). Lower bounds leave
# ~5 dB of margin (3x the error power); an upper bound shows the quantized weights are in use (a model
# that computed in fp32 would match exactly).
SNR_BANDS = {"int8": (28.0, 45.0), "int4": (10.0, 20.0), "fp16": (55.0, 80.0)}


def artifact_model(name: str) -> Path:
    path = ARTIFACTS / "tiny" / name
    if (path / "vibevoice.json").is_file():
        return path
    missing(f"test model missing: {path} (run scripts/make_test_model.sh, or set VV_TEST_ARTIFACTS)")


def synth(exe: Path, model: Path, noise: Path, out: Path) -> tuple[np.ndarray, np.ndarray]:
    wav, lat = out.with_suffix(".wav"), out.with_suffix(".latents.npy")
    res = subprocess.run([str(exe), "synth", "--model", str(model), "--voice", "synthetic", "--text", TEXT,
                          "--noise", str(noise), "-o", str(wav), "--dump-latents", str(lat), "--threads", "1",
                          "--ignore-eos", "--max-seconds", str(FRAMES / 7.5), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with wave.open(str(wav)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32767.0
    return np.load(lat).astype(np.float64), pcm


def snr_db(ref: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref ** 2) / np.sum((x - ref) ** 2)))


@pytest.fixture(scope="module")
def noise(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("quant") / "noise.npy"
    np.save(path, np.random.default_rng(0).standard_normal((FRAMES, 64)).astype(np.float32))
    return path


@pytest.fixture(scope="module")
def fp32_run(tmp_path_factory, vibevoice_bin, noise):
    return synth(vibevoice_bin, artifact_model("model"), noise, tmp_path_factory.mktemp("fp32") / "out")


@pytest.mark.parametrize("mode", list(SNR_BANDS))
def test_quantized_cli_audio_close_to_fp32(mode, tmp_path, vibevoice_bin, noise, fp32_run):
    model = artifact_model(f"model-{mode}")
    precisions = {g["precision"] for g in json.loads((model / "vibevoice.json").read_text())["graphs"].values()}
    assert precisions == {mode}
    ref_lat, ref_pcm = fp32_run
    lat, pcm = synth(vibevoice_bin, model, noise, tmp_path / mode)
    assert lat.shape == ref_lat.shape == (FRAMES, 64)
    assert pcm.shape == ref_pcm.shape == (FRAMES * 3200,)
    assert np.isfinite(lat).all() and np.abs(pcm).max() > 0.05
    lo, hi = SNR_BANDS[mode]
    snr = snr_db(ref_pcm, pcm)
    print(f"{mode}: audio SNR vs fp32 {snr:.2f} dB, latents {snr_db(ref_lat, lat):.2f} dB")
    assert lo <= snr <= hi, f"{mode}: audio SNR vs fp32 {snr:.2f} dB outside [{lo}, {hi}]"
