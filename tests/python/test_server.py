"""`vibevoice serve` on a loopback ephemeral port with the tiny model, driven by real clients: the official
`openai` SDK for the speech API in every format (decoded by ffmpeg, compared with the CLI's audio), httpx for
streaming, limits, errors and metrics, raw sockets for malformed HTTP."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
import time

import httpx
import numpy as np
import openai
import pytest
from cli_helpers import synth
from server_helpers import metric, running_server, start_server

TEXT = "Hello from the server. This sentence is long enough for several text windows."
LONG = {"ignore_eos": True, "max_seconds": 4}  # 30 frames, whatever the random EOS head says
SPEECH = "/v1/audio/speech"


@pytest.fixture(scope="module")
def server(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "2", "--max-queue", "2") as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)


def cli_pcm(exe, model, text, seed, *extra) -> bytes:
    res = synth(exe, model, "--voice", "synthetic", "--text", text, "--seed", str(seed), "--raw", "-", *extra)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def ffmpeg_decode(data: bytes, suffix: str, tmp_path) -> np.ndarray:
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is required (scripts/setup.sh installs it)")
    path = tmp_path / f"a.{suffix}"
    path.write_bytes(data)
    res = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "24000", "-"],
                         capture_output=True, check=True)
    return np.frombuffer(res.stdout, dtype="<i2")


def best_snr_db(ref: np.ndarray, got: np.ndarray, max_lag: int = 2000) -> float:
    """SNR of `got` against `ref` at the best alignment (lossy encoders add a delay)."""
    ref, got = ref.astype(np.float64), got.astype(np.float64)
    best = -np.inf
    for lag in range(-max_lag, max_lag + 1, 1):
        a, b = ref[max(0, -lag):], got[max(0, lag):]
        n = min(len(a), len(b))
        if n < 0.8 * len(ref):
            continue
        err = np.sum((a[:n] - b[:n]) ** 2)
        best = max(best, 10 * np.log10(np.sum(a[:n] ** 2) / max(err, 1e-9)))
    return best


def test_pcm_wav_flac_equal_the_cli_audio(client, tmp_path, vibevoice_bin, tiny_model):
    ref = cli_pcm(vibevoice_bin, tiny_model, TEXT, 3)
    pcm = client.audio.speech.create(model="vibevoice", voice="synthetic", input=TEXT, response_format="pcm",
                                     extra_body={"seed": 3}).content
    assert len(ref) > 0 and pcm == ref
    wav = client.audio.speech.create(model="vibevoice", voice="synthetic", input=TEXT, response_format="wav",
                                     extra_body={"seed": 3}).content
    assert wav[:4] == b"RIFF" and wav[44:] == ref
    flac = client.audio.speech.create(model="vibevoice", voice="synthetic", input=TEXT, response_format="flac",
                                      extra_body={"seed": 3}).content
    assert flac[:4] == b"fLaC"
    assert np.array_equal(ffmpeg_decode(flac, "flac", tmp_path), np.frombuffer(ref, dtype="<i2"))


def test_normalize_extension_speaks_the_spoken_form(client, vibevoice_bin, tiny_model):
    """"normalize": true reads "$5.50" as words: the audio of the normalized text (same seed)."""
    spoken = cli_pcm(vibevoice_bin, tiny_model, "It costs five dollars fifty cents.", 4)
    raw = cli_pcm(vibevoice_bin, tiny_model, "It costs $5.50.", 4)
    pcm = client.audio.speech.create(model="vibevoice", voice="synthetic", input="It costs $5.50.",
                                     response_format="pcm", extra_body={"seed": 4, "normalize": True}).content
    assert pcm == spoken and pcm != raw


# Waveform SNR of the lossy formats against the PCM, measured on the tiny model's noise-like audio (the
# worst case for perceptual codecs): mp3 7.1 dB, Opus 14.5 dB. Bounds leave ~3 dB; real speech scores higher.
@pytest.mark.parametrize("fmt,magic,min_snr", [("mp3", None, 4.0), ("opus", b"OggS", 11.0)])
def test_lossy_formats_decode_to_the_same_audio(client, tmp_path, fmt, magic, min_snr):
    args = dict(model="vibevoice", voice="synthetic", input=TEXT, extra_body={"seed": 5, **LONG})
    ref = np.frombuffer(client.audio.speech.create(response_format="pcm", **args).content, dtype="<i2")
    assert len(ref) == 30 * 3200
    data = client.audio.speech.create(response_format=fmt, **args).content
    if magic:
        assert data.startswith(magic)
    got = ffmpeg_decode(data, fmt, tmp_path)
    assert abs(len(got) - len(ref)) < 0.1 * len(ref), (len(got), len(ref))
    assert best_snr_db(ref, got) > min_snr


def test_streaming_response_and_sse(client, server):
    args = dict(model="vibevoice", voice="synthetic", input=TEXT, response_format="pcm", extra_body={"seed": 9})
    whole = client.audio.speech.create(**args).content
    with client.audio.speech.with_streaming_response.create(**args) as resp:
        assert resp.headers["content-type"] == "audio/pcm"
        chunks = list(resp.iter_bytes())
    assert b"".join(chunks) == whole
    # SSE: base64 deltas of the same bytes, then a done event.
    body = {"model": "m", "voice": "synthetic", "input": TEXT, "response_format": "pcm", "seed": 9,
            "stream_format": "sse"}
    r = httpx.post(server.url + SPEECH, json=body, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["model"] == "m"
    assert b"".join(base64.b64decode(e["audio"]) for e in events[:-1]) == whole


def test_first_bytes_arrive_before_generation_ends(server):
    body = {"voice": "synthetic", "input": TEXT, "response_format": "pcm", "ignore_eos": True, "max_seconds": 30}
    start = time.monotonic()
    with httpx.stream("POST", server.url + SPEECH, json=body, timeout=120) as r:
        arrivals = [(time.monotonic() - start, len(c)) for c in r.iter_raw()]
    total = arrivals[-1][0]
    assert sum(n for _, n in arrivals) == 225 * 3200 * 2
    assert len(arrivals) > 10 and arrivals[0][0] < 0.5 * total, arrivals[:3]


def test_extra_requests_beyond_streams_and_queue_get_503(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "1", "--max-queue", "1") as s:
        body = {"voice": "synthetic", "input": TEXT, "response_format": "pcm", "seed": 1, **LONG, "max_seconds": 20}
        results: list[httpx.Response] = []
        lock = threading.Lock()

        def post():
            r = httpx.post(s.url + SPEECH, json=body, timeout=120)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=post) for _ in range(3)]  # N + Q + 1
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 200, 503], codes
        busy = next(r for r in results if r.status_code == 503)
        assert busy.headers["retry-after"] == "1" and busy.json()["error"]["code"] == "server_busy"
        ok = [r.content for r in results if r.status_code == 200]
        assert ok[0] == ok[1] and len(ok[0]) == 150 * 3200 * 2


def test_a_disconnected_client_frees_its_slot(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "1", "--max-queue", "0") as s:
        body = json.dumps({"voice": "synthetic", "input": TEXT, "response_format": "pcm", "ignore_eos": True,
                           "max_seconds": 600}).encode()
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # streaming has started
        assert metric(s, "vibevoice_streams_active") == 1
        sock.close()
        deadline = time.monotonic() + 2
        while metric(s, "vibevoice_streams_active") != 0:
            assert time.monotonic() < deadline, "the slot was not freed after the client left"
            time.sleep(0.02)
        r = httpx.post(s.url + SPEECH, json={"voice": "synthetic", "input": "Next.", "response_format": "pcm"},
                       timeout=60)
        assert r.status_code == 200 and len(r.content) > 0


def test_info_routes(server):
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    assert httpx.get(server.url + "/ready").json()["status"] == "ready"
    voices = httpx.get(server.url + "/v1/audio/voices").json()["voices"]
    assert [v["id"] for v in voices] == ["synthetic"] and set(voices[0]) == {"id", "name", "language", "gender"}
    assert httpx.get(server.url + "/v1/models").json()["data"][0]["object"] == "model"
    text = httpx.get(server.url + "/metrics").text
    for name in ("vibevoice_requests_total{", "vibevoice_streams_active", "vibevoice_streams_queued",
                 "vibevoice_first_audio_seconds_bucket", "vibevoice_rtf_bucket", "vibevoice_audio_seconds_total"):
        assert name in text


BAD_BODIES = [
    ("not-json", b"{oops", 400, None),
    ("not-object", b"[1]", 400, None),
    ("number-overflow", b'{"input": "Hi.", "voice": "synthetic", "max_seconds": 1e340}', 400, None),  # fuzz find
    ("no-input", {"voice": "synthetic"}, 400, "input"),
    ("input-not-string", {"voice": "synthetic", "input": 5}, 400, "input"),
    ("empty-input", {"voice": "synthetic", "input": ""}, 400, "input"),
    ("whitespace-input", {"voice": "synthetic", "input": "   "}, 400, "input"),
    ("input-too-long", {"voice": "synthetic", "input": "a" * 4097}, 400, "input"),
    ("no-voice", {"input": "Hi."}, 400, "voice"),
    ("unknown-voice", {"input": "Hi.", "voice": "alloy"}, 400, "voice"),
    ("voice-object-bad", {"input": "Hi.", "voice": {"name": "x"}}, 400, "voice"),
    ("format-unknown", {"input": "Hi.", "voice": "synthetic", "response_format": "ogg"}, 400, "response_format"),
    ("format-aac", {"input": "Hi.", "voice": "synthetic", "response_format": "aac"}, 400, "response_format"),
    ("speed-2", {"input": "Hi.", "voice": "synthetic", "speed": 2.0}, 400, "speed"),
    ("stream-format", {"input": "Hi.", "voice": "synthetic", "stream_format": "ws"}, 400, "stream_format"),
    ("unknown-field", {"input": "Hi.", "voice": "synthetic", "temperature": 1}, 400, "temperature"),
    ("seed-negative", {"input": "Hi.", "voice": "synthetic", "seed": -1}, 400, "seed"),
    ("steps-0", {"input": "Hi.", "voice": "synthetic", "steps": 0}, 400, "steps"),
    ("cfg-negative", {"input": "Hi.", "voice": "synthetic", "cfg_scale": -1}, 400, "cfg_scale"),
    ("script-not-bool", {"input": "A: hi.", "voice": "synthetic", "script": "yes"}, 400, "script"),
    ("normalize-not-bool", {"input": "5 km.", "voice": "synthetic", "normalize": 1}, 400, "normalize"),
    ("voices-without-script", {"input": "A: hi.", "voice": "synthetic", "voices": {"A": "synthetic"}}, 400, "voices"),
    ("voices-not-object", {"input": "A: hi.", "voice": "synthetic", "script": True, "voices": ["A"]}, 400, "voices"),
    ("voices-unknown", {"input": "A: hi.", "voice": "synthetic", "script": True, "voices": {"A": "x"}}, 400, "voice"),
    ("pause-huge", {"input": "A: hi.", "voice": "synthetic", "script": True, "pause": 11}, 400, "pause"),
    ("pause-without-script", {"input": "A: hi.", "voice": "synthetic", "pause": 1}, 400, "pause"),
    ("script-no-speaker", {"input": "Hi.", "voice": "synthetic", "script": True}, 400, "input"),
    ("timestamps-not-bool", {"input": "Hi.", "voice": "synthetic", "stream_format": "sse", "timestamps": 1}, 400,
     "timestamps"),
    ("timestamps-without-sse", {"input": "Hi.", "voice": "synthetic", "timestamps": True}, 400, "timestamps"),
]


@pytest.mark.parametrize("body,code,param", [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_bad_requests_get_openai_errors(server, body, code, param):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = httpx.post(server.url + SPEECH, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == code, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    assert err["param"] == param
    if param == "voice" and "unknown" in err["message"]:
        assert "synthetic" in err["message"]  # the available voices are listed


def test_http_errors_and_the_server_keeps_serving(server):
    assert httpx.get(server.url + "/nope").status_code == 404
    r = httpx.get(server.url + SPEECH)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = httpx.post(server.url + SPEECH, content=b"x" * (1 << 20 | 1), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = httpx.post(server.url + SPEECH, content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)  # a truncated body, then the client goes away
    r = httpx.post(server.url + SPEECH, json={"voice": "synthetic", "input": "Still here.", "response_format": "pcm"})
    assert r.status_code == 200 and len(r.content) > 0


def test_api_key(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--api-key", "sekrit") as s:
        assert httpx.get(s.url + "/v1/audio/voices").status_code == 401
        assert httpx.get(s.url + "/v1/audio/voices", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.get(s.url + "/health").status_code == 200  # probes need no key
        good = openai.OpenAI(base_url=s.url + "/v1", api_key="sekrit", max_retries=0)
        assert len(good.audio.speech.create(model="m", voice="synthetic", input="Hi.", response_format="pcm").content)
        bad = openai.OpenAI(base_url=s.url + "/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.audio.speech.create(model="m", voice="synthetic", input="Hi.")


def test_graceful_shutdown_finishes_running_work(vibevoice_bin, tiny_model):
    s = start_server(vibevoice_bin, tiny_model)
    body = {"voice": "synthetic", "input": TEXT, "response_format": "pcm", "ignore_eos": True, "max_seconds": 10}
    with httpx.stream("POST", s.url + SPEECH, json=body, timeout=60) as r:
        it = r.iter_raw()
        first = next(it)
        code_holder = {}
        stopper = threading.Thread(target=lambda: code_holder.update(result=s.stop()))
        stopper.start()
        data = first + b"".join(it)
    stopper.join()
    code, err = code_holder["result"]
    assert code == 0, err
    assert len(data) == 75 * 3200 * 2  # the running synthesis was allowed to finish
    assert "shutting down" in err
