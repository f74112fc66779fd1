"""`vibevoice synth --timestamps FILE.{srt,vtt,json}`: files that real parsers read back (PyPI `srt`,
`webvtt-py`), every word of the text once and in order, times that never go back and cover the audio, for a
sentence, a long text in segments and a script with pauses."""

from __future__ import annotations

import io
import json
import wave

import pytest
import srt
import webvtt
from cli_helpers import assert_fails, synth
from conftest import DATA, need

TEXT = "Hello there. This is a test of the timestamps, with words!\nA new line starts: the last sentence."
SCRIPT = "Speaker 1: Hello and welcome.\nSpeaker 2: Thanks, it is good to be here. Really.\n"


def run(exe, model, tmp_path, fmt, *args):
    out, ts = tmp_path / "a.wav", tmp_path / f"a.{fmt}"
    res = synth(exe, model, "--voice", "synthetic", "--seed", "5", "-o", out, "--timestamps", ts, *args)
    assert res.returncode == 0, res.stderr.decode()
    with wave.open(str(out)) as w:
        return ts.read_text(), w.getnframes() / w.getframerate()


def check_times(spans, duration):
    last = 0.0
    for s in spans:
        assert last - 1e-9 <= s["start"] <= s["end"], spans
        last = s["end"]
    assert spans[0]["start"] == pytest.approx(0, abs=0.2)
    assert spans[-1]["end"] == pytest.approx(duration, abs=1e-3)


@pytest.mark.parametrize("args", [["--ignore-eos", "--max-seconds", "8"], []], ids=["8s", "until-eos"])
def test_json_words_and_sentences(vibevoice_bin, tiny_model, tmp_path, args):
    body, duration = run(vibevoice_bin, tiny_model, tmp_path, "json", "--text", TEXT, *args)
    data = json.loads(body)
    assert [w["text"] for w in data["words"]] == TEXT.split()
    assert [s["text"] for s in data["sentences"]] == [
        "Hello there.", "This is a test of the timestamps, with words!", "A new line starts: the last sentence."]
    check_times(data["words"], duration)
    check_times(data["sentences"], duration)


def test_srt_and_vtt_parse_back(vibevoice_bin, tiny_model, tmp_path):
    body, duration = run(vibevoice_bin, tiny_model, tmp_path, "srt", "--text", TEXT, "--ignore-eos", "--max-seconds", "8")
    subs = list(srt.parse(body))
    assert [s.content for s in subs] == ["Hello there.", "This is a test of the timestamps, with words!",
                                         "A new line starts: the last sentence."]
    assert [s.index for s in subs] == [1, 2, 3]
    assert subs[-1].end.total_seconds() == pytest.approx(duration, abs=1e-3)
    assert all(a.end <= b.start for a, b in zip(subs, subs[1:]))
    body, _ = run(vibevoice_bin, tiny_model, tmp_path, "vtt", "--text", TEXT, "--ignore-eos", "--max-seconds", "8")
    cues = webvtt.from_buffer(io.StringIO(body))
    assert [c.text for c in cues] == [s.content for s in subs]
    assert [c.start for c in cues][0] == "00:00:00.000"


def test_long_text_and_script(vibevoice_bin, tiny_model, tmp_path):
    long_text = need(DATA / "text" / "long_climate_45min.txt")
    body, duration = run(vibevoice_bin, tiny_model, tmp_path, "json", "--text-file", long_text)
    data = json.loads(body)
    assert [w["text"] for w in data["words"]] == long_text.read_text().split()
    check_times(data["words"], duration)
    body, duration = run(vibevoice_bin, tiny_model, tmp_path, "json", "--script", "--pause", "0.5", "--text", SCRIPT)
    data = json.loads(body)
    assert [w["text"] for w in data["words"]] == SCRIPT.replace("Speaker 1:", "").replace("Speaker 2:", "").split()
    check_times(data["words"], duration)


def test_bad_timestamps_target(vibevoice_bin, tiny_model, tmp_path):
    out = tmp_path / "a.wav"
    assert_fails(synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "-o", out, "--timestamps",
                       tmp_path / "a.txt"), 2, ".srt, .vtt or .json")
    assert_fails(synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text", TEXT, "-o", out, "--timestamps",
                       tmp_path / "no" / "a.srt"), 2, "--timestamps")
    assert not out.exists()


def test_speech_api_timestamps_event(vibevoice_bin, tiny_model, tmp_path):
    import httpx
    from server_helpers import running_server

    body, _ = run(vibevoice_bin, tiny_model, tmp_path, "json", "--text", TEXT)
    cli = json.loads(body)
    with running_server(vibevoice_bin, tiny_model) as s:
        r = httpx.post(s.url + "/v1/audio/speech", timeout=120,
                       json={"voice": "synthetic", "input": TEXT, "response_format": "pcm", "seed": 5,
                             "stream_format": "sse", "timestamps": True})
        assert r.status_code == 200, r.text
        events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
        assert [e["type"] for e in events[-2:]] == ["speech.timestamps", "speech.audio.done"]
        assert events[-2]["words"] == cli["words"] and events[-2]["sentences"] == cli["sentences"]
        bad = httpx.post(s.url + "/v1/audio/speech", timeout=60,
                         json={"voice": "synthetic", "input": TEXT, "timestamps": True})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "timestamps"
