"""`vibevoice-onnx` console entry point. Each sub-command lives in its own module, which provides
`add_arguments(parser)` and `run(args) -> int`; modules are imported lazily so `--help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from . import __version__

# sub-command -> (module, one-line help)
COMMANDS = {
    "random-checkpoint": ("checkpoint", "write a random checkpoint with the official tensor names"),
    "export": ("export", "build a model directory (ONNX graphs, manifest, tokenizer, voices)"),
    "voices": ("voices", "convert official .pt voice presets safely (no arbitrary unpickling)"),
    "quantize": ("quantize", "make an fp16 or int8 copy of a model directory"),
    "normalization": ("normalization", "add English text-normalization grammars (OpenFst) to a model directory"),
    "reference": ("reference", "run the PyTorch reference of the official generation loop"),
    "compare": ("compare", "audio SNR and log-mel distance of a model directory against a reference one "
                           "(e.g. int8 vs fp32) on the same text and noise"),
}


# Exit codes (the C++ CLI's, README.md): raise CliError with the one that names the kind of failure.
EXIT_USAGE = 2     # bad option or argument combination (also argparse's own errors)
EXIT_MODEL = 3     # unusable checkpoint, model directory, tokenizer or voice
EXIT_INPUT = 4     # unusable input data (text, noise file)
EXIT_INTERNAL = 5  # anything unexpected (a bug, an I/O failure): reported by main without a traceback
DEBUG_ENV = "VIBEVOICE_DEBUG"  # =1: print the traceback of an unexpected exception


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code EXIT_USAGE unless given."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


def read_text_arg(args: argparse.Namespace) -> str:
    """The text of --text or --text-file (UTF-8); CliError with EXIT_INPUT if unreadable or blank."""
    if args.text_file is not None:
        try:
            text = args.text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CliError(f"cannot read --text-file {args.text_file}: {e}", EXIT_INPUT) from None
    else:
        text = args.text
    if not text.strip():
        raise CliError("the text is empty (nothing to synthesize)", EXIT_INPUT)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vibevoice-onnx", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"vibevoice-onnx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(f".{module}", __package__).add_arguments(p)
    args = parser.parse_args(argv)
    module = importlib.import_module(f".{COMMANDS[args.command][0]}", __package__)
    try:
        return int(module.run(args) or 0)
    except CliError as e:
        print(f"vibevoice-onnx {args.command}: error: {e}", file=sys.stderr)
        return e.code
    except Exception as e:  # noqa: BLE001 - the one place that turns an unforeseen failure into an exit code
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        hint = "" if os.environ.get(DEBUG_ENV) == "1" else f" (set {DEBUG_ENV}=1 for the traceback)"
        print(f"vibevoice-onnx {args.command}: internal error: {type(e).__name__}: {e}{hint}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    # Run through the package module so sub-commands and this entry point share one CliError class.
    from vibevoice_onnx.cli import main as _main

    sys.exit(_main())
