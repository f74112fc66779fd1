"""`normalization`: add English text-normalization grammars to a model directory.

The grammars are nemo_text_processing's English text-normalization grammars (deterministic, cased input),
compiled with pynini and written as three OpenFst files under `tn/`: the tagger (written -> tagged tokens),
the verbalizer (tokens -> spoken words) and the post-processor (spacing around punctuation). The C++
engine applies them with OpenFst (src/text/normalize/); no Python at run time. The manifest records the
source package, its version and each file's sha256 (docs/TEXT_NORMALIZATION.md explains the choice)."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

PACKAGE = "nemo_text_processing"
LANGUAGE = "en"
GRAMMAR_DIR = "tn"
MAX_PERMUTATIONS = 729  # nemo's default max_number_of_permutations_per_split


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"version": version(PACKAGE), "pynini": version("pynini")}


def build_normalizer(cache_dir: Path | None = None):
    """nemo's English Normalizer, configured as the engine applies it (the reference for the tests)."""
    from .cli import EXIT_USAGE, CliError

    try:
        logging.getLogger("NeMo-text-processing").setLevel(logging.WARNING)
        from nemo_text_processing.text_normalization.normalize import Normalizer
    except ImportError as e:
        raise CliError(f"text normalization needs the Python packages {PACKAGE} and pynini "
                       f"(python/requirements.txt): {e}", EXIT_USAGE) from None
    return Normalizer(input_case="cased", lang=LANGUAGE, deterministic=True,
                      cache_dir=str(cache_dir) if cache_dir else None, post_process=True,
                      max_number_of_permutations_per_split=MAX_PERMUTATIONS)


def reference_normalize(normalizer, line: str) -> str:
    """The call the C++ normalizer reproduces, one line at a time."""
    return normalizer.normalize(line, verbose=False, punct_pre_process=False, punct_post_process=False)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_grammars(model_dir: Path, cache_dir: Path | None = None, log=print) -> dict:
    """Compile the grammars into MODEL_DIR/tn/ and record them in vibevoice.json; returns the manifest entry."""
    manifest_path = model_dir / "vibevoice.json"
    manifest = json.loads(manifest_path.read_text())
    with tempfile.TemporaryDirectory(prefix=".vv-tn-") as tmp:
        normalizer = build_normalizer(cache_dir or Path(tmp))
        out = model_dir / GRAMMAR_DIR
        out.mkdir(exist_ok=True)
        grammars = {}
        for name, fst in (("tagger", normalizer.tagger.fst), ("verbalizer", normalizer.verbalizer.fst),
                          ("post_processor", normalizer.post_processor.fst)):
            rel = f"{GRAMMAR_DIR}/{LANGUAGE}_{name}.fst"
            part = model_dir / (rel + ".part")
            fst.write(str(part))
            os.replace(part, model_dir / rel)
            grammars[name] = {"file": rel, "sha256": _sha256(model_dir / rel)}
            log(f"  {rel:<26} {(model_dir / rel).stat().st_size / 1e6:6.1f} MB")
    entry = {
        "language": LANGUAGE,
        "source": {"package": PACKAGE, **_versions(), "input_case": "cased", "deterministic": True,
                   "post_process": True, "punct_post_process": False},
        "max_permutations": MAX_PERMUTATIONS,
        "grammars": grammars,
    }
    manifest["text_normalization"] = entry
    tmp_manifest = manifest_path.with_suffix(".json.part")
    tmp_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp_manifest, manifest_path)
    return entry


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="model directory to add the grammars to")
    p.add_argument("--cache-dir", type=Path, help="nemo's grammar cache (.far files) to reuse between runs")


def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_MODEL, CliError

    if not (args.model / "vibevoice.json").is_file():
        raise CliError(f"not a model directory (no vibevoice.json): {args.model}", EXIT_MODEL)
    print(f"compiling the English text-normalization grammars ({PACKAGE}) into {args.model / GRAMMAR_DIR}:")
    entry = write_grammars(args.model, args.cache_dir)
    print(f"done: {PACKAGE} {entry['source']['version']} (pynini {entry['source']['pynini']})")
    return 0
