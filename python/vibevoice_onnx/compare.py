"""`compare`: how far a model directory's audio is from a reference directory's (e.g. an int8 or
mixed-precision copy from `quantize` against the fp32 export) on the same text, voice and injected
diffusion noise, so that a quantization profile can be measured on the real checkpoint.

Both directories synthesize the text through the C engine (the `vibevoice` Python binding over
libvibevoice.so), one after the other (one engine in memory at a time), with the same noise
(numpy default_rng(--seed), standard normal, [frames, latent_dim]; [frames, steps, latent_dim] for the
SDE solver), the same steps, cfg scale and solver (the reference's defaults unless given) and the
end-of-speech classifier ignored, so both produce exactly --frames frames. Printed:

- samples compared (the common length of the two signals);
- audio SNR in dB: 10 log10(sum ref^2 / sum (x - ref)^2); inf when the signals are identical;
- log-mel distance in dB (log_mel_distance): the mean over all frames and bands of |L(x) - L(ref)|,
  where L is an 80-band log-mel spectrogram in dB: 1024-point FFT of periodic-Hann-windowed frames, hop
  256, the signal zero-padded by 512 samples at both ends, magnitude spectrum, triangular filters equally
  spaced on the HTK mel scale (mel = 2595 log10(1 + f / 700)) from 0 Hz to half the sample rate (24 kHz
  audio: 12 kHz), peak 1, then 20 log10(max(mel, 1e-5)). 0 for identical signals; a gain of 2 on the
  whole signal reads 6.02 dB where both are above the floor;
- latent SNR in dB: the same formula on the acoustic latents [frames, latent_dim] the LM generated;
- the precision of every graph of both directories (vibevoice.json "graphs").

--json OUT writes the same numbers (an infinite SNR as null, with "identical": true).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24000
N_FFT = 1024
HOP = 256
N_MELS = 80
FLOOR = 1e-5
DEFAULT_FRAMES = 150


# ---------------------------------------------------------------- metrics (numpy only)

def snr_db(x: np.ndarray, ref: np.ndarray) -> float:
    """10 log10(sum ref^2 / sum (x - ref)^2) in float64; inf when x == ref (-inf for a silent reference)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if x.shape != ref.shape:
        raise ValueError(f"snr_db: shapes differ: {x.shape} vs {ref.shape}")
    err = float(np.sum((x - ref) ** 2))
    sig = float(np.sum(ref ** 2))
    if err == 0.0:
        return math.inf
    if sig == 0.0:
        return -math.inf
    return 10.0 * math.log10(sig / err)


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] triangular filters (peak 1) with edges equally spaced on the HTK mel scale
    from 0 Hz to sample_rate / 2."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (center - lower)
    falling = (upper - freqs[None, :]) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel_db(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[frames, 80] log-mel spectrogram in dB of a 1-D signal, as described in the module docstring."""
    x = np.asarray(x, dtype=np.float64).ravel()
    x = np.pad(x, (N_FFT // 2, N_FFT // 2))
    count = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:count]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    mag = np.abs(np.fft.rfft(frames * window, axis=1))
    mel = mag @ mel_filterbank(sample_rate).T
    return 20.0 * np.log10(np.maximum(mel, FLOOR))


def log_mel_distance(x: np.ndarray, ref: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Mean |log_mel_db(x) - log_mel_db(ref)| in dB over all frames and bands (signals of equal length)."""
    if np.asarray(x).size != np.asarray(ref).size:
        raise ValueError(f"log_mel_distance: lengths differ: {np.asarray(x).size} vs {np.asarray(ref).size}")
    return float(np.mean(np.abs(log_mel_db(x, sample_rate) - log_mel_db(ref, sample_rate))))


# ---------------------------------------------------------------- command

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Compare a model directory with a reference directory (e.g. an int8 or mixed-precision "
                     "copy against the fp32 export) on the same text, voice and injected diffusion noise: "
                     "audio SNR, log-mel distance and latent SNR, and each graph's precision.")
    p.add_argument("--model", required=True, type=Path, help="model directory to measure (e.g. from `quantize`)")
    p.add_argument("--reference", required=True, type=Path, help="reference model directory (e.g. the fp32 export)")
    p.add_argument("--voice", help="voice name (default: the first voice of --model that --reference has too)")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="text to speak")
    text.add_argument("--text-file", type=Path, help="UTF-8 file with the text to speak")
    p.add_argument("--frames", type=int, default=DEFAULT_FRAMES,
                   help=f"frames to generate (3200 samples each at 24 kHz; default {DEFAULT_FRAMES} = 20 s); the "
                        "end-of-speech classifier is ignored so both models produce exactly this many")
    p.add_argument("--seed", type=int, default=0, help="seed of the injected noise (numpy default_rng; default 0)")
    p.add_argument("--steps", type=int, help="diffusion steps 1..50 (default: the reference's)")
    p.add_argument("--cfg", type=float, help="classifier-free guidance scale (default: the reference's)")
    p.add_argument("--solver", choices=("ode", "sde"), help="diffusion solver (default: the reference's)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads per engine (0: the engine's default)")
    p.add_argument("--library", type=Path,
                   help="path to libvibevoice.so (default: the binding's lookup: $VIBEVOICE_LIBRARY, "
                        "ctypes.util.find_library, pkg-config, /usr/local/lib, ...)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON to OUT")
    p.epilog = ("Metrics: audio SNR = 10 log10(sum ref^2 / sum (x - ref)^2) (inf: identical); log-mel distance = "
                "mean |difference| in dB of 80-band log-mel spectrograms (HTK mel scale, 0-12 kHz, 1024-point "
                "FFT, periodic Hann window, hop 256, magnitude, 20 log10(max(mel, 1e-5))); latent SNR = the SNR "
                "formula on the generated acoustic latents.")


def _manifest(model_dir: Path) -> dict:
    from .cli import EXIT_MODEL, CliError

    path = model_dir / "vibevoice.json"
    if not path.is_file():
        raise CliError(f"not a model directory (no vibevoice.json): {model_dir}", EXIT_MODEL)
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CliError(f"unreadable manifest {path}: {e}", EXIT_MODEL) from None
    if not isinstance(m, dict) or not isinstance(m.get("graphs"), dict) or not isinstance(m.get("latent_dim"), int):
        raise CliError(f"{path}: not a vibevoice manifest (no \"graphs\" object or \"latent_dim\")", EXIT_MODEL)
    return m


def _voice_names(model_dir: Path, manifest: dict) -> list[str]:
    """Voice names in the order of the model's voices manifest (empty if it cannot be read: the engine
    reports the problem when it loads)."""
    try:
        v = json.loads((model_dir / manifest.get("voices", "voices/manifest.json")).read_text(encoding="utf-8"))
        return [e["name"] for e in v["voices"] if isinstance(e, dict) and isinstance(e.get("name"), str)]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return []


def _precisions(manifest: dict) -> dict[str, str]:
    return {name: str(g.get("precision", "?")) if isinstance(g, dict) else "?"
            for name, g in manifest["graphs"].items()}


def _import_binding():
    from .cli import CliError

    try:
        import vibevoice
    except ImportError as e:
        raise CliError(f"the `vibevoice` Python binding is not importable ({e}); install it with "
                       "`pip install bindings/python` (from the repository root) and point it at the C library "
                       "with --library PATH or VIBEVOICE_LIBRARY=PATH (libvibevoice.so: build/<preset>/ in a "
                       "build tree, PREFIX/lib after `cmake --install`)") from None
    return vibevoice


def _synthesize(vv, model_dir: Path, text: str, voice: str, noise: np.ndarray, options: dict, args, library):
    from .cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_MODEL, EXIT_USAGE, CliError

    codes = {vv.ModelError: EXIT_MODEL, vv.InputError: EXIT_INPUT, vv.UsageError: EXIT_USAGE}
    try:
        with vv.Engine(model_dir, threads=args.threads, library=library) as engine:
            audio = engine.synthesize_audio(text, voice, **options, max_frames=args.frames, ignore_eos=True,
                                            noise=noise)
            return audio, engine.sample_rate
    except vv.LibraryNotFoundError as e:
        raise CliError(f"{e} (or pass --library PATH)") from None
    except vv.VibeVoiceError as e:
        code = next((c for cls, c in codes.items() if isinstance(e, cls)), EXIT_INTERNAL)
        raise CliError(f"{model_dir}: {e.message}", code) from None


def _fmt_db(v: float) -> str:
    return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.2f}"


def _json_db(v: float):
    return None if math.isinf(v) else round(v, 4)


def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_INPUT, EXIT_INTERNAL, CliError, read_text_arg

    if args.frames < 1:
        raise CliError(f"--frames must be >= 1, got {args.frames}")
    if args.text is None and args.text_file is None:
        raise CliError("give the text to speak with --text or --text-file")
    model_m, ref_m = _manifest(args.model), _manifest(args.reference)
    text = read_text_arg(args)
    if model_m["latent_dim"] != ref_m["latent_dim"]:
        raise CliError(f"the models differ in latent_dim ({model_m['latent_dim']} vs {ref_m['latent_dim']}): "
                       "not two precisions of one model")
    voice = args.voice
    if voice is None:
        ref_voices = set(_voice_names(args.reference, ref_m))
        voice = next((v for v in _voice_names(args.model, model_m) if v in ref_voices), None)
        if voice is None:
            raise CliError("no voice found that both model directories have; give one with --voice")

    defaults = ref_m.get("defaults", {}) if isinstance(ref_m.get("defaults"), dict) else {}
    # the reference's defaults for both models (the engine would take each model's own)
    steps = args.steps if args.steps is not None else defaults.get("steps")
    cfg = args.cfg if args.cfg is not None else defaults.get("cfg_scale")
    solver = args.solver or defaults.get("solver", "ode")
    options = {"steps": steps if isinstance(steps, int) else None,
               "cfg_scale": cfg if isinstance(cfg, (int, float)) else None,
               "solver": solver if solver in ("ode", "sde") else None}
    latent_dim = model_m["latent_dim"]
    shape = (args.frames, latent_dim)
    if solver == "sde":
        if not isinstance(steps, int):
            raise CliError("the SDE solver needs step noise: give --steps")
        shape = (args.frames, steps, latent_dim)
    noise = np.random.default_rng(args.seed).standard_normal(shape, dtype=np.float32)

    vv = _import_binding()
    library = str(args.library) if args.library is not None else None
    ref, sample_rate = _synthesize(vv, args.reference, text, voice, noise, options, args, library)
    out, _ = _synthesize(vv, args.model, text, voice, noise, options, args, library)

    n = min(out.samples.size, ref.samples.size)
    audio_snr = snr_db(out.samples[:n], ref.samples[:n])
    mel = log_mel_distance(out.samples[:n], ref.samples[:n], sample_rate)
    f = min(out.frames, ref.frames)
    latent_snr = snr_db(out.latents[:f], ref.latents[:f])
    model_p, ref_p = _precisions(model_m), _precisions(ref_m)

    print(f"model      {args.model}")
    print(f"reference  {args.reference}")
    print(f"voice {voice}, {args.frames} frames (EOS ignored), steps {steps}, cfg {cfg}, solver {solver}, "
          f"noise seed {args.seed}")
    print(f"{'graph':<18} {'model':<8} reference")
    for name in list(ref_p) + [g for g in model_p if g not in ref_p]:
        print(f"{name:<18} {model_p.get(name, '-'):<8} {ref_p.get(name, '-')}")
    if out.samples.size != ref.samples.size:
        print(f"note: lengths differ (model {out.samples.size}, reference {ref.samples.size} samples)")
    print(f"samples compared   {n} ({n / sample_rate:.2f} s at {sample_rate} Hz)")
    print(f"audio SNR          {_fmt_db(audio_snr)} dB")
    print(f"log-mel distance   {mel:.3f} dB (mean |difference| of {N_MELS}-band log-mel spectrograms)")
    print(f"latent SNR         {_fmt_db(latent_snr)} dB ({f} frames)")
    sys.stdout.flush()

    if args.json is not None:
        result = {
            "model": str(args.model), "reference": str(args.reference), "voice": voice, "frames": args.frames,
            "steps": steps, "cfg_scale": cfg, "solver": solver, "seed": args.seed, "sample_rate": sample_rate,
            "samples_compared": n, "model_samples": int(out.samples.size), "reference_samples": int(ref.samples.size),
            "snr_db": _json_db(audio_snr), "log_mel_distance_db": round(mel, 6),
            "latent_snr_db": _json_db(latent_snr), "identical": bool(audio_snr == math.inf),
            "latents_identical": bool(latent_snr == math.inf),
            "log_mel": {"n_mels": N_MELS, "n_fft": N_FFT, "hop": HOP, "window": "hann", "floor": FLOOR,
                        "mel_scale": "htk"},
            "precision": {"model": model_p, "reference": ref_p},
        }
        try:
            args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise CliError(f"cannot write --json {args.json}: {e}", EXIT_INTERNAL) from None
    return 0
