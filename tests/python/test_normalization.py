"""English text normalization: the C++ port (`vibevoice normalize`) against nemo_text_processing's own
Python normalizer on the 656-line reference corpus (tests/data/tn/corpus.jsonl, made by
tests/tools/make_tn_corpus.py), its score on the hand-checked quality table (tests/data/tn/quality.tsv), the
alignment back to the original text, `synth --normalize` (timestamps of the original words), the grammars in
quantized copies, and the errors of a model directory without grammars."""

from __future__ import annotations

import importlib.util
import json
import sys
import wave
from pathlib import Path

import pytest
from cli_helpers import assert_fails, model_copy, replace, run, synth
from conftest import ARTIFACTS, ROOT, missing

sys.path.insert(0, str(ROOT / "tests" / "tools"))
import tn_quality  # noqa: E402

TN_DATA = ROOT / "tests" / "data" / "tn"
QUALITY_BAR = 0.80  # the bar; nemo 1.2.0 scores 130/156 (docs/TEXT_NORMALIZATION.md)


def corpus():
    lines = TN_DATA.joinpath("corpus.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def normalize_jsonl(exe, model, texts):
    res = run(exe, "normalize", "--model", model, "--jsonl",
              stdin="".join(json.dumps(t) + "\n" for t in texts).encode())
    assert res.returncode == 0, res.stderr.decode()
    return [json.loads(line) for line in res.stdout.decode().splitlines()]


def test_corpus_equals_the_python_package(vibevoice_bin, tiny_model):
    header, rows = corpus()
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())["text_normalization"]
    assert manifest["source"]["package"] == "nemo_text_processing"
    assert manifest["source"]["version"] == header["nemo_text_processing"]
    assert len(rows) >= 400
    got = normalize_jsonl(vibevoice_bin, tiny_model, [r["input"] for r in rows])
    assert len(got) == len(rows)
    diff = [(r["input"], r["nemo"], g["text"]) for r, g in zip(rows, got) if g["text"] != r["nemo"]]
    assert not diff, f"{len(diff)} of {len(rows)} lines differ, e.g. {diff[:5]}"
    assert sum(r["input"].strip() != r["nemo"] for r in rows) > 300  # most lines do change


def test_corpus_fixture_is_what_the_installed_package_says():
    """The fixture was made by the Python package; re-check a sample so a package change cannot hide."""
    if importlib.util.find_spec("nemo_text_processing") is None:
        missing("nemo_text_processing is not installed (python/requirements.txt; scripts/setup.sh installs it)")
    from vibevoice_onnx.normalization import build_normalizer, reference_normalize

    _, rows = corpus()
    cache = ARTIFACTS / "tn-cache"
    cache.mkdir(parents=True, exist_ok=True)
    n = build_normalizer(cache)
    sample = rows[::13]
    assert [reference_normalize(n, r["input"]) for r in sample] == [r["nemo"] for r in sample]


def test_quality_table_score(vibevoice_bin, tiny_model):
    rows = tn_quality.load_table()
    assert len(rows) >= 80 and len({r["category"] for r in rows}) >= 10
    cmd = f"{vibevoice_bin} normalize --model {tiny_model}"
    correct, total, failures = tn_quality.score(rows, tn_quality.command_normalizer(cmd)[1], batch=True)
    print(f"quality table: {correct}/{total} ({100 * correct / total:.1f}%)")
    assert correct / total >= QUALITY_BAR, [f["input"] for f in failures]
    plain = [r for r in rows if r["category"] == "plain"]
    assert not [f for f in failures if f["category"] == "plain"], "plain text must pass unchanged"
    assert plain


def test_alignment_reads_the_original_tokens(vibevoice_bin, tiny_model):
    text = "Dr. Smith paid $1,200 on Jan. 5, 2023."
    [out] = normalize_jsonl(vibevoice_bin, tiny_model, [text])
    assert out["text"] == "doctor Smith paid one thousand two hundred dollars on january fifth, twenty twenty three."
    pieces = {out["text"][ob:oe].strip(): text[ib:ie] for ob, oe, ib, ie in out["alignment"]}
    assert pieces["doctor"] == "Dr."
    assert pieces["one thousand two hundred dollars"].strip() == "$1,200"
    assert pieces["january fifth, twenty twenty three"] == "Jan. 5, 2023"
    end, last = 0, (0, 0)
    for ob, oe, ib, ie in out["alignment"]:  # contiguous runs of output, monotone spans of the input
        assert ob == end and oe > ob and ib >= last[0] and ie >= last[1] and ie <= len(text)
        end, last = oe, (ib, ie)
    assert end == len(out["text"])


def test_synth_normalize_speaks_the_words_and_times_the_original(vibevoice_bin, tiny_model, tmp_path):
    text = "It costs $5.50 today."
    ts, wav = tmp_path / "t.json", tmp_path / "a.wav"
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--normalize", "--text", text,
                "-o", wav, "--timestamps", ts)
    assert res.returncode == 0, res.stderr.decode()
    words = [w["text"] for w in json.loads(ts.read_text())["words"]]
    assert words == text.split()  # timestamps refer to the original text
#the audio is that of the spoken form
    spoken = tmp_path / "b.wav"
    res = synth(vibevoice_bin, tiny_model, "--voice", "synthetic", "--text",
                "It costs five dollars fifty cents today.", "-o", spoken)
    assert res.returncode == 0, res.stderr.decode()
    with wave.open(str(wav)) as a, wave.open(str(spoken)) as b:
        assert a.readframes(a.getnframes()) == b.readframes(b.getnframes())


def test_quantized_copies_carry_the_grammars(vibevoice_bin, tiny_model):
    for mode in ("int8", "fp16"):
        model = ARTIFACTS / "tiny" / f"model-{mode}"
        if not (model / "vibevoice.json").exists():
            missing(f"{model} not built (scripts/make_test_model.sh)")
        [out] = normalize_jsonl(vibevoice_bin, model, ["3 km"])
        assert out["text"] == "three kilometers"


def test_model_without_grammars_is_a_clear_usage_error(vibevoice_bin, tiny_model, tmp_path):
    model = model_copy(tmp_path, tiny_model)
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    del manifest["text_normalization"]
    replace(model / "vibevoice.json", json.dumps(manifest))
    assert_fails(run(vibevoice_bin, "normalize", "--model", model, "--text", "5"), 2,
                 "no text-normalization grammars", "vibevoice-onnx normalization --model")
    assert_fails(synth(vibevoice_bin, model, "--voice", "synthetic", "--normalize", "--text", "5 km",
                       "-o", tmp_path / "a.wav"), 2, "no text-normalization grammars")
    assert not (tmp_path / "a.wav").exists()
#without-- normalize the same directory speaks as before
    assert synth(vibevoice_bin, model, "--voice", "synthetic", "--text", "5 km", "-o", tmp_path / "b.wav").returncode == 0


def test_broken_grammar_file_is_a_model_error(vibevoice_bin, tiny_model, tmp_path):
    model = model_copy(tmp_path, tiny_model)
    replace(model / "tn" / "en_tagger.fst", b"not an fst")
    assert_fails(run(vibevoice_bin, "normalize", "--model", model, "--text", "5"), 3, "en_tagger.fst")


def test_bad_text_is_an_input_error(vibevoice_bin, tiny_model):
    res = run(vibevoice_bin, "normalize", "--model", tiny_model, stdin=b"ok 5\n\xff\xfe\n")
    assert_fails(res, 4, "stdin line 2")
    assert res.stdout.decode() == "ok five\n"  # what came before the bad line is kept


def test_python_export_command(tmp_path, tiny_model):
    """`vibevoice-onnx normalization` on a model directory without grammars adds them (same files)."""
    if importlib.util.find_spec("nemo_text_processing") is None:
        missing("nemo_text_processing is not installed (python/requirements.txt; scripts/setup.sh installs it)")
    from conftest import run_cli

    model = tmp_path / "m"
    model.mkdir()
    manifest = json.loads((tiny_model / "vibevoice.json").read_text())
    entry = manifest.pop("text_normalization")
    (model / "vibevoice.json").write_text(json.dumps(manifest))
    run_cli("normalization", "--model", model, "--cache-dir", ARTIFACTS / "tn-cache")
    written = json.loads((model / "vibevoice.json").read_text())["text_normalization"]
    assert written == entry  # deterministic: the same sha256 as the test model's
    for g in written["grammars"].values():
        assert Path(model / g["file"]).stat().st_size > 0
