"""Text preparation of the realtime model (architecture.md §3.3): the demo's quote normalization, the
processor's `strip() + "\\n"`, and Qwen2.5 BPE without special tokens. The trailing newline matters: it is
the model's end-of-text marker and changes the last token(s)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# file demo: ’ → ', “ and ” → " (the web demo only does the first; both agree on plain ASCII input)
_QUOTES = str.maketrans({"\u2019": "'", "\u201c": '"', "\u201d": '"'})


def prepare(text: str) -> str:
    """The string the tokenizer sees: quotes normalized, outer whitespace stripped, one final newline."""
    return text.translate(_QUOTES).strip() + "\n"


@lru_cache(maxsize=4)
def _tokenizer(path: str):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def encode(tokenizer_json: str | Path, text: str) -> list[int]:
    """Token ids of `prepare(text)` with the HF tokenizer file (no BOS/EOS; Qwen has no BOS anyway)."""
    return list(_tokenizer(str(tokenizer_json)).encode(prepare(text), add_special_tokens=False).ids)
