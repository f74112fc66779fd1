"""The C++ `vibevoice tokenize` CLI against Hugging Face `tokenizers` run directly in Python."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import tokenizers

from vibevoice_onnx.textprep import prepare as _prepare  # the one Python statement of architecture.md 3.3

CORPUS = Path(__file__).resolve().parents[1] / "data" / "tokenizer" / "corpus.jsonl"


def _run(vibevoice_bin: Path, tokenizer: Path, stdin: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(vibevoice_bin), "tokenize", "--tokenizer", str(tokenizer), *flags],
                          input=stdin.encode("utf-8"), capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    # split on "\n" only: str.splitlines() would also split on U+2028, U+0085... inside the JSON strings
    all_lines = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").split("\n") if line]
    return all_lines[::7]  # a few hundred lines across every section of the corpus


@pytest.mark.parametrize("prepare", [False, True])
def test_cli_matches_hf_tokenizers(vibevoice_bin, real_tokenizer, lines, prepare):
    hf = tokenizers.Tokenizer.from_file(str(real_tokenizer))
    flags = ["--jsonl"] + (["--prepare"] if prepare else [])
    # both \u-escaped and raw UTF-8 JSON strings
    stdin = "".join(json.dumps(line, ensure_ascii=i % 2 == 0) + "\n" for i, line in enumerate(lines))
    res = _run(vibevoice_bin, real_tokenizer, stdin, *flags)
    assert res.returncode == 0, res.stderr.decode()
    got = [json.loads(row) for row in res.stdout.decode().split("\n") if row]
    assert len(got) == len(lines) >= 300
    for text, ids in zip(lines, got):
        source = _prepare(text) if prepare else text
        assert ids == hf.encode(source, add_special_tokens=False).ids, repr(text)


def test_cli_plain_lines(vibevoice_bin, real_tokenizer):
    hf = tokenizers.Tokenizer.from_file(str(real_tokenizer))
    texts = ["Hello world", "It's 3:45 pm — “quoted”", "  spaces  ", "", "<|endoftext|>tail"]
    res = _run(vibevoice_bin, real_tokenizer, "".join(t + "\n" for t in texts))
    assert res.returncode == 0, res.stderr.decode()
    got = [json.loads(row) for row in res.stdout.decode().split("\n") if row]
    assert got == [hf.encode(t, add_special_tokens=False).ids for t in texts]


def test_cli_errors_map_to_exit_codes(vibevoice_bin, real_tokenizer, tmp_path):
    res = subprocess.run([str(vibevoice_bin), "tokenize", "--tokenizer", str(real_tokenizer)],
                         input=b"ok\n\xff\n", capture_output=True, timeout=60)
    assert res.returncode == 4 and b"stdin line 2: invalid UTF-8 at byte 0" in res.stderr
    res = _run(vibevoice_bin, real_tokenizer, "42\n", "--jsonl")
    assert res.returncode == 4 and b"stdin line 1: expected a JSON string" in res.stderr
    missing = tmp_path / "missing.json"
    res = _run(vibevoice_bin, missing, "x\n")
    assert res.returncode == 3 and str(missing).encode() in res.stderr
    res = subprocess.run([str(vibevoice_bin), "tokenize"], capture_output=True, timeout=60)
    assert res.returncode == 2
