"""`export`: build a model directory (docs/model-format.md) from an HF-style checkpoint directory.

Writes the five ONNX graphs (built directly with `onnx`, see graphs/), a verbatim copy of the tokenizer,
the converted voices and `vibevoice.json` (last) into a staging directory beside `--out`, validates every
graph against the PyTorch modules (validate.py) and only then moves the staging directory to `--out`: a
failed or interrupted export leaves no directory the engine would load (and keeps an earlier model). `--precision fp16|int8` exports fp32 into a temporary directory and quantizes it
(quantize.py), so the quantizer always starts from the validated fp32 graphs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from .config import ModelConfig

FORMAT_VERSION = 1
EXPORTER = f"vibevoice-onnx {__version__}"
DEFAULT_MODEL_NAME = "VibeVoice-Realtime-0.5B"
GRAPH_FILES = {
    "text_lm": "text_lm.onnx",
    "tts_lm": "tts_lm.onnx",
    "connector": "connector.onnx",
    "diffusion_head": "diffusion_head.onnx",
    "acoustic_decoder": "acoustic_decoder.onnx",
}

# Facts of the original code that are not in config.json (architecture.md 1.1, 1.7, 3.1, 3.7).
TEXT_WINDOW = 5
SPEECH_WINDOW = 6
SAMPLE_RATE = 24000
NEGATIVE_TOKEN_ID = 151655
EOS_TOKEN_ID = 151643
DEFAULTS = {"steps": 5, "cfg_scale": 1.5, "solver": "ode"}


def is_random_checkpoint(ckpt_dir: Path) -> bool:
    """True when model.safetensors was written by our `random-checkpoint` (it says so in its metadata)."""
    from safetensors import safe_open

    with safe_open(str(ckpt_dir / "model.safetensors"), framework="pt") as f:
        meta = f.metadata() or {}
    return meta.get("generator", "").startswith("vibevoice-onnx random-checkpoint")


# config.json diffusion_head_config fields of the noise schedule: read strictly (no defaults), because a
# schedule guessed here would silently change every sample the engine draws.
SCHEDULER_FIELDS = {"ddpm_num_steps": int, "ddpm_beta_schedule": str, "prediction_type": str}


def _required(section: dict, key: str, kind: type):
    v = section.get(key)
    if v is None:
        raise ValueError(f"diffusion_head_config.{key}: missing (config.json must state the noise schedule)")
    if isinstance(v, bool) or not isinstance(v, kind):
        raise ValueError(f"diffusion_head_config.{key}: expected {'an integer' if kind is int else 'a string'}, "
                         f"got {v!r}")
    return v


def build_manifest(cfg: ModelConfig, weights, *, model_name: str, checkpoint: str, random: bool,
                   precision: dict[str, str] | None = None) -> dict:
    """The `vibevoice.json` dict: every model constant the C++ engine needs (docs/model-format.md)."""
    from .graphs import decoder_states
    from .weights import BIAS, SCALING

    head = cfg.raw.get("diffusion_head_config", {})
    sched = {key: _required(head, key, kind) for key, kind in SCHEDULER_FIELDS.items()}
    precision = precision or {}
    return {
        "format_version": FORMAT_VERSION,
        "exporter": EXPORTER,
        "model_name": model_name,
        "source": {"checkpoint": checkpoint, "random": random},
        "hidden_size": cfg.hidden_size,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "text_layers": cfg.text_layers,
        "tts_layers": cfg.tts_layers,
        "vocab_size": cfg.vocab_size,
        "latent_dim": cfg.latent_dim,
        "rope_theta": cfg.rope_theta,
        "rms_norm_eps": cfg.rms_norm_eps,
        "max_positions": cfg.max_position_embeddings,
        "text_window": TEXT_WINDOW,
        "speech_window": SPEECH_WINDOW,
        "speech_scaling_factor": float(weights[SCALING]),
        "speech_bias_factor": float(weights[BIAS]),
        "sample_rate": SAMPLE_RATE,
        "hop_length": cfg.hop_length,
        "negative_token_id": NEGATIVE_TOKEN_ID,
        "eos_token_id": EOS_TOKEN_ID,
        "defaults": dict(DEFAULTS),
        "scheduler": {
            "num_train_timesteps": sched["ddpm_num_steps"],
            "beta_schedule": sched["ddpm_beta_schedule"],
            "prediction_type": sched["prediction_type"],
        },
        "graphs": {name: {"file": f, "precision": precision.get(name, "fp32")} for name, f in GRAPH_FILES.items()},
        "decoder_states": [s.manifest() for s in decoder_states(cfg)],
        # any chunking of the frames decodes to the same audio, bit for bit (graphs/acoustic_decoder.py)
        "decoder_chunk_invariant": True,
        "tokenizer": "tokenizer.json",
        "voices": "voices/manifest.json",
    }


def write_graphs(cfg: ModelConfig, weights, out: Path, log=print) -> dict[str, int]:
    """Build and save every graph (one at a time, to bound memory); returns bytes written per graph."""
    from .graphs import GRAPHS
    from .graphs.builder import file_size, save_model

    sizes = {}
    for name, build in GRAPHS.items():
        t0 = time.time()
        model = build(cfg, weights)
        files = save_model(model, out / GRAPH_FILES[name])
        del model
        sizes[name] = file_size(files)
        log(f"  {GRAPH_FILES[name]:<22} {sizes[name] / 1e6:9.1f} MB  ({time.time() - t0:.1f} s"
            + (", external data" if len(files) > 1 else "") + ")")
    return sizes


def voice_files(specs: list[Path]) -> list[Path]:
    """Expand --voices arguments: .pt files as given, directories to their *.pt files (sorted)."""
    from .cli import EXIT_MODEL, CliError

    files: list[Path] = []
    for s in specs:
        if s.is_dir():
            found = sorted(s.glob("*.pt"))
            if not found:
                raise CliError(f"--voices: no .pt files in directory {s}", EXIT_MODEL)
            files += found
        elif s.is_file():
            files.append(s)
        else:
            raise CliError(f"--voices: no such file or directory: {s}", EXIT_MODEL)
    return files


def write_voices(cfg: ModelConfig, files: list[Path], out: Path) -> list[dict]:
    vdir = out / "voices"
    if not files:
        vdir.mkdir(parents=True, exist_ok=True)
        (vdir / "manifest.json").write_text(json.dumps({"format_version": 1, "voices": []}, indent=2) + "\n")
        return []
    from .voices import convert_voices

    return convert_voices(files, vdir, cfg=cfg, dtype="fp32", force=True)  # the export owns its directory


def export_fp32(ckpt: Path, out: Path, tokenizer: Path, voices: list[Path], model_name: str,
                validate: bool, log=print, text_normalization: bool = False) -> bool:
    """Export the fp32 model directory `out`; returns False (and leaves `out` as it was) when validation
    fails. Raises CliError(EXIT_MODEL) for an unusable checkpoint or voice."""
    from .cli import EXIT_MODEL, CliError
    from .voices import VoiceError
    from .weights import load_checkpoint

    t0 = time.time()
    try:
        cfg, weights = load_checkpoint(ckpt)
        manifest = build_manifest(cfg, weights, model_name=model_name, checkpoint=str(ckpt.resolve()),
                                  random=is_random_checkpoint(ckpt))
    except (OSError, ValueError) as e:  # CheckpointError is a ValueError
        raise CliError(f"cannot load checkpoint {ckpt}: {e}", EXIT_MODEL) from None
    log(f"loaded {ckpt} ({sum(t.numel() for t in weights.values()):,} params) in {time.time() - t0:.1f} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        write_graphs(cfg, weights, stage, log)
        shutil.copyfile(tokenizer, stage / "tokenizer.json")
        try:
            converted = write_voices(cfg, voices, stage)
        except (VoiceError, FileNotFoundError) as e:
            raise CliError(str(e), EXIT_MODEL) from None
        if converted:
            log(f"  voices: {', '.join(v['name'] for v in converted)}")
        (stage / "vibevoice.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if text_normalization:
            from .normalization import write_grammars

            log("  text-normalization grammars:")
            write_grammars(stage, log=log)
        if validate and not validate_export(stage, cfg, weights, log):
            return False
        replace_dir(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log(f"wrote {out} in {time.time() - t0:.1f} s")
    return True


def replace_dir(src: Path, dst: Path) -> None:
    """Move directory `src` to `dst`, replacing an existing `dst` (renamed aside first, then deleted)."""
    if not dst.exists():
        os.replace(src, dst)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent))
    os.replace(dst, old / dst.name)
    os.replace(src, dst)
    shutil.rmtree(old, ignore_errors=True)


def validate_export(model_dir: Path, cfg: ModelConfig, weights, log=print) -> bool:
    """Check every graph of `model_dir` against the PyTorch modules; True when all are within tolerance."""
    import torch

    from .modules import VibeVoice
    from .validate import FP32_TOL, validate_model_dir

    t1 = time.time()
    log(f"validating against the PyTorch modules (fp32, per output: error <= {FP32_TOL:g} + {FP32_TOL:g} x "
        f"max|ref|, EOS logit sign):")
    model = VibeVoice(cfg, weights)
    ok = True
    with torch.no_grad():
        for res in validate_model_dir(model_dir, model, cfg):
            log(res.line())
            ok &= res.ok
    log(f"validation {'passed' if ok else 'FAILED'} in {time.time() - t1:.1f} s")
    return ok


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, type=Path, help="HF-style dir with config.json + model.safetensors")
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    p.add_argument("--tokenizer", type=Path, help="Qwen2.5 tokenizer.json to copy into the model directory (required)")
    p.add_argument("--voices", type=Path, nargs="*", default=[],
                   help="voice presets to convert: .pt files and/or directories of .pt files")
    p.add_argument("--precision", choices=("fp32", "fp16", "int8"), default="fp32")
    p.add_argument("--no-validate", action="store_true", help="skip the ONNX-vs-PyTorch parity check")
    p.add_argument("--text-normalization", action="store_true",
                   help="also compile the English text-normalization grammars into tn/ (needs nemo_text_processing)")
    p.add_argument("--model-name", default=DEFAULT_MODEL_NAME, help=f"manifest model_name (default {DEFAULT_MODEL_NAME})")


def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_MODEL, EXIT_USAGE, CliError

    if args.tokenizer is None:
        raise CliError("--tokenizer is required: pass the Qwen2.5 tokenizer.json (e.g. "
                       "../shared/data/tokenizer/tokenizer.json); the exporter never downloads anything", EXIT_USAGE)
    if not args.tokenizer.is_file():
        raise CliError(f"tokenizer file not found: {args.tokenizer}", EXIT_MODEL)
    if not args.checkpoint.is_dir():
        raise CliError(f"checkpoint directory not found: {args.checkpoint}", EXIT_MODEL)
    voices = voice_files(args.voices)
    out: Path = args.out
    if out.exists() and any(out.iterdir()) and not (out / "vibevoice.json").exists():
        raise CliError(f"{out} exists and is not a model directory; refusing to write into it", EXIT_USAGE)

    if args.precision == "fp32":
        ok = export_fp32(args.checkpoint, out, args.tokenizer, voices, args.model_name, not args.no_validate,
                         text_normalization=args.text_normalization)
    else:
        from .quantize import QuantizationError, quantize_model_dir

        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".vv-fp32-", dir=out.parent) as tmp:
            fp32 = Path(tmp) / "model"
            ok = export_fp32(args.checkpoint, fp32, args.tokenizer, voices, args.model_name,
                             not args.no_validate, text_normalization=args.text_normalization)
            if ok:
                print(f"quantizing to {args.precision}:")
                try:
                    quantize_model_dir(fp32, out, args.precision)
                except QuantizationError as e:
                    raise CliError(str(e), EXIT_MODEL) from None
    if not ok:
        print(f"vibevoice-onnx export: error: validation failed: an exported graph differs from the PyTorch "
              f"modules beyond tolerance (see above); nothing was written to {out}", file=sys.stderr)
        return 1
    return 0
