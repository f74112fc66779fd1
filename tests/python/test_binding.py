"""The Python binding (bindings/python, ctypes over the C API) on the dev build's libvibevoice.so and the
tiny model: loading, voices, synthesis equal to the CLI's audio, streaming equal to whole-text synthesis
(split text, a producer thread), cancel from another thread, the GIL released during generation, the
status-to-exception mapping, and `pip install bindings/python` into a fresh virtual environment.

The package is imported from bindings/python/src (no install needed); the library is the one in the dev
build (build/dev, or VV_BUILD_DIR). Under CI=true a missing library fails, locally the tests skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import synth
from conftest import BUILD, ROOT, missing

PKG = ROOT / "bindings" / "python"
sys.path.insert(0, str(PKG / "src"))
import vibevoice  # noqa: E402

VOICE = "synthetic"
TEXT = "Hello from Python. This is a test of the binding."
LIB = BUILD / "libvibevoice.so"



@pytest.fixture(scope="module")
def lib_path() -> Path:
    if not LIB.exists():
        missing(f"libvibevoice.so not built: {LIB} (run scripts/test.sh or cmake --build --preset dev)")
    vibevoice.load_library(LIB)
    return LIB


@pytest.fixture(scope="module")
def engine(lib_path, tiny_model):
    with vibevoice.Engine(tiny_model, threads=1) as e:
        yield e


def pcm16(x: np.ndarray) -> bytes:
    """The CLI's float -> s16le conversion (src/audio/wav.cpp): clamp, round half away from zero, NaN -> 0."""
    y = np.clip(np.nan_to_num(x.astype(np.float64), nan=0.0), -1.0, 1.0) * 32767.0
    return np.where(y >= 0, np.floor(y + 0.5), np.ceil(y - 0.5)).astype("<i2").tobytes()


def _header_version() -> str:
    return re.search(r'#define VV_VERSION "([^"]+)"', (ROOT / "include/vibevoice/vibevoice.h").read_text()).group(1)


def test_version_matches_header_and_library(lib_path):
    assert vibevoice.__version__ == _header_version() == vibevoice.library_version()


def test_load_and_voices(engine, vibevoice_bin, tiny_model):
    assert engine.sample_rate == 24000 and engine.samples_per_frame == 3200
    cli = json.loads(subprocess.run([str(vibevoice_bin), "voices", "--model", str(tiny_model), "--json"],
                                    capture_output=True, check=True, timeout=120).stdout)["voices"]
    assert [(v.name, v.language, v.gender, v.lm_len, v.tts_len) for v in engine.voices] == \
        [(v["name"], v["language"], v["gender"], v["lm_len"], v["tts_len"]) for v in cli]
    assert engine.voice_names == [VOICE]


@pytest.mark.parametrize("opts, cli_args", [
    ({"seed": 3}, ["--seed", "3"]),
    ({"seed": 7, "steps": 3, "cfg_scale": 2.0, "chunk_frames": 2, "ignore_eos": True, "max_seconds": 1.2},
     ["--seed", "7", "--steps", "3", "--cfg", "2", "--chunk", "2", "--ignore-eos", "--max-seconds", "1.2"]),
])
def test_synthesize_equals_cli(engine, vibevoice_bin, tiny_model, opts, cli_args):
    audio = engine.synthesize_audio(TEXT, voice=VOICE, **opts)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1 and audio.samples.size > 0
    assert audio.samples.size == audio.frames * engine.samples_per_frame
    assert audio.latents.shape == (audio.frames, 64)
    if "max_seconds" in opts:
        assert audio.frames == 9 and audio.stop_reason == vibevoice.StopReason.MAX_FRAMES
    res = synth(vibevoice_bin, tiny_model, "--voice", VOICE, "--text", TEXT, "--raw", "-", *cli_args)
    assert res.returncode == 0, res.stderr.decode()
    assert pcm16(audio.samples) == res.stdout
    assert np.array_equal(engine.synthesize(TEXT, voice=VOICE, **opts), audio.samples)


def test_stream_of_pieces_equals_synthesize(engine):
    text = "Crème brûlée, s'il vous plaît. Then a second sentence."
    whole = engine.synthesize(text, voice=VOICE, seed=5)
    data = text.encode()
    cut = data.index("è".encode()) + 1  # inside the two-byte sequence
    pieces = [data[:cut], data[cut:20], data[20:21], data[21:]]
    with engine.stream(voice=VOICE, seed=5) as stream:
        for p in pieces:
            stream.push_text(p)
        stream.finish()
        chunks = list(stream)
        assert stream.stop_reason == vibevoice.StopReason.EOS
        assert list(stream) == []  # after the end the iteration stays ended
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), whole)
    assert all(isinstance(c, vibevoice.Chunk) and c.samples.dtype == np.float32 for c in chunks)
    assert [c.first_frame for c in chunks] == list(np.cumsum([0] + [c.frame_count for c in chunks[:-1]]))
    assert all(0 <= c.text_begin <= c.text_end <= len(data) for c in chunks)
    assert chunks[-1].text_end > 0


def test_events_expose_underruns(engine):
    with engine.stream(voice=VOICE, seed=1) as stream:
        stream.push_text("Hello")
        kinds = []
        for ev in stream.events():
            kinds.append(type(ev).__name__)
            if isinstance(ev, vibevoice.Underrun):  # waits for text: give it the rest
                if stream.underruns == 1:
                    stream.push_text(" there, this is the rest.")
                    stream.finish()
        assert "Underrun" in kinds and stream.underruns == kinds.count("Underrun")
        assert stream.stop_reason is not None
    whole = engine.synthesize("Hello there, this is the rest.", voice=VOICE, seed=1)
    with engine.stream(voice=VOICE, seed=1) as stream:
        stream.push_text("Hello")
        out = []
        for ev in stream.events():
            if isinstance(ev, vibevoice.Underrun) and stream.underruns == 1:
                stream.push_text(" there, this is the rest.")
                stream.finish()
            elif isinstance(ev, vibevoice.Chunk):
                out.append(ev.samples)
    assert np.array_equal(np.concatenate(out), whole)


def test_producer_thread_and_consumer_iteration(engine):
    words = TEXT.split(" ")
    whole = engine.synthesize(TEXT, voice=VOICE, seed=2)
    with engine.stream(voice=VOICE, seed=2) as stream:
        def produce():
            for i, w in enumerate(words):
                stream.push_text(w if i == 0 else " " + w)
                time.sleep(0.01)
            stream.finish()
        t = threading.Thread(target=produce)
        t.start()
        got = np.concatenate([c.samples for c in stream])
        t.join(timeout=60)
        assert stream.stop_reason == vibevoice.StopReason.EOS
    assert np.array_equal(got, whole)


def test_cancel_from_another_thread(engine):
    with engine.stream(voice=VOICE, ignore_eos=True) as stream:  # would run to the model's length limit
        stream.push_text(TEXT)
        stream.finish()
        it = iter(stream)
        first = next(it)
        assert first.frame_count > 0
        t0 = time.monotonic()
        threading.Timer(0.2, stream.cancel).start()  # while this thread is blocked in the iteration
        frames = sum(c.frame_count for c in it)
        assert stream.stop_reason == vibevoice.StopReason.CANCELLED
        assert time.monotonic() - t0 < 30
        assert stream.wait() == vibevoice.StopReason.CANCELLED
        with pytest.raises(vibevoice.UsageError):
            stream.push_text("more")  # after cancel
    assert frames >= 0 and stream.closed
    stream.cancel()  # no-op once closed


def test_close_cancels_a_running_stream(engine):
    stream = engine.stream(voice=VOICE, ignore_eos=True)
    stream.push_text(TEXT)
    assert next(iter(stream)).frame_count > 0
    stream.close()
    with pytest.raises(vibevoice.UsageError, match="closed"):
        stream.finish()


def test_generation_runs_without_the_gil(engine):
    count, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = count[0]
        t0 = time.monotonic()
        engine.synthesize(TEXT, voice=VOICE, ignore_eos=True, max_seconds=6)
        elapsed, during = time.monotonic() - t0, count[0] - before
    finally:
        stop.set()
        t.join()
    # with the GIL held for the whole call the other thread could not count at all
    assert elapsed > 0.01 and during > 1000, (elapsed, during)


def test_errors_carry_status_and_message(engine, lib_path, tiny_model, tmp_path):
    with pytest.raises(vibevoice.ModelError) as e:
        engine.synthesize(TEXT, voice="nobody")
    assert e.value.status == vibevoice.Status.MODEL and e.value.status.name == "MODEL" and e.value.status == 3
    assert "nobody" in e.value.message and VOICE in e.value.message  # lists the voices
    with pytest.raises(vibevoice.UsageError) as e:
        engine.synthesize(TEXT, voice=VOICE, steps=99)
    assert e.value.status == vibevoice.Status.USAGE and "steps" in e.value.message
    for bad in (b"\xff\xfe", ""):
        with pytest.raises(vibevoice.InputError) as e:
            engine.synthesize(bad, voice=VOICE)
        assert e.value.status == vibevoice.Status.INPUT and e.value.message
    with engine.stream(voice=VOICE) as stream:
        with pytest.raises(vibevoice.InputError):
            stream.push_text(b"\xc3\x28")
    with engine.stream(voice=VOICE) as stream:
        stream.push_text("Hi.")
        stream.finish()
        with pytest.raises(vibevoice.UsageError):
            stream.push_text("late")
    with pytest.raises(vibevoice.UsageError):
        engine.synthesize(TEXT, voice=VOICE, seed=-1)
    with pytest.raises(vibevoice.UsageError):
        engine.synthesize(TEXT, voice=VOICE, max_seconds=0)
    with pytest.raises(vibevoice.ModelError) as e:
        vibevoice.Engine(tmp_path / "no-model")
    assert e.value.message and isinstance(e.value, vibevoice.VibeVoiceError)
    with pytest.raises(vibevoice.UsageError):
        vibevoice.Engine(tiny_model, provider="tpu")
    e2 = vibevoice.Engine(tiny_model, threads=1)
    s = e2.stream(voice=VOICE)
    e2.close()  # closes its streams too
    assert s.closed
    with pytest.raises(vibevoice.UsageError, match="closed"):
        e2.synthesize(TEXT, voice=VOICE)
    e2.close()


def _python(code: str, env: dict[str, str], python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_library_lookup_and_message(lib_path, tiny_model):
    base = {k: v for k, v in os.environ.items() if k not in ("VIBEVOICE_LIBRARY", "LD_LIBRARY_PATH")}
    base["PYTHONPATH"] = str(PKG / "src")
    code = ("import vibevoice\n"
            f"e = vibevoice.Engine({str(tiny_model)!r}, threads=1)\n"
            f"print(len(e.synthesize('Hi.', voice={VOICE!r})))")
    res = _python(code, {**base, "VIBEVOICE_LIBRARY": str(lib_path)})
    assert res.returncode == 0 and int(res.stdout) > 0, res.stderr
    res = _python(code, {**base, "VIBEVOICE_LIBRARY": "/nonexistent/libvibevoice.so"})
    assert res.returncode != 0 and "LibraryNotFoundError" in res.stderr and "VIBEVOICE_LIBRARY" in res.stderr
    res = _python("import vibevoice; print(vibevoice.__version__)", {**base, "VIBEVOICE_LIBRARY": "/nonexistent"})
    assert res.returncode == 0 and res.stdout.strip() == _header_version()  # import never needs the library


def test_pip_install_into_a_fresh_venv(tmp_path, lib_path, tiny_model):
    try:  # the build backend, for an offline --no-build-isolation build (bdist_wheel: setuptools >= 70.1 or wheel)
        import setuptools
        if tuple(int(x) for x in setuptools.__version__.split(".")[:2]) < (70, 1):
            import wheel  # noqa: F401
    except ImportError:
        missing("setuptools >= 70.1 (or setuptools with wheel) is not installed in this Python: "
                 "cannot build bindings/python offline")
    src = tmp_path / "src"  # a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    # this interpreter's packages (numpy, the setuptools build backend) for the new venv, which sits on the
    # base interpreter (neither --system-site-packages nor ensurepip: their older setuptools may lack
    # bdist_wheel); this interpreter's pip installs into it (pip --python)
    site_dirs = [p for p in sys.path if p.endswith("site-packages")]
    (Path(_python("import sysconfig; print(sysconfig.get_paths()['purelib'])", os.environ.copy(), str(py))
          .stdout.strip()) / "outer.pth").write_text("\n".join(site_dirs) + "\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                          "--no-build-isolation", "--no-index", str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    env["VIBEVOICE_LIBRARY"] = str(lib_path)
    res = _python("import importlib.metadata as m, vibevoice\n"
                  "print(vibevoice.__file__); print(m.version('vibevoice'))\n"
                  f"e = vibevoice.Engine({str(tiny_model)!r}, threads=1)\n"
                  f"print(e.synthesize('Hi.', voice={VOICE!r}).size)", env, str(py))
    assert res.returncode == 0, res.stderr
    where, version, size = res.stdout.split()
    assert Path(where).is_relative_to(venv) and version == _header_version() and int(size) > 0


def test_normalize_option(engine):
    """normalize=True (vv_synthesis_params.normalize) speaks the spoken form."""
    a = engine.synthesize("It is 5 km.", "synthetic", seed=2, normalize=True)
    b = engine.synthesize("It is five kilometers.", "synthetic", seed=2)
    assert np.array_equal(a, b)


def test_injected_noise(engine, vibevoice_bin, tiny_model, tmp_path):
    """noise= (vv_synthesis_params.noise): the same noise gives the same audio, other noise other audio, the
    audio equals the CLI's `--noise FILE.npy`; a wrong dtype, rank or layout is a UsageError (checked in
    Python), a shape that does not fit the model or too few frames an InputError (from the library)."""
    frames = 12
    noise = np.random.default_rng(4).standard_normal((frames, 64), dtype=np.float32)
    opts = {"ignore_eos": True, "max_frames": frames}
    a = engine.synthesize_audio(TEXT, voice=VOICE, noise=noise, **opts)
    assert a.frames == frames and a.stop_reason == vibevoice.StopReason.MAX_FRAMES
    assert np.array_equal(engine.synthesize(TEXT, voice=VOICE, noise=noise.copy(), seed=9, **opts), a.samples)
    other = np.random.default_rng(5).standard_normal((frames, 64), dtype=np.float32)
    assert not np.array_equal(engine.synthesize(TEXT, voice=VOICE, noise=other, **opts), a.samples)
    path = tmp_path / "noise.npy"
    np.save(path, noise)
    res = synth(vibevoice_bin, tiny_model, "--voice", VOICE, "--text", TEXT, "--raw", "-", "--noise", path,
                "--ignore-eos", "--max-seconds", str(frames / 7.5))
    assert res.returncode == 0, res.stderr.decode()
    assert pcm16(a.samples) == res.stdout
    steps = np.random.default_rng(6).standard_normal((frames, 5, 64), dtype=np.float32)  # [F, steps, Z]
    sde = engine.synthesize(TEXT, voice=VOICE, noise=steps, solver="sde", steps=5, **opts)
    assert np.array_equal(engine.synthesize(TEXT, voice=VOICE, noise=steps, solver="sde", steps=5, **opts), sde)
    for bad, needle in [(noise[0], "shape"), (noise[None, None], "shape"), (noise.astype(np.float64), "float32"),
                        (noise.astype(">f4"), "float32"), (noise.T.copy().T, "C-contiguous"),
                        (noise[:0], "empty"), (noise.tolist(), "numpy")]:
        with pytest.raises(vibevoice.UsageError, match=needle):
            engine.synthesize(TEXT, voice=VOICE, noise=bad, **opts)
    with pytest.raises(vibevoice.InputError, match="shape"):
        engine.synthesize(TEXT, voice=VOICE, noise=noise[:, :32].copy(), **opts)
    with pytest.raises(vibevoice.InputError, match="frames"):
        engine.synthesize(TEXT, voice=VOICE, noise=noise[:4].copy(), **opts)
