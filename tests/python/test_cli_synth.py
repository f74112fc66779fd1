"""The C++ `vibevoice synth` / `vibevoice voices` commands on the tiny model: documented exit codes with
clear messages for bad input, deterministic output, raw PCM streaming to stdout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

TEXT = "Hello from the command line. This is a test."
FRAME_BYTES = 3200 * 2  # one latent frame of s16le PCM


def run(exe: Path, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *map(str, args)], input=stdin, capture_output=True, timeout=300)


def synth(exe, model, *args, stdin=None):
    return run(exe, "synth", "--model", model, "--threads", "1", "--quiet", *args, stdin=stdin)


def model_copy(tmp_path: Path, model: Path) -> Path:
    """A model directory of symlinks to `model`, so single files can be replaced cheaply."""
    out = tmp_path / "model"
    out.mkdir()
    for f in model.iterdir():
        (out / f.name).symlink_to(f.resolve())
    return out


def assert_fails(res, code: int, *needles: str) -> None:
    err = res.stderr.decode()
    assert res.returncode == code, f"exit {res.returncode}, expected {code}: {err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in: {err}"


def test_voices_lists_the_model_voices(vibevoice_bin, tiny_model):
    res = run(vibevoice_bin, "voices", "--model", tiny_model)
    assert res.returncode == 0 and b"synthetic" in res.stdout
    res = run(vibevoice_bin, "voices", "--model", tiny_model, "--json")
    voices = json.loads(res.stdout)["voices"]
    assert voices[0]["name"] == "synthetic" and voices[0]["tts_len"] > 0


def test_same_seed_gives_byte_identical_wav(tmp_path, vibevoice_bin, tiny_model):
    outs = []
    for i in range(2):
        out = tmp_path / f"a{i}.wav"
        res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--seed", "4",
                    "--max-seconds", "2", "-o", out)
        assert res.returncode == 0, res.stderr.decode()
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0][:4] == b"RIFF" and len(outs[0]) > 44
    other = tmp_path / "b.wav"
    assert synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--seed", "5",
                 "--max-seconds", "2", "-o", other).returncode == 0
    assert other.read_bytes() != outs[0]


def test_decode_thread_gives_the_same_wav_and_pcm(tmp_path, vibevoice_bin, tiny_model):
    common = ("--voice", "synthetic", "--text", TEXT, "--seed", "4", "--max-seconds", "2", "--chunk", "2")
    wavs, pcms = [], []
    for extra in ((), ("--decode-thread",)):
        out = tmp_path / f"w{len(wavs)}.wav"
        res = synth(vibevoice_bin, tiny_model, *common, *extra, "-o", out)
        assert res.returncode == 0, res.stderr.decode()
        wavs.append(out.read_bytes())
        res = synth(vibevoice_bin, tiny_model, *common, *extra, "--raw", "-")
        assert res.returncode == 0, res.stderr.decode()
        pcms.append(res.stdout)
    assert len(wavs[0]) > 44 and wavs[0] == wavs[1]
    assert len(pcms[0]) > 0 and pcms[0] == pcms[1] == wavs[0][44:]


def test_raw_stdout_has_one_frame_of_pcm_per_latent(tmp_path, vibevoice_bin, tiny_model):
    lat = tmp_path / "lat.npy"
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--raw", "-", "--ignore-eos",
                "--max-seconds", "1.2", "--chunk", "4", "--dump-latents", lat, stdin=TEXT.encode())
    assert res.returncode == 0, res.stderr.decode()
    assert len(res.stdout) == 9 * FRAME_BYTES  # ceil(1.2 s * 7.5 frames/s) = 9 frames
    import numpy as np
    assert np.load(lat).shape == (9, 64)


def test_text_file_and_progress_line(tmp_path, vibevoice_bin, tiny_model):
    f = tmp_path / "t.txt"
    f.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "o.wav"
    res = run(vibevoice_bin, "synth", "--model", tiny_model, "--voice", "synthetic", "--text-file", f,
              "--max-seconds", "1", "-o", out, "--threads", "1")
    assert res.returncode == 0, res.stderr.decode()
    assert b"RTF" in res.stderr and b"frames" in res.stderr


def test_unknown_voice_lists_available(vibevoice_bin, tiny_model, tmp_path):
    res = synth(vibevoice_bin, tiny_model, "--voice", "nobody", "--text", TEXT, "-o", tmp_path / "x.wav")
    assert_fails(res, 3, "unknown voice 'nobody'", "synthetic")


def test_missing_model_dir(vibevoice_bin, tmp_path):
    res = synth(vibevoice_bin, tmp_path / "nope", "--voice", "synthetic", "--text", TEXT, "-o", tmp_path / "x.wav")
    assert_fails(res, 3, "model directory not found")


def test_corrupt_graph_file(vibevoice_bin, tiny_model, tmp_path):
    model = model_copy(tmp_path, tiny_model)
    (model / "connector.onnx").unlink()
    (model / "connector.onnx").write_bytes(b"not a protobuf at all")
    res = synth(vibevoice_bin, model, "--voice", "synthetic", "--text", TEXT, "-o", tmp_path / "x.wav")
    assert_fails(res, 3, "connector.onnx")


def test_manifest_format_version_mismatch(vibevoice_bin, tiny_model, tmp_path):
    model = model_copy(tmp_path, tiny_model)
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    manifest["format_version"] = 99
    (model / "vibevoice.json").unlink()
    (model / "vibevoice.json").write_text(json.dumps(manifest))
    res = synth(vibevoice_bin, model, "--voice", "synthetic", "--text", TEXT, "-o", tmp_path / "x.wav")
    assert_fails(res, 3, "format_version")


@pytest.mark.parametrize("text", [b"   \n\t ", b"bad \xff utf8", b"cut \xe2\x80"], ids=["empty", "invalid", "truncated"])
def test_bad_text_is_an_input_error(vibevoice_bin, tiny_model, tmp_path, text):
    f = tmp_path / "t.txt"
    f.write_bytes(text)
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text-file", f, "-o", tmp_path / "x.wav")
    assert_fails(res, 4)
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "-o", tmp_path / "y.wav", stdin=text)
    assert_fails(res, 4)


def test_text_over_length_cap(vibevoice_bin, tiny_model, tmp_path):
    f = tmp_path / "long.txt"
    f.write_text(" a" * 9000)
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text-file", f, "-o", tmp_path / "x.wav")
    assert_fails(res, 4, "too long")


@pytest.mark.parametrize("args", [
    ["--steps", "0"], ["--steps", "51"], ["--steps", "abc"], ["--cfg", "-1"], ["--solver", "euler"],
    ["--chunk", "0"], ["--threads", "-2"], ["--provider", "tpu"], ["--max-seconds", "0"], ["--no-such-flag"],
], ids=lambda a: " ".join(a))
def test_bad_option_values_are_usage_errors(vibevoice_bin, tiny_model, tmp_path, args):
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "-o", tmp_path / "x.wav", *args)
    assert_fails(res, 2)
    assert res.stderr.strip()


def test_output_destination_is_required(vibevoice_bin, tiny_model):
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT)
    assert_fails(res, 2, "-o")
