"""Texts of any length: the 45-minute podcast script of ../shared (12.5k tokens, beyond one utterance's
8192 positions, refused before) is spoken in segments by the CLI (from a file and streamed from stdin) and
the server, with the same audio, and the CLI's peak memory does not grow with the length of the audio."""

from __future__ import annotations

import os
import subprocess
import wave

import httpx
from conftest import DATA, need
from server_helpers import running_server

LONG = DATA / "text" / "long_climate_45min.txt"


def peak_rss_mb(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Runs `cmd`; returns its own peak RSS (wait4's rusage of this child) and its result."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_long_script_is_spoken_by_the_cli_and_the_server(vibevoice_bin, tiny_model, tmp_path):
    text = need(LONG).read_text()
    wav = tmp_path / "long.wav"
    res = subprocess.run([str(vibevoice_bin), "synth", "--model", str(tiny_model), "--voice", "synthetic",
                          "--threads", "1", "--quiet", "--seed", "4", "--text-file", str(LONG), "-o", str(wav)],
                         capture_output=True, timeout=600)
    assert res.returncode == 0, res.stderr.decode()
    with wave.open(str(wav)) as w:
        frames = w.getnframes()
        pcm = w.readframes(frames)
    assert frames > 0 and frames % 3200 == 0
    # stdin is read as it arrives (a Stream): the segments are decided on the way, the audio is the same
    piped = subprocess.run([str(vibevoice_bin), "synth", "--model", str(tiny_model), "--voice", "synthetic",
                            "--threads", "1", "--quiet", "--seed", "4", "--raw", "-"],
                           input=LONG.read_bytes(), capture_output=True, timeout=600)
    assert piped.returncode == 0, piped.stderr.decode()
    assert piped.stdout == pcm
    with running_server(vibevoice_bin, tiny_model, "--max-input-chars", "100000") as s:
        r = httpx.post(s.url + "/v1/audio/speech", timeout=600,
                       json={"voice": "synthetic", "input": text, "response_format": "pcm", "seed": 4})
    assert r.status_code == 200, r.text
    assert r.content == pcm


def test_long_script_with_four_speakers(vibevoice_bin, tiny_model, tmp_path):
    """The same file is a podcast script ("Speaker 1:" .. "Speaker 4:"): --script speaks it turn by turn."""
    need(LONG)
    voices = ",".join(f"Speaker {i}=synthetic" for i in range(1, 5))
    res = subprocess.run([str(vibevoice_bin), "synth", "--model", str(tiny_model), "--threads", "1", "--quiet",
                          "--script", "--voice", voices, "--text-file", str(LONG), "-o", str(tmp_path / "p.wav")],
                         capture_output=True, timeout=600)
    assert res.returncode == 0, res.stderr.decode()
    with wave.open(str(tmp_path / "p.wav")) as w:
        assert w.getnframes() > 0


def test_cli_memory_does_not_grow_with_the_audio(vibevoice_bin, tiny_model, tmp_path):
    """10 minutes of audio (4500 frames; 58 MB of float samples if they were kept) against 10 seconds."""
    need(LONG)
    base = [str(vibevoice_bin), "synth", "--model", str(tiny_model), "--voice", "synthetic", "--threads", "1",
            "--quiet", "--ignore-eos", "--text-file", str(LONG), "-o"]
    short_mb, short = peak_rss_mb([*base, str(tmp_path / "s.wav"), "--max-seconds", "10"])
    long_mb, long = peak_rss_mb([*base, str(tmp_path / "l.wav"), "--max-seconds", "600"])
    assert short.returncode == 0 and long.returncode == 0, (short.stderr, long.stderr)
    assert (tmp_path / "l.wav").stat().st_size == 44 + 4500 * 3200 * 2
    assert long_mb < short_mb + 20, f"peak RSS {long_mb:.0f} MB for 600 s vs {short_mb:.0f} MB for 10 s"
