#!/usr/bin/env python3
"""Builds the tokenizer parity fixture in tests/data/tokenizer from the real Qwen2.5 tokenizer.json.

Every expectation here comes from Hugging Face `tokenizers` (or CPython itself for text preparation), never
from our C++ code, so the C++ tests compare against an independent reference:

  corpus.jsonl          one JSON string per line: the texts to tokenize
  expected.jsonl        per corpus line {"ids": [...]} and, for every 4th line, "offsets" (byte spans in the
                        UTF-8 text) and "decoded" (HF decode of the ids)
  decode.jsonl          {"ids": [...], "text": ...}: HF decode of random id sequences (incl. broken UTF-8)
  unicode_classes.json  \\p{L}, \\p{N}, \\s of the tokenizers regex engine, probed code point by code point
                        through the pre-tokenizer; plus CPython's str.isspace() set
  nfc_cases.jsonl       [input, NFC as tokenizers' normalizer computes it]
  nfc_offsets.jsonl     {"text", "ids", "offsets"} for the NFC cases that change under normalization: how
                        tokenizers maps token offsets back through composition, reordering and decomposition
  text_prep.jsonl       [raw, raw with ’ “ ” replaced, .strip() + "\\n"] (the model's own rule, in Python)

Usage: python tests/tools/make_tokenizer_fixture.py [--tokenizer ../shared/data/tokenizer/tokenizer.json]
Deterministic: fixed seeds; rerunning with the same tokenizers version gives identical files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer, normalizers

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "tests" / "data" / "tokenizer"

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|box_end|>",
           "<|vision_start|>", "<|vision_pad|>", "<|image_pad|>", "<tool_call>", "</tool_call>",
           "<|fim_prefix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"]


# --------------------------------------------------------------------------------------------- corpus
def english_lines() -> list[str]:
    lines: list[str] = []
    for name in ["1p_vibevoice.txt", "1p_abs.txt", "long_climate_45min.txt"]:
        text = (SHARED / "text" / name).read_text(encoding="utf-8")
        paragraphs = [p for p in text.split("\n") if p.strip()]
        for p in paragraphs:
            lines.append(p)
            sentences = re.split(r"(?<=[.!?])\s+", p)
            if len(sentences) > 1:
                lines.extend(s for s in sentences if s)
        # a few multi-line chunks with their original newlines
        raw_lines = text.split("\n")
        for i in range(0, len(raw_lines), 40):
            lines.append("\n".join(raw_lines[i:i + 6]))
    return lines


def handwritten_lines() -> list[str]:
    lines = [
        "", " ", "  ", "\n", "\n\n", "\r\n", "\t", "a", "A", "1", ".", "'", "'s", "é", "😀",
        # numbers, currency, dates
        "1234567890", "3.14159", "1,000,000", "-42", "0.5%", "1e10", "½ ⅓ ¼ ² ³ ⁴", "Ⅻ ⅻ Ⅳ", "٣٤٥ ۱۲۳",
        "१२३४", "１２３ ＡＢＣ", "$5.99", "€100", "£20.00", "¥500", "₹1,200", "₿0.001", "US$ 5", "12°C", "5′ 10″",
        "2024-01-15", "15/01/2024", "Jan. 15th, 2024", "10:30 AM", "2025-12-31T23:59:59Z", "+1 (555) 123-4567",
        # URLs, emails, code
        "https://www.example.com/path/to?query=1&x=y#frag", "http://127.0.0.1:8080/api/v1",
        "john.doe+tag@example.co.uk", "mailto:someone@example.org",
        "def foo(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "<div class=\"x\">Hi</div>", "a && b || !c", "x->y", "#include <vector>", '{"key": [1, 2, null]}',
        "SELECT * FROM t WHERE id = 42;", "C:\\Users\\me\\file.txt", "~/.bashrc", "$ ls -la | grep foo",
        # quotes and dashes
        "“Hello,” she said. ‘Yes’ — or no – maybe…", "It’s “quoted” text", "don’t won’t I’m",
        "«Bonjour» „Hallo“ 「こんにちは」", "em—dash en–dash figure‒dash",
        # emoji
        "👍🏽👍🏿 ok", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇺🇸🇯🇵🇩🇪", "1️⃣ #️⃣", "❤️ ♥ ☺", "🤷🏻‍♀️", "😀😃😄😁",
        # scripts
        "你好，世界！今天天气很好。", "日本語のテキストです。カタカナ、ひらがな。", "안녕하세요 세계", "Привет, мир!",
        "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Tiếng Việt có dấu",
        "Ελληνικά και 中文 mixed with English", "ქართული ენა", "Հայերեն", "ᚠᚢᚦᚨᚱᚲ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙",
        # combining, NFC vs NFD, edge normalization cases
        "café", "cafe\u0301", "naïve", "nai\u0308ve", "Ångström", "A\u030angstro\u0308m", "\u212b \u2126 \u212a",
        "e\u0301\u0323", "e\u0323\u0301", "\u1e0b\u0323", "a\u0308\u0304", "q\u0307\u0323", "\u0301start",
        "\u0344", "\u0958", "\u2adc", "\U0001d15e", "\U00011935\U00011930", "\U00011938", "x\u0f73y",
        "\u1100\u1161\u11a8", "\u1100\u1161", "\uac00\u11a8", "한\u1100\u1161\u11ab글",
        # whitespace
        "a\tb", "a\t\tb", "a \t b", "line1\r\nline2", "a\rb", "a  b", "a   b", "a    b", "  leading", "trailing  ",
        "a\n\nb", "a \n b", "a \n\n b", " \n \n ", "\n \n", "a\u00a0b", "a\u3000b", "a\u2028b", "a\u0085b",
        "a\u000bb", "a\u000cb", "a\u001cb\u001fc", "a\u200bb", "a\u180eb", "a\u2009b", "a \u00a0b", "\u00a0a",
        "end \n", "x\n  \ny", "x  \n\n\ty", "   \r\n   ", "\t\n\t\n", "!\n\n", "?!\r\n\r\nx", "word\u00a0\u00a0word",
        # special tokens
        "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<tool_call>{}</tool_call>", "<|fim_prefix|>a<|fim_suffix|>",
        "<|endoftext|", "<|endoftext", "<|", "<", "<<|endoftext|>>", "<|endoftext|><|endoftext|>",
        " <|endoftext|> ", "a<|endoftext|>b", "x <|im_start|>", "<|image_pad|><|image_pad|>x", "<|vision_start|>",
        "<|ENDOFTEXT|>", "<| endoftext |>", "e\u0301<|endoftext|>e\u0301", "<|endoftext|>\u0301",
        # long and repetitive
        "a" * 3000, " " * 2000, "1" * 500, "ab" * 700, "!" * 300, "\n" * 100, "é" * 400, "😀" * 100,
        " ".join(["word"] * 600), "-" * 80, "=" * 64,
    ]
    # contractions in every case combination, after words and alone, with ' and ’ and the long s
    bases = ["I", "you", "he", "she", "it", "we", "they", "don", "can", "won", "John", "cat", "1990", "x"]
    suffixes = ["s", "t", "re", "ve", "m", "ll", "d"]
    for b in bases:
        parts = []
        for suf in suffixes:
            for variant in sorted({suf, suf.upper(), suf.capitalize(), suf[0] + suf[1:].upper()}):
                parts.append(f"{b}'{variant}")
        lines.append(" ".join(parts))
        lines.append(" ".join(p.upper() + "x" for p in parts))
    lines += ["'ſ", "'ſx", "'ſtrange", "it'ſ", "'ßx", "'Sx", "'rE", "'LLama", "'", "''", "'''s", "' s",
              "rock'n'roll", "O'Neil's", "the '90s", "students' books", "I’ve", "I’M"]
    for tok in SPECIAL:
        lines += [tok, f"Hello {tok} world", tok[:-1], tok[: len(tok) // 2]]
    return lines


def soup_lines(rng: random.Random, count: int) -> list[str]:
    pools = [
        (30, lambda: chr(rng.randint(0x20, 0x7E))),
        (6, lambda: rng.choice(" \t\n\r\u00a0\u3000\u2028\u0085")),
        (4, lambda: rng.choice("'’\"“”")),
        (4, lambda: rng.choice(["'s", "'T", "'re", "'VE", "'m", "'Ll", "'d", "'ſ"])),
        (6, lambda: chr(rng.randint(0xA0, 0x24F))),
        (6, lambda: chr(rng.randint(0x300, 0x36F))),   # combining diacritics
        (4, lambda: chr(rng.randint(0x370, 0x52F))),   # Greek, Cyrillic
        (4, lambda: chr(rng.randint(0x590, 0x6FF))),   # Hebrew, Arabic
        (4, lambda: chr(rng.randint(0x900, 0xDFF))),   # Indic
        (5, lambda: chr(rng.randint(0x4E00, 0x9FFF))),  # CJK
        (3, lambda: chr(rng.randint(0xAC00, 0xD7A3))),  # Hangul
        (3, lambda: chr(rng.randint(0x1100, 0x11FF))),  # Hangul jamo
        (5, lambda: chr(rng.randint(0x1F300, 0x1FAFF))),  # emoji
        (2, lambda: rng.choice(["\u200d", "\ufe0f", "\U0001f3fb", "\U0001f3ff", "\u20e3"])),
        (3, lambda: chr(rng.randint(0x2000, 0x2BFF))),  # punctuation, symbols, arrows
        (3, lambda: rng.choice("0123456789٠١٢३४５⑤²½Ⅻ")),
        (6, lambda: _any_code_point(rng)),
        (2, lambda: rng.choice(SPECIAL) if rng.random() < 0.7 else rng.choice(SPECIAL)[:rng.randint(1, 8)]),
    ]
    weights = [w for w, _ in pools]
    out = []
    for _ in range(count):
        n = rng.choice([1, 2, 3, 5, 8, 13, 21, 40, 80])
        out.append("".join(rng.choices(pools, weights)[0][1]() for _ in range(n)))
    return out


def _any_code_point(rng: random.Random) -> str:
    while True:
        c = rng.choice([rng.randint(0, 0x2FFFF), rng.randint(0x30000, 0x323AF), rng.randint(0xE0000, 0x10FFFF)])
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def build_corpus(rng: random.Random) -> list[str]:
    lines = english_lines() + handwritten_lines()
    # NFD forms of everything non-ASCII so far, to exercise composition
    lines += [unicodedata.normalize("NFD", s) for s in lines if not s.isascii() and len(s) < 300][:150]
    lines += soup_lines(rng, 900)
    return lines


# ---------------------------------------------------------------------------------------- expectations
def byte_offsets(text: str, char_offsets) -> list[list[int]]:
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [[prefix[a], prefix[b]] for a, b in char_offsets]


def random_id_sequences(tok: Tokenizer, rng: random.Random, count: int) -> list[list[int]]:
    size = tok.get_vocab_size(with_added_tokens=True)
    byte_ids = [tok.token_to_id(t) for t in ["\u00e2", "\u0142", "\u0122", "\u00c3", "\u00a9", "\u00f0", "\u0141"]]
    out = []
    for i in range(count):
        n = rng.randint(0, 12)
        if i % 3 == 0:  # single-byte tokens: broken and partial UTF-8 sequences
            out.append([rng.choice(byte_ids + list(range(128, 256))) for _ in range(n)])
        else:
            out.append([rng.randrange(size) for _ in range(n)])
    return out


def probe_unicode_classes(tok: Tokenizer) -> dict:
    """\\p{L}, \\p{N} and \\s of the regex engine, observed through the pre-tokenizer alone."""
    pre = tok.pre_tokenizer

    def pieces(s: str) -> int:
        return len(pre.pre_tokenize_str(s))

    letters, numbers, spaces = [], [], []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        is_letter = pieces("a" + ch) == 1           # joins the letter run
        is_number = not is_letter and pieces(ch + ch) == 2  # \p{N} matches one code point at a time
        is_space = not is_letter and not is_number and pieces("!" + ch + "!") != 1  # breaks the symbol run
        (letters if is_letter else numbers if is_number else spaces if is_space else []).append(c)

    def ranges(xs: list[int]) -> list[list[int]]:
        r: list[list[int]] = []
        for x in xs:
            if r and r[-1][1] == x - 1:
                r[-1][1] = x
            else:
                r.append([x, x])
        return r

    return {"tokenizers_version": tokenizers.__version__, "L": ranges(letters), "N": ranges(numbers),
            "S": ranges(spaces), "python_isspace": [c for c in range(0x110000) if chr(c).isspace()]}


def nfc_cases() -> list[list[str]]:
    nfc = normalizers.NFC()
    cases = []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        if 0xAC00 <= c <= 0xD7A3 and c % 37:  # Hangul is algorithmic: a sample is enough
            continue
        nfd = unicodedata.normalize("NFD", ch)
        if nfd != ch or unicodedata.normalize("NFC", ch) != ch:
            cases += [ch, nfd]
        ccc = unicodedata.combining(ch)
        if ccc and ccc != 230:  # canonical reordering against U+0301 (ccc 230)
            cases.append("a" + ("\u0301" + ch if ccc < 230 else ch + "\u0301"))
    return [[s, nfc.normalize_str(s)] for s in cases]


def text_prep_cases(corpus: list[str]) -> list[list[str]]:
    raws = ["", " ", "\n", "  hello  ", "\t\nhello world\r\n\n", "\u00a0\u3000x\u2028\u0085", "\u001cx\u001f",
            "\u200bx\u200b", "\u180ex", "It’s “quoted”", "’“”", " ’ ", "“\n", "x\u2009", "\u000b\u000cx",
            "multi\nline\n\ntext\n", "  \u2029  ", "😀 ", "é\u0301 "] + corpus[::25]
    def prepare(s: str) -> str:
        return s.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').strip() + "\n"
    return [[r, prepare(r)] for r in raws]


def write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", type=Path, default=SHARED / "tokenizer" / "tokenizer.json")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--skip-classes", action="store_true", help="do not re-probe unicode_classes.json (slow)")
    args = ap.parse_args()
    tok = Tokenizer.from_file(str(args.tokenizer))
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240611)

    corpus = build_corpus(rng)
    write_jsonl(args.out / "corpus.jsonl", corpus)
    rows = []
    for i, line in enumerate(corpus):
        enc = tok.encode(line, add_special_tokens=False)
        row = {"ids": enc.ids}
        if i % 4 == 0:
            row["offsets"] = byte_offsets(line, enc.offsets)
            row["decoded"] = tok.decode(enc.ids, skip_special_tokens=False)
        rows.append(row)
    write_jsonl(args.out / "expected.jsonl", rows)

    seqs = random_id_sequences(tok, rng, 300)
    write_jsonl(args.out / "decode.jsonl",
                [{"ids": s, "text": tok.decode(s, skip_special_tokens=False)} for s in seqs])
    cases = nfc_cases()
    write_jsonl(args.out / "nfc_cases.jsonl", cases)
    changed = [f"x{raw} {raw}y" for raw, norm in cases if raw != norm]
    offset_rows = []
    for text in changed:
        enc = tok.encode(text, add_special_tokens=False)
        offset_rows.append({"text": text, "ids": enc.ids, "offsets": byte_offsets(text, enc.offsets)})
    write_jsonl(args.out / "nfc_offsets.jsonl", offset_rows)
    write_jsonl(args.out / "text_prep.jsonl", text_prep_cases(corpus))
    if not args.skip_classes:
        (args.out / "unicode_classes.json").write_text(json.dumps(probe_unicode_classes(tok)) + "\n")
    print(f"corpus: {len(corpus)} lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
