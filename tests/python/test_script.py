"""`vibevoice synth --script`: each turn of a "Name: text" script is spoken with its speaker's voice and the
seed segment_seed(seed, turn) (re-derived here: SplitMix64), with a pause of silence between turns — the
output equals the turns synthesized one by one with the plain CLI, joined by the pauses."""

from __future__ import annotations

import json

import numpy as np
from cli_helpers import assert_fails, model_copy, synth

SCRIPT = ("Speaker 1: Hello and welcome, it is 12:30.\n"
          "Speaker 2: Thanks for having me.\nThis line is still the second speaker.\n\n"
          "Speaker 1: Goodbye.\n")
TURNS = [("Speaker 1", " Hello and welcome, it is 12:30.\n"),
         ("Speaker 2", " Thanks for having me.\nThis line is still the second speaker.\n\n"),
         ("Speaker 1", " Goodbye.\n")]
MASK = (1 << 64) - 1


def segment_seed(seed: int, index: int) -> int:
    if index == 0:
        return seed
    z = (seed + 0x9E3779B97F4A7C15 * index) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def two_voice_model(tmp_path, tiny_model):
    """The tiny model with a second voice, "other": the synthetic prompt caches scaled by 0.5."""
    model = model_copy(tmp_path, tiny_model)
    src = tiny_model / "voices" / "synthetic"
    dst = model / "voices" / "other"
    dst.mkdir()
    for f in src.glob("*.npy"):
        np.save(dst / f.name, np.load(f) * np.float32(0.5))
    manifest_path = model / "voices" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    other = dict(manifest["voices"][0], name="other", dir="other")
    manifest["voices"].append(other)
    manifest_path.unlink()
    manifest_path.write_text(json.dumps(manifest))
    return model


def raw(res) -> bytes:
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def test_script_turns_use_their_voices_and_seeds(vibevoice_bin, tiny_model, tmp_path):
    model = two_voice_model(tmp_path, tiny_model)
    voices = {"Speaker 1": "synthetic", "Speaker 2": "other"}
    got = raw(synth(vibevoice_bin, model, "--script", "--voice", "Speaker 1=synthetic,Speaker 2=other",
                    "--seed", "3", "--pause", "0.25", "--text", SCRIPT, "--raw", "-"))
    pause = b"\0\0" * 6000
    expected = pause.join(raw(synth(vibevoice_bin, model, "--voice", voices[name], "--seed", str(segment_seed(3, i)),
                                    "--text", text, "--raw", "-"))
                          for i, (name, text) in enumerate(TURNS))
    assert len(got) > 3 * len(pause) and got == expected
    # the second voice is really another voice
    assert raw(synth(vibevoice_bin, model, "--voice", "other", "--text", TURNS[0][1], "--raw", "-")) != \
        raw(synth(vibevoice_bin, model, "--voice", "synthetic", "--text", TURNS[0][1], "--raw", "-"))


def test_one_voice_for_all_and_stdin(vibevoice_bin, tiny_model):
    a = raw(synth(vibevoice_bin, tiny_model, "--script", "--voice", "synthetic", "--text", SCRIPT, "--raw", "-"))
    b = raw(synth(vibevoice_bin, tiny_model, "--script", "--voice", "Speaker 1=synthetic,Speaker 2=synthetic",
                  "--raw", "-", stdin=SCRIPT.encode()))
    assert len(a) > 0 and a == b


def test_script_errors(vibevoice_bin, tiny_model, tmp_path):
    out = tmp_path / "out.wav"
    assert_fails(synth(vibevoice_bin, tiny_model, "--script", "--voice", "Speaker 1=synthetic", "--text", SCRIPT,
                       "-o", out), 2, "no voice for speaker 'Speaker 2'")
    assert_fails(synth(vibevoice_bin, tiny_model, "--script", "--voice", "Speaker 1=synthetic,Speaker 2=nobody",
                       "--text", SCRIPT, "-o", out), 3, "unknown voice 'nobody'")
    assert_fails(synth(vibevoice_bin, tiny_model, "--script", "--voice", "synthetic", "--text", "No speaker here.",
                       "-o", out), 4, "has no speaker")
    assert_fails(synth(vibevoice_bin, tiny_model, "--script", "--voice", "=x", "--text", SCRIPT, "-o", out), 2,
                 "Name=voice")
    assert_fails(synth(vibevoice_bin, tiny_model, "--script", "--voice", "synthetic", "--pause", "11", "--text",
                       SCRIPT, "-o", out), 2, "--pause")
    assert not out.exists()  # validated before anything is written


def test_speech_api_script_extension(vibevoice_bin, tiny_model, tmp_path):
    import httpx
    from server_helpers import running_server

    model = two_voice_model(tmp_path, tiny_model)
    cli = raw(synth(vibevoice_bin, model, "--script", "--voice", "Speaker 1=synthetic,Speaker 2=other", "--seed", "3",
                    "--pause", "0.25", "--text", SCRIPT, "--raw", "-"))
    with running_server(vibevoice_bin, model) as s:
        body = {"input": SCRIPT, "voice": "synthetic", "response_format": "pcm", "seed": 3, "script": True,
                "voices": {"Speaker 2": "other"}, "pause": 0.25}  # Speaker 1 gets "voice"
        r = httpx.post(s.url + "/v1/audio/speech", json=body, timeout=120)
        assert r.status_code == 200, r.text
        assert r.content == cli
        bad = httpx.post(s.url + "/v1/audio/speech", timeout=60,
                         json={"input": SCRIPT, "voice": "synthetic", "voices": {"Speaker 2": "other"}})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "voices"
        bad = httpx.post(s.url + "/v1/audio/speech", timeout=60,
                         json={"input": SCRIPT, "voice": "synthetic", "script": True, "voices": {"A": "nobody"}})
        assert bad.status_code == 400 and "unknown voice 'nobody'" in bad.json()["error"]["message"]
