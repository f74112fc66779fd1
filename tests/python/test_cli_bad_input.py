"""The bad-input table: every way a user can get `vibevoice synth` wrong — arguments, model files and
manifests, voice files, texts, noise files, output paths — gives the documented exit code, a message that
names the problem, and leaves a pre-existing output file byte for byte as it was (no temporary file left
behind either). Each row runs the real CLI binary on the tiny model or a damaged copy of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from cli_helpers import assert_fails, model_copy, replace, run

USAGE, MODEL, INPUT, RUNTIME = 2, 3, 4, 5
TEXT = "Hello from the command line."
ORIGINAL = b"RIFF this file belongs to the user and must survive every failed run"


@dataclass
class Row:
    id: str
    args: list[str]  # after `synth`; {model} {out} {tmp} are substituted
    code: int
    needle: str  # a fragment of the error message that names the problem
    damage: Callable[[Path], None] | None = None  # applied to a symlink copy of the model directory
    stdin: bytes | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # input files created in {tmp}
    default_args: bool = True  # prepend --model {model} --voice synthetic (and -o {out} unless given)


# ---- model damage ------------------------------------------------------------------------------------
def manifest_edit_fn(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        m = json.loads((model / "vibevoice.json").read_text())
        fn(m)
        replace(model / "vibevoice.json", json.dumps(m))
    return damage


def manifest_edit(**changes) -> Callable[[Path], None]:
    return manifest_edit_fn(lambda m: m.update(changes))


def file_bytes(rel: str, data: bytes | Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        path = model / rel
        new = data(path.read_bytes()) if callable(data) else data
        replace(path, new)
    return damage


def remove(rel: str) -> Callable[[Path], None]:
    return lambda model: (model / rel).unlink()


def half(b: bytes) -> bytes:
    return b[: len(b) // 2]


def voice_manifest_edit(**changes) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        m = json.loads((model / "voices" / "manifest.json").read_text())
        m["voices"][0].update(changes)
        replace(model / "voices" / "manifest.json", json.dumps(m))
    return damage


def npy_bytes(array: np.ndarray) -> bytes:
    import io
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


VOICE_NPY = "voices/synthetic/neg_tts.last_hidden.npy"


def voice_npy(transform: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    def damage(model: Path) -> None:
        replace(model / VOICE_NPY, npy_bytes(transform(np.load(model / VOICE_NPY))))
    return damage


def swap_graph(target: str, source: str) -> Callable[[Path], None]:
    return lambda model: replace(model / target, (model / source).read_bytes())


NOISE_OK_SHAPE = (2, 64)

ROWS = [
    # ---- arguments ---------------------------------------------------------------------------------
    Row("no-output", ["--model", "{model}", "--voice", "synthetic", "--text", TEXT], USAGE, "exactly one of -o",
        default_args=False),
    Row("output-and-raw", ["--text", TEXT, "-o", "{out}", "--raw", "-"], USAGE, "exactly one of -o"),
    Row("raw-to-file", ["--text", TEXT, "--raw", "{tmp}/x.pcm"], USAGE, "--raw only supports"),
    Row("text-and-text-file", ["--text", TEXT, "--text-file", "{tmp}/t.txt"], USAGE, "at most one of",
        files={"t.txt": b"hi"}),
    Row("steps-0", ["--text", TEXT, "--steps", "0"], USAGE, "steps must be in 1..50"),
    Row("steps-51", ["--text", TEXT, "--steps", "51"], USAGE, "steps must be in 1..50"),
    Row("steps-word", ["--text", TEXT, "--steps", "abc"], USAGE, "--steps"),
    Row("steps-fraction", ["--text", TEXT, "--steps", "5.5"], USAGE, "--steps"),
    Row("cfg-negative", ["--text", TEXT, "--cfg", "-1"], USAGE, "cfg_scale"),
    Row("cfg-nan", ["--text", TEXT, "--cfg", "nan"], USAGE, "cfg_scale"),
    Row("cfg-inf", ["--text", TEXT, "--cfg", "inf"], USAGE, "cfg"),
    Row("solver-unknown", ["--text", TEXT, "--solver", "euler"], USAGE, "--solver"),
    Row("chunk-negative", ["--text", TEXT, "--chunk", "-1"], USAGE, "--chunk"),
    Row("chunk-huge", ["--text", TEXT, "--chunk", "5000"], USAGE, "--chunk"),
    Row("threads-negative", ["--text", TEXT, "--threads", "-2"], USAGE, "--threads"),
    Row("threads-oversubscribed", ["--text", TEXT, "--threads", "100000"], USAGE, "hardware threads"),
    Row("provider-unknown", ["--text", TEXT, "--provider", "tpu"], USAGE, "--provider"),
    Row("provider-unavailable", ["--text", TEXT, "--provider", "cuda"], RUNTIME, "CUDA"),
    Row("max-seconds-0", ["--text", TEXT, "--max-seconds", "0"], USAGE, "--max-seconds"),
    Row("max-seconds-negative", ["--text", TEXT, "--max-seconds", "-3"], USAGE, "--max-seconds"),
    Row("max-seconds-huge", ["--text", TEXT, "--max-seconds", "1e300"], USAGE, "--max-seconds"),
    Row("max-seconds-nan", ["--text", TEXT, "--max-seconds", "nan"], USAGE, "--max-seconds"),
    Row("seed-negative", ["--text", TEXT, "--seed", "-1"], USAGE, "--seed must be a whole number"),
    Row("seed-float", ["--text", TEXT, "--seed", "1e23"], USAGE, "--seed must be a whole number"),
    Row("seed-2^64", ["--text", TEXT, "--seed", "18446744073709551616"], USAGE, "--seed must be"),
    Row("seed-word", ["--text", TEXT, "--seed", "abc"], USAGE, "--seed must be a whole number"),
    Row("unknown-flag", ["--text", TEXT, "--no-such-flag"], USAGE, "--no-such-flag"),
    # ---- scripts, pauses, timestamps ----------------------------------------------------------------
    Row("pause-negative", ["--script", "--text", "A: hi.", "--pause", "-1"], USAGE, "--pause"),
    Row("pause-huge", ["--script", "--text", "A: hi.", "--pause", "11"], USAGE, "--pause"),
    Row("pause-word", ["--script", "--text", "A: hi.", "--pause", "long"], USAGE, "--pause"),
    Row("script-no-speaker", ["--script", "--text", TEXT], INPUT, "has no speaker"),
    Row("script-no-label", ["--script", "--text", "\n\n"], INPUT, "no \"Name: text\" line"),
    Row("script-speaker-without-voice", ["--model", "{model}", "--script", "--voice", "A=synthetic",
                                         "--text", "A: hi.\nB: yo.", "-o", "{out}"], USAGE,
        "no voice for speaker 'B'", default_args=False),
    Row("script-unknown-voice", ["--model", "{model}", "--script", "--voice", "A=nobody", "--text", "A: hi.",
                                 "-o", "{out}"], MODEL, "unknown voice 'nobody'", default_args=False),
    Row("script-bad-mapping", ["--model", "{model}", "--script", "--voice", "A=synthetic,=x", "--text", "A: hi.",
                               "-o", "{out}"], USAGE, "Name=voice", default_args=False),
    Row("script-invalid-utf8", ["--script"], INPUT, "invalid UTF-8", stdin=b"A: bad \xff"),
    Row("timestamps-extension", ["--text", TEXT, "--timestamps", "{tmp}/t.txt"], USAGE, ".srt, .vtt or .json"),
    Row("timestamps-no-dir", ["--text", TEXT, "--timestamps", "{tmp}/none/t.srt"], USAGE, "--timestamps"),
    Row("timestamps-is-dir", ["--text", TEXT, "--timestamps", "{tmp}"], USAGE, "--timestamps"),
    Row("missing-voice", ["--model", "{model}", "--text", TEXT, "-o", "{out}"], USAGE, "--voice",
        default_args=False),
    Row("missing-model", ["--voice", "synthetic", "--text", TEXT, "-o", "{out}"], USAGE, "--model",
        default_args=False),
    Row("unknown-voice", ["--model", "{model}", "--voice", "nobody", "--text", TEXT, "-o", "{out}"], MODEL,
        "unknown voice 'nobody'; available voices: synthetic", default_args=False),
    Row("empty-voice", ["--model", "{model}", "--voice", "", "--text", TEXT, "-o", "{out}"], MODEL,
        "no voice given", default_args=False),
    # ---- output paths ------------------------------------------------------------------------------
    Row("output-is-directory", ["--text", TEXT, "-o", "{tmp}"], USAGE, "is a directory"),
    Row("output-dir-missing", ["--text", TEXT, "-o", "{tmp}/no/such/dir/x.wav"], USAGE, "does not exist"),
    Row("dump-latents-directory", ["--text", TEXT, "--dump-latents", "{tmp}"], USAGE, "is a directory"),
    Row("dump-latents-dir-missing", ["--text", TEXT, "--dump-latents", "{tmp}/no/x.npy"], USAGE,
        "does not exist"),
    # ---- texts -------------------------------------------------------------------------------------
    Row("text-empty", ["--text", ""], INPUT, "empty"),
    Row("text-whitespace", ["--text", "  \n\t "], INPUT, "empty"),
    Row("text-file-invalid-utf8", ["--text-file", "{tmp}/t.txt"], INPUT, "invalid UTF-8",
        files={"t.txt": b"bad \xff utf8"}),
    Row("text-file-truncated-utf8", ["--text-file", "{tmp}/t.txt"], INPUT, "invalid UTF-8",
        files={"t.txt": b"cut \xe2\x80"}),
    Row("text-file-overlong-utf8", ["--text-file", "{tmp}/t.txt"], INPUT, "invalid UTF-8",
        files={"t.txt": b"slash \xc0\xaf"}),
    Row("text-file-surrogate", ["--text-file", "{tmp}/t.txt"], INPUT, "invalid UTF-8",
        files={"t.txt": b"half \xed\xa0\x80 pair"}),
    Row("text-file-utf16", ["--text-file", "{tmp}/t.txt"], INPUT, "invalid UTF-8",
        files={"t.txt": "Hello there.".encode("utf-16")}),
    Row("text-file-nul", ["--text-file", "{tmp}/t.txt"], INPUT, "NUL", files={"t.txt": b"Hello\x00there."}),
    Row("text-file-empty", ["--text-file", "{tmp}/t.txt"], INPUT, "empty", files={"t.txt": b""}),
    Row("text-file-missing", ["--text-file", "{tmp}/none.txt"], INPUT, "cannot read text file"),
    Row("text-file-directory", ["--text-file", "{tmp}"], INPUT, "is a directory"),
    # (A text file beyond one utterance's positions is no longer an error: it is spoken in segments,
    # test_long_text.py.)
    Row("stdin-invalid-utf8", [], INPUT, "invalid UTF-8", stdin=b"bad \xff utf8"),
    Row("stdin-truncated-utf8", [], INPUT, "invalid UTF-8", stdin=b"cut \xe2\x80"),
    Row("stdin-nul", [], INPUT, "NUL", stdin=b"Hello\x00there."),
    Row("stdin-empty", [], INPUT, "empty", stdin=b""),
    # (An error on stdin after speech started publishes the audio so far, by the output policy: those cases
    # are in test_cli_output.py, like every error after audio started.)
    # ---- injected noise ----------------------------------------------------------------------------
    Row("noise-missing", ["--text", TEXT, "--noise", "{tmp}/none.npy"], INPUT, "--noise"),
    Row("noise-garbage", ["--text", TEXT, "--noise", "{tmp}/n.npy"], INPUT, "--noise",
        files={"n.npy": b"definitely not numpy"}),
    Row("noise-truncated", ["--text", TEXT, "--noise", "{tmp}/n.npy"], INPUT, "--noise",
        files={"n.npy": npy_bytes(np.zeros(NOISE_OK_SHAPE, np.float32))[:100]}),
    Row("noise-wrong-width", ["--text", TEXT, "--noise", "{tmp}/n.npy"], INPUT, "noise",
        files={"n.npy": npy_bytes(np.zeros((3, 7), np.float32))}),
    Row("noise-nan", ["--text", TEXT, "--noise", "{tmp}/n.npy"], INPUT, "noise",
        files={"n.npy": npy_bytes(np.full(NOISE_OK_SHAPE, np.nan, np.float32))}),
    # ---- model directory and manifest --------------------------------------------------------------
    Row("model-dir-missing", ["--model", "{tmp}/nope", "--voice", "synthetic", "--text", TEXT, "-o", "{out}"],
        MODEL, "model directory not found", default_args=False),
    Row("model-is-a-file", ["--model", "{tmp}/f", "--voice", "synthetic", "--text", TEXT, "-o", "{out}"],
        MODEL, "{tmp}/f", files={"f": b"x"}, default_args=False),
    Row("manifest-missing", ["--text", TEXT], MODEL, "vibevoice.json", damage=remove("vibevoice.json")),
    Row("manifest-not-json", ["--text", TEXT], MODEL, "vibevoice.json",
        damage=file_bytes("vibevoice.json", b"{ not json")),
    Row("manifest-truncated", ["--text", TEXT], MODEL, "vibevoice.json", damage=file_bytes("vibevoice.json", half)),
    Row("manifest-empty", ["--text", TEXT], MODEL, "vibevoice.json", damage=file_bytes("vibevoice.json", b"")),
    Row("manifest-array", ["--text", TEXT], MODEL, "vibevoice.json", damage=file_bytes("vibevoice.json", b"[]")),
    Row("manifest-format-version", ["--text", TEXT], MODEL, "format_version", damage=manifest_edit(format_version=99)),
    Row("manifest-latent-dim-mismatch", ["--text", TEXT], MODEL, "latent_dim", damage=manifest_edit(latent_dim=32)),
    Row("manifest-hidden-mismatch", ["--text", TEXT], MODEL, "hidden_size", damage=manifest_edit(hidden_size=128)),
    Row("manifest-kv-heads-mismatch", ["--text", TEXT], MODEL, "num_key_value_heads",
        damage=manifest_edit(num_key_value_heads=1, num_attention_heads=2)),
    Row("manifest-text-layers-mismatch", ["--text", TEXT], MODEL, "past_key_1", damage=manifest_edit(text_layers=2)),
    Row("manifest-decoder-state-mismatch", ["--text", TEXT], MODEL, "decoder_states[0]",
        damage=manifest_edit_fn(lambda m: m["decoder_states"][0].update(shape=[1, 65, 6]))),
    Row("manifest-sample-rate-0", ["--text", TEXT], MODEL, "sample_rate", damage=manifest_edit(sample_rate=0)),
    Row("manifest-hop-negative", ["--text", TEXT], MODEL, "hop_length", damage=manifest_edit(hop_length=-1)),
    Row("manifest-steps-string", ["--text", TEXT], MODEL, "steps",
        damage=manifest_edit_fn(lambda m: m["defaults"].update(steps="five"))),
    Row("manifest-graph-outside", ["--text", TEXT], MODEL, "connector",
        damage=manifest_edit_fn(lambda m: m["graphs"]["connector"].update(file="../../connector.onnx"))),
    # ---- graphs ------------------------------------------------------------------------------------
    Row("graph-missing", ["--text", TEXT], MODEL, "connector.onnx", damage=remove("connector.onnx")),
    Row("graph-garbage", ["--text", TEXT], MODEL, "connector.onnx",
        damage=file_bytes("connector.onnx", b"not a protobuf at all")),
    Row("graph-truncated", ["--text", TEXT], MODEL, "text_lm.onnx", damage=file_bytes("text_lm.onnx", half)),
    Row("graph-empty", ["--text", TEXT], MODEL, "diffusion_head.onnx", damage=file_bytes("diffusion_head.onnx", b"")),
    Row("graph-swapped", ["--text", TEXT], MODEL, "diffusion_head.onnx",
        damage=swap_graph("diffusion_head.onnx", "connector.onnx")),
    # ---- tokenizer ---------------------------------------------------------------------------------
    Row("tokenizer-missing", ["--text", TEXT], MODEL, "tokenizer", damage=remove("tokenizer.json")),
    Row("tokenizer-truncated", ["--text", TEXT], MODEL, "tokenizer", damage=file_bytes("tokenizer.json", half)),
    Row("tokenizer-not-json", ["--text", TEXT], MODEL, "tokenizer", damage=file_bytes("tokenizer.json", b"{{{")),
    # ---- voices ------------------------------------------------------------------------------------
    Row("voices-manifest-missing", ["--text", TEXT], MODEL, "manifest.json", damage=remove("voices/manifest.json")),
    Row("voices-manifest-not-json", ["--text", TEXT], MODEL, "manifest.json",
        damage=file_bytes("voices/manifest.json", b"{")),
    Row("voice-dir-escapes", ["--text", TEXT], MODEL, "..", damage=voice_manifest_edit(dir="..")),
    Row("voice-dir-absolute", ["--text", TEXT], MODEL, "/tmp", damage=voice_manifest_edit(dir="/tmp")),
    Row("voice-tts-len-mismatch", ["--text", TEXT], MODEL, "tts", damage=voice_manifest_edit(tts_len=63)),
    Row("voice-npy-missing", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy", damage=remove(VOICE_NPY)),
    Row("voice-npy-truncated", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy", damage=file_bytes(VOICE_NPY, half)),
    Row("voice-npy-garbage", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy",
        damage=file_bytes(VOICE_NPY, b"\x93NUMPY garbage")),
    Row("voice-npy-int32", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy",
        damage=voice_npy(lambda a: a.astype(np.int32))),
    Row("voice-npy-wrong-shape", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy",
        damage=voice_npy(lambda a: a.reshape(-1)[:-1])),
    Row("voice-npy-nan", ["--text", TEXT], MODEL, "neg_tts.last_hidden.npy",
        damage=voice_npy(lambda a: np.full_like(a, np.nan))),
]


def test_the_table_is_large_and_ids_are_unique():
    assert len(ROWS) >= 60
    assert len({r.id for r in ROWS}) == len(ROWS)


def substitute(args: list[str], **values: str) -> list[str]:
    return [a.format(**values) if "{" in a else a for a in args]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row: Row, tmp_path, vibevoice_bin, tiny_model):
    work = tmp_path / "work"
    work.mkdir()
    for name, data in row.files.items():
        (work / name).write_bytes(data)
    model = tiny_model
    if row.damage:
        model = model_copy(tmp_path, tiny_model)
        row.damage(model)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "speech.wav"
    out.write_bytes(ORIGINAL)
    values = {"model": str(model), "out": str(out), "tmp": str(work)}
    args = substitute(row.args, **values)
    if row.default_args:
        args = ["--model", str(model), "--voice", "synthetic", *args]
        if "-o" not in args and "--raw" not in args:
            args += ["-o", str(out)]
    res = run(vibevoice_bin, "synth", "--quiet", *args, stdin=row.stdin if row.stdin is not None else b"",
              timeout=120)
    assert_fails(res, row.code, row.needle.format(**values))
    assert "Traceback" not in res.stderr.decode(errors="replace")
    assert out.read_bytes() == ORIGINAL, "the pre-existing output file was changed"
    assert sorted(p.name for p in out_dir.iterdir()) == ["speech.wav"], "a temporary file was left behind"
    assert res.stdout == b"", "nothing may reach stdout on a failed run"


# `vibevoice serve` refuses bad options before it listens (exit code + message; it must not start serving).
SERVE_ROWS = [
    ("port-out-of-range", ["--port", "70000"], USAGE, "--port"),
    ("max-streams-0", ["--max-streams", "0"], USAGE, "--max-streams"),
    ("max-queue-negative", ["--max-queue", "-1"], USAGE, "--max-queue"),
    ("host-not-an-address", ["--host", "nothere"], USAGE, "is not an IP address"),
    ("threads-oversubscribed", ["--threads", "100000"], USAGE, "hardware threads"),
    ("shutdown-grace-negative", ["--shutdown-grace", "-1"], USAGE, "--shutdown-grace"),
    ("idle-timeout-0", ["--idle-timeout", "0"], USAGE, "--idle-timeout"),
    ("max-input-chars-0", ["--max-input-chars", "0"], USAGE, "--max-input-chars"),
]


@pytest.mark.parametrize("args,code,needle", [r[1:] for r in SERVE_ROWS], ids=[r[0] for r in SERVE_ROWS])
def test_serve_bad_options(args, code, needle, vibevoice_bin, tiny_model):
    res = run(vibevoice_bin, "serve", "--model", tiny_model, "--port", "0", *args, timeout=60)
    assert_fails(res, code, needle)
    assert b"listening" not in res.stdout


def test_serve_missing_model(vibevoice_bin, tmp_path):
    assert_fails(run(vibevoice_bin, "serve", "--model", tmp_path / "nope", "--port", "0", timeout=60), MODEL,
                 "model directory not found")
