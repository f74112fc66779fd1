"""The output-file policy of `vibevoice synth -o` (README "Output files"): the target is replaced only by a
complete WAV, atomically, through a temporary file beside it; an interruption (SIGINT/SIGTERM) or an error
after audio started publishes a valid WAV of the audio produced so far with an exit code that says what
happened; special files are written in place, never replaced."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run, synth

TEXT = "Hello from the command line. This is a test of the output policy."
HOP = 3200  # samples per latent frame of the model
LONG = ("--ignore-eos", "--max-seconds", "60", "--seed", "7")  # ~450 frames unless interrupted


def wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:  # the stdlib parser: an independent check of the header
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        data = w.readframes(w.getnframes())
    assert path.stat().st_size == 44 + len(data), "header sizes do not match the file"
    return np.frombuffer(data, dtype="<i2")


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part-*"))


def start(exe, model, out, *args, stdin=subprocess.DEVNULL):
    cmd = [str(exe), "synth", "--model", str(model), "--threads", "1", "--quiet", "--voice", "synthetic",
           "-o", str(out), *map(str, args)]
    return subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_audio(folder: Path, proc: subprocess.Popen, min_bytes: int = 44 + 2 * 2 * HOP) -> None:
    """Until the temporary file holds at least two frames (audio started, the target not yet replaced)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = temp_files(folder)
        if parts and parts[0].stat().st_size >= min_bytes:
            return
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.01)
    raise AssertionError("no audio appeared in a temporary file")


def test_success_replaces_the_target_atomically_and_keeps_its_mode(tmp_path, vibevoice_bin, tiny_model):
    out = tmp_path / "speech.wav"
    out.write_bytes(b"old content")
    out.chmod(0o640)
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--max-seconds", "1",
                "-o", out)
    assert res.returncode == 0, res.stderr.decode()
    assert len(wav_samples(out)) == 8 * HOP  # ceil(1 s * 7.5 frames/s)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert temp_files(tmp_path) == []


def test_a_symlinked_target_keeps_its_link(tmp_path, vibevoice_bin, tiny_model):
    real = tmp_path / "real.wav"
    real.write_bytes(b"old")
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--max-seconds", "1",
                "-o", link)
    assert res.returncode == 0, res.stderr.decode()
    assert link.is_symlink() and len(wav_samples(real)) == 8 * HOP


def test_a_special_file_is_written_in_place(tmp_path, vibevoice_bin, tiny_model):
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--max-seconds", "1",
                "-o", "/dev/null")
    assert res.returncode == 0, res.stderr.decode()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null must never be replaced"


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_publishes_the_audio_so_far(tmp_path, vibevoice_bin, tiny_model, sig, code):
    out = tmp_path / "speech.wav"
    out.write_bytes(b"old content")
    proc = start(vibevoice_bin, tiny_model, out, "--text", TEXT, *LONG)
    wait_for_audio(tmp_path, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()
    assert b"interrupted" in err
    got = wav_samples(out)
    assert 2 * HOP <= len(got) < 450 * HOP and len(got) % HOP == 0
    assert temp_files(tmp_path) == []
    # The published audio is exactly the beginning of the uninterrupted run (same seed).
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, *LONG, "--raw", "-")
    assert res.returncode == 0, res.stderr.decode()
    full = np.frombuffer(res.stdout, dtype="<i2")
    assert len(full) > len(got) and np.array_equal(full[: len(got)], got)


def test_an_error_after_audio_started_publishes_it_with_the_error_code(tmp_path, vibevoice_bin, tiny_model):
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).standard_normal((5, 64)).astype(np.float32))  # 5 frames only
    out = tmp_path / "speech.wav"
    out.write_bytes(b"old content")
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "--ignore-eos",
                "--max-seconds", "3", "--noise", noise, "-o", out)
    assert res.returncode == 4, res.stderr.decode()
    assert b"noise" in res.stderr and b"written to" in res.stderr
    assert len(wav_samples(out)) == 5 * HOP
    assert temp_files(tmp_path) == []


def test_bad_stdin_after_audio_started_keeps_the_audio(tmp_path, vibevoice_bin, tiny_model):
    out = tmp_path / "speech.wav"
    proc = start(vibevoice_bin, tiny_model, out, "--ignore-eos", stdin=subprocess.PIPE)
    # Several text windows of good text: speech starts while stdin is still open.
    proc.stdin.write(b"One two three four five six seven eight nine ten eleven twelve. " * 4)
    proc.stdin.flush()
    wait_for_audio(tmp_path, proc)
    proc.stdin.write(b"then garbage \xff\xfe")
    proc.stdin.close()
    proc.stdin = None  # closed by hand: communicate() must not flush it
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err.decode()
    assert b"invalid UTF-8" in err
    assert len(wav_samples(out)) >= 2 * HOP
    assert temp_files(tmp_path) == []


def test_help_states_the_output_policy(vibevoice_bin):
    res = run(vibevoice_bin, "synth", "--help")
    assert res.returncode == 0
    text = res.stdout.decode()
    assert "temporary file beside the target" in text and "130 SIGINT" in text
