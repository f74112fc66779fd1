"""WebSocket routes of `vibevoice serve` with the tiny model, driven by the `websockets` client library:
WS /v1/audio/stream (text in as it is written: any split gives the audio of POST /v1/audio/speech on the
whole text, byte for byte), its limits and errors, and the official demo's WS /stream and GET /config."""

from __future__ import annotations

import json
import random
import signal
import threading
import time

import httpx
import numpy as np
import pytest
from server_helpers import metric, running_server
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

TEXT = "Hello from the stream. Größe, café and naïve — text that arrives piece by piece."
VOICE = "synthetic"


@pytest.fixture(scope="module")
def server(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "2") as s:
        yield s


def ws_url(server, path="/v1/audio/stream") -> str:
    return server.url.replace("http://", "ws://") + path


def speech_pcm(server, text: str, **extra) -> bytes:
    r = httpx.post(server.url + "/v1/audio/speech", timeout=120,
                   json={"voice": VOICE, "input": text, "response_format": "pcm", **extra})
    assert r.status_code == 200, r.text
    return r.content


def receive_utterance(ws, timeout: float = 120) -> tuple[bytes, list[dict]]:
    """Reads until audio.done: (the binary audio, the JSON messages)."""
    audio, messages = bytearray(), []
    while True:
        m = ws.recv(timeout=timeout)
        if isinstance(m, bytes):
            audio += m
            continue
        messages.append(json.loads(m))
        if messages[-1]["type"] == "audio.done":
            return bytes(audio), messages


def stream(server, pieces, config=None, delay: float = 0.0) -> tuple[bytes, list[dict]]:
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, **(config or {})}))
        for p in pieces:
            ws.send(json.dumps({"type": "input.text", "text": p}))
            if delay:
                time.sleep(delay)
        ws.send(json.dumps({"type": "input.done"}))
        return receive_utterance(ws)


def words(text: str) -> list[str]:
    """The text in word pieces, each with its following space."""
    parts = text.split(" ")
    return [w + " " for w in parts[:-1]] + [parts[-1]]


def random_pieces(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), 12))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def of_type(messages, kind):
    return [m for m in messages if m["type"] == kind]


@pytest.mark.parametrize("split", ["whole", "words", "characters", "random_with_delays"])
def test_any_split_gives_the_speech_api_audio(server, split):
    ref = speech_pcm(server, TEXT, seed=5)
    pieces = {"whole": [TEXT], "words": words(TEXT),
              "characters": list(TEXT), "random_with_delays": random_pieces(TEXT, random.Random(1))}[split]
    assert "".join(pieces) == TEXT
    audio, messages = stream(server, pieces, {"seed": 5}, delay=0.01 if split == "random_with_delays" else 0)
    assert len(ref) > 0 and audio == ref
    start, done = messages[0], messages[-1]
    assert start == {"type": "audio.start", "sample_rate": 24000, "format": "pcm16", "voice": VOICE}
    assert done["frames"] * 3200 * 2 == len(ref) and done["stop_reason"] == "eos"
    assert done["audio_s"] == pytest.approx(len(ref) / 2 / 24000) and done["first_audio_ms"] > 0 and done["rtf"] > 0
    assert not of_type(messages, "error")


def test_alignment_in_code_points_covers_the_text(server):
    audio, messages = stream(server, [TEXT], {"seed": 2})
    spans = of_type(messages, "alignment")
    assert sum(s["frame_count"] for s in spans) * 3200 * 2 == len(audio)
    firsts = [s["first_frame"] for s in spans]
    assert firsts == [sum(s["frame_count"] for s in spans[:i]) for i in range(len(spans))]  # contiguous, in order
    assert spans[0]["frame_count"] == 1  # the adaptive schedule starts with one frame
    for s in spans:
        assert 0 <= s["text_begin"] <= s["text_end"] <= len(TEXT)  # code points (bytes would run past)
        assert s["start_s"] == pytest.approx(s["first_frame"] * 3200 / 24000)
        assert s["end_s"] == pytest.approx((s["first_frame"] + s["frame_count"]) * 3200 / 24000)
    ends = [s["text_end"] for s in spans]
    assert ends == sorted(ends) and ends[-1] == len(TEXT)  # the highlight reaches the last character
    assert len(TEXT.encode()) > len(TEXT)  # the text has multi-byte characters, so this tells the units apart


def test_f32_format_is_the_unconverted_audio(server):
    pcm, _ = stream(server, [TEXT], {"seed": 4})
    f32, messages = stream(server, [TEXT], {"seed": 4, "format": "f32"})
    assert messages[0]["format"] == "f32"
    x = np.frombuffer(f32, dtype="<f4")
    assert len(x) * 2 == len(pcm)
    expected = np.round(np.clip(x.astype(np.float64), -1, 1) * 32767).astype("<i2")
    assert np.array_equal(expected, np.frombuffer(pcm, dtype="<i2"))


def test_several_utterances_on_one_connection(server):
    first, second = "The first utterance.", "And a second one, with another seed."
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, "seed": 1}))
        ws.send(json.dumps({"type": "input.text", "text": first}))
        ws.send(json.dumps({"type": "input.done"}))
        a, _ = receive_utterance(ws)
        ws.send(json.dumps({"type": "session.config", "seed": 9}))  # applies to the next utterance
        ws.send(json.dumps({"type": "input.text", "text": second}))
        ws.send(json.dumps({"type": "input.done"}))
        b, _ = receive_utterance(ws)
        ws.send(json.dumps({"type": "input.text", "text": first}))  # config kept: seed 9
        ws.send(json.dumps({"type": "input.done"}))
        c, _ = receive_utterance(ws)
    assert a == speech_pcm(server, first, seed=1)
    assert b == speech_pcm(server, second, seed=9)
    assert c == speech_pcm(server, first, seed=9) and c != a


def test_underrun_while_waiting_for_text(server):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE}))
        ws.send(json.dumps({"type": "input.text", "text": "Only the first words"}))
        m = json.loads(ws.recv(timeout=60))
        assert m["type"] == "audio.start"
        while (m := ws.recv(timeout=60)) and (isinstance(m, bytes) or json.loads(m)["type"] != "underrun"):
            pass
        assert json.loads(m)["frame"] >= 0
        ws.send(json.dumps({"type": "input.text", "text": " and the rest."}))
        ws.send(json.dumps({"type": "input.done"}))
        _, messages = receive_utterance(ws)
        assert messages[-1]["stop_reason"] == "eos"


def test_cancel_ends_the_utterance(server):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, "ignore_eos": True, "max_seconds": 600}))
        ws.send(json.dumps({"type": "input.text", "text": TEXT}))
        ws.send(json.dumps({"type": "input.done"}))
        while not isinstance(ws.recv(timeout=60), bytes):
            pass
        ws.send(json.dumps({"type": "cancel"}))
        audio, messages = receive_utterance(ws)
        done = messages[-1]
        assert done["stop_reason"] == "cancelled" and done["frames"] < 600 * 24000 / 3200 / 10
        # the connection goes on
        ws.send(json.dumps({"type": "session.config", "ignore_eos": False}))
        ws.send(json.dumps({"type": "input.text", "text": "Next."}))
        ws.send(json.dumps({"type": "input.done"}))
        assert receive_utterance(ws)[1][-1]["stop_reason"] == "eos"


def test_a_closed_socket_cancels_and_frees_the_slot(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "1") as s:
        with connect(ws_url(s)) as ws:
            ws.send(json.dumps({"type": "session.config", "voice": VOICE, "ignore_eos": True, "max_seconds": 600}))
            ws.send(json.dumps({"type": "input.text", "text": TEXT}))
            while not isinstance(ws.recv(timeout=60), bytes):
                pass
            assert metric(s, "vibevoice_streams_active") == 1
        deadline = time.monotonic() + 2
        while metric(s, "vibevoice_streams_active") != 0:
            assert time.monotonic() < deadline, "the slot was not freed after the client left"
            time.sleep(0.02)
        audio, _ = stream(s, ["Next."])
        assert len(audio) > 0


def expect_error(ws, code: str) -> dict:
    while True:
        m = ws.recv(timeout=60)
        if isinstance(m, str) and (msg := json.loads(m))["type"] == "error":
            assert msg["code"] == code, msg
            assert msg["message"]
            return msg


def expect_close(ws, code: int, reason: str | None = None):
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=60)
    assert ws.close_code == code, (ws.close_code, ws.close_reason)
    if reason is not None:
        assert ws.close_reason == reason


@pytest.mark.parametrize("message,code,close", [
    ("not json", "bad_message", 1008),
    ('["a list"]', "bad_message", 1008),
    ('{"type": "speak"}', "bad_message", 1008),
    (b"\x00\x01binary", "unsupported_data", 1003),
])
def test_bad_messages_close_the_connection(server, message, code, close):
    with connect(ws_url(server)) as ws:
        ws.send(message)
        expect_error(ws, code)
        expect_close(ws, close)


@pytest.mark.parametrize("config,fragment", [
    ({"steps": 99}, "'steps' must be a whole number in 1..50"),
    ({"voice": "nobody"}, "unknown voice 'nobody'"),
    ({"cfg_scale": "high"}, "'cfg_scale' must be a number"),
    ({"format": "mp3"}, "'format' must be"),
])
def test_invalid_config_is_an_error_and_the_connection_goes_on(server, config, fragment):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", **config}))
        assert fragment in expect_error(ws, "invalid_config")["message"]
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, "seed": 3}))
        ws.send(json.dumps({"type": "input.text", "text": "Still here."}))
        ws.send(json.dumps({"type": "input.done"}))
        assert receive_utterance(ws)[0] == speech_pcm(server, "Still here.", seed=3)


def test_protocol_order_errors(server):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "input.done"}))
        expect_error(ws, "input")
        ws.send(json.dumps({"type": "input.text", "text": "Some words."}))
        ws.send(json.dumps({"type": "session.config", "seed": 1}))
        expect_error(ws, "invalid_state")
        ws.send(json.dumps({"type": "input.done"}))
        ws.send(json.dumps({"type": "input.text", "text": "late"}))
        audio, messages = receive_utterance(ws)
        errors = of_type(messages, "error")
        assert [e["code"] for e in errors] == ["text_after_done"]
        assert audio == speech_pcm(server, "Some words.")  # neither the late text nor the config counted


def test_text_errors_end_the_utterance(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-input-chars", "20") as s, connect(ws_url(s)) as ws:
        ws.send(json.dumps({"type": "input.text", "text": "a" * 15}))
        ws.send(json.dumps({"type": "input.text", "text": "b" * 10}))
        _, messages = receive_utterance(ws)
        assert "25 characters; the limit is 20" in of_type(messages, "error")[0]["message"]
        assert messages[-1]["stop_reason"] == "error"
        ws.send(json.dumps({"type": "input.text", "text": "c" * 5}))  # still the failed utterance's text:
        ws.send(json.dumps({"type": "input.done"}))                   # dropped, up to its input.done
        ws.send(json.dumps({"type": "input.text", "text": "   "}))
        ws.send(json.dumps({"type": "input.done"}))  # empty after preparation
        _, messages = receive_utterance(ws)
        assert of_type(messages, "error")[0]["code"] == "input" and messages[-1]["stop_reason"] == "error"


def test_text_after_an_early_end_is_dropped_until_input_done(server):
    """An utterance that ends by itself (here max_seconds; EOS alike) before the client's input.done: the
    text still on its way belongs to it and is dropped; the next utterance starts after that input.done."""
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, "max_seconds": 0.5, "seed": 2}))
        ws.send(json.dumps({"type": "input.text", "text": TEXT}))
        _, messages = receive_utterance(ws)
        assert messages[-1]["stop_reason"] == "max_frames" and messages[-1]["frames"] == 4
        ws.send(json.dumps({"type": "input.text", "text": " more of the same utterance"}))
        ws.send(json.dumps({"type": "input.done"}))
        ws.send(json.dumps({"type": "session.config", "max_seconds": 3600}))
        ws.send(json.dumps({"type": "input.text", "text": "A new one."}))
        ws.send(json.dumps({"type": "input.done"}))
        audio, messages = receive_utterance(ws)
        assert not of_type(messages, "error")
        assert audio == speech_pcm(server, "A new one.", seed=2)


def test_no_audio_reports_null_latency(server):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "session.config", "voice": VOICE, "ignore_eos": True, "max_seconds": 600}))
        ws.send(json.dumps({"type": "input.text", "text": "Cancelled before"}))
        ws.send(json.dumps({"type": "cancel"}))
        done = receive_utterance(ws)[1][-1]
        assert done["stop_reason"] == "cancelled"
        if done["frames"] == 0:
            assert done["first_audio_ms"] is None and done["rtf"] is None
        else:
            assert done["first_audio_ms"] > 0 and done["rtf"] > 0


def test_message_size_limit(server):
    with connect(ws_url(server)) as ws:
        ws.send(json.dumps({"type": "input.text", "text": "x" * (65 << 10)}))
        expect_close(ws, 1009)


def test_no_free_stream_is_1013(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--max-streams", "1") as s, connect(ws_url(s)) as busy:
        busy.send(json.dumps({"type": "session.config", "voice": VOICE, "ignore_eos": True, "max_seconds": 600}))
        busy.send(json.dumps({"type": "input.text", "text": TEXT}))
        assert json.loads(busy.recv(timeout=60))["type"] == "audio.start"
        with connect(ws_url(s)) as ws:
            ws.send(json.dumps({"type": "input.text", "text": "Me too."}))
            expect_close(ws, 1013, "Service busy")
        with connect(ws_url(s, "/stream?text=Me+too.")) as demo:
            assert json.loads(demo.recv(timeout=60))["event"] == "backend_busy"
            expect_close(demo, 1013, "Service busy")


def test_plain_http_and_api_key(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model, "--api-key", "k3y") as s:
        r = httpx.get(s.url + "/v1/audio/stream", headers={"Authorization": "Bearer k3y"})
        assert r.status_code == 426 and r.headers["upgrade"] == "websocket"
        with pytest.raises(InvalidStatus) as e:
            connect(ws_url(s))
        assert e.value.response.status_code == 401
        for kwargs, url in [({"additional_headers": {"Authorization": "Bearer k3y"}}, ws_url(s)),
                            ({}, ws_url(s) + "?api_key=k3y")]:
            with connect(url, **kwargs) as ws:
                ws.send(json.dumps({"type": "input.text", "text": "Hi."}))
                ws.send(json.dumps({"type": "input.done"}))
                assert receive_utterance(ws)[1][-1]["type"] == "audio.done"


def test_shutdown_closes_idle_sockets_with_1001(vibevoice_bin, tiny_model):
    with running_server(vibevoice_bin, tiny_model) as s, connect(ws_url(s)) as ws:
        s.proc.send_signal(signal.SIGTERM)
        expect_close(ws, 1001)


# ---- the official demo's protocol -------------------------------------------------------------------


def demo_session(server, query: str) -> tuple[bytes, list[bytes], list[dict], int]:
    chunks, logs = [], []
    with connect(ws_url(server, "/stream?" + query)) as ws:
        with pytest.raises(ConnectionClosed):
            while True:
                m = ws.recv(timeout=60)
                (chunks if isinstance(m, bytes) else logs).append(m if isinstance(m, bytes) else json.loads(m))
        return b"".join(chunks), chunks, logs, ws.close_code


def official_pcm16(chunk: np.ndarray) -> bytes:
    """demo/web/app.py: divide by the peak above 1, clip, x 32767, truncate to int16."""
    peak = np.max(np.abs(chunk)) if chunk.size else 0.0
    if peak > 1.0:
        chunk = chunk / peak
    return (np.clip(chunk, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()


def test_demo_stream_matches_the_official_conversion(server):
    text = "Hello from the official demo."
    audio, chunks, logs, code = demo_session(server, "text=Hello+from+the+official%20demo.&cfg=1.5&steps=5")
    f32, _ = stream(server, [text], {"format": "f32", "cfg_scale": 1.5, "steps": 5, "seed": 0})
    x = np.frombuffer(f32, dtype="<f4")
    assert [len(c) for c in chunks] == [3200 * 2] * (len(x) // 3200)
    assert audio == b"".join(official_pcm16(x[i:i + 3200]) for i in range(0, len(x), 3200))
    assert code == 1000
    events = [m["event"] for m in logs]
    assert events[0] == "backend_request_received" and events[-1] == "backend_stream_complete"
    assert events.count("model_progress") == len(chunks) and events.count("backend_first_chunk_sent") == 1
    assert logs[0]["data"] == {"text_length": len(text), "cfg_scale": 1.5, "inference_steps": 5, "voice": None}
    progress = [m["data"] for m in logs if m["event"] == "model_progress"]
    assert progress[-1]["generated_sec"] == pytest.approx(len(x) / 24000)
    assert all(p["chunk_sec"] == pytest.approx(3200 / 24000) for p in progress)
    assert all(m["type"] == "log" and len(m["timestamp"]) == 23 for m in logs)


def test_demo_defaults_like_the_official_server(server):
    """cfg <= 0 is 1.5, steps <= 0 the model's default, an unknown voice the default voice."""
    default, _, logs, _ = demo_session(server, "text=Defaults.&cfg=-2&steps=0&voice=nobody")
    assert logs[0]["data"] == {"text_length": 9, "cfg_scale": 1.5, "inference_steps": None, "voice": "nobody"}
    explicit, _, _, _ = demo_session(server, "text=Defaults.&cfg=1.5&voice=" + VOICE)
    assert default == explicit and len(default) > 0


def test_demo_error_is_logged(server):
    _, chunks, logs, code = demo_session(server, "text=%20%20")  # empty after preparation
    assert not chunks and code == 1000
    assert [m["event"] for m in logs] == ["backend_request_received", "backend_error", "backend_stream_complete"]
    assert "empty" in logs[1]["data"]["message"]


def test_demo_refused_options_are_logged(server):
    _, chunks, logs, code = demo_session(server, "text=Hello.&steps=99")  # the engine takes 1..50
    assert not chunks and code == 1000
    assert [m["event"] for m in logs] == ["backend_request_received", "backend_error", "backend_stream_complete"]
    assert logs[0]["data"]["inference_steps"] == 99 and "steps" in logs[1]["data"]["message"]


def test_config_route(server):
    assert httpx.get(server.url + "/config").json() == {"voices": [VOICE], "default_voice": VOICE}


def test_concurrent_streams_are_independent(server):
    """Two connections at once (the server allows 2) each get their own text's audio."""
    texts, results = ["One voice, one text.", "Another text, at the same time."], {}

    def run(t):
        results[t] = stream(server, words(t), {"seed": 7}, delay=0.005)[0]

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for t in texts:
        assert results[t] == speech_pcm(server, t, seed=7)
