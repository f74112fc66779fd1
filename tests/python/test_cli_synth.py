"""The C++ `vibevoice synth` / `vibevoice voices` commands on the tiny model: deterministic output, raw PCM
streaming to stdout (bad input: test_cli_bad_input.py; the output-file policy: test_cli_output.py)."""

from __future__ import annotations

import json

from cli_helpers import run, synth

TEXT = "Hello from the command line. This is a test."
FRAME_BYTES = 3200 * 2  # one latent frame of s16le PCM


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
