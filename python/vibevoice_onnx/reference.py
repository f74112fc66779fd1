"""`reference`: the official realtime generation loop in plain PyTorch — the parity oracle of the C++ engine.

It follows architecture.md §3.4–3.10 step by step (5-token text windows interleaved with 6 speech frames,
positive and negative TTS branches with their own position counters, CFG on v, DPM-Solver++, streaming
decoder, EOS on the positive branch, the 8192-position cap) and shares nothing with the ONNX export code
(`graphs/`, `export.py`): only the weight loader and the PyTorch modules of `modules.py`. Noise is either
injected from a `.npy` (parity runs) or drawn from a seeded torch.Generator and written out, so every run
can be replayed exactly by the C++ engine.

Noise layout (float32): `[F, Z]` (initial x of frame f) or `[F, N, Z]` with `[f, 0]` the initial x and
`[f, k]` (k = 1..N−1) the SDE noise of solver step k−1; the ODE solver reads only `[f, 0]`. Seeded runs
draw per frame `randn(Z)` (ODE, written as [F, Z]) or `randn(N, Z)` (SDE, written as [F, N, Z]).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cli import EXIT_INPUT, EXIT_MODEL, EXIT_USAGE, CliError, read_text_arg
from .scheduler import SOLVERS, DpmSolverPlusPlus

TEXT_WINDOW = 5    # text tokens fed per outer iteration (§1.1)
SPEECH_WINDOW = 6  # speech frames generated per outer iteration
SAMPLE_RATE = 24000
STAGES = ("text_lm", "tts_lm", "diffusion", "decoder", "connector")

KV = tuple[torch.Tensor, torch.Tensor]


# ---------------------------------------------------------------------------------------------- voice prompt
@dataclass
class VoicePrompt:
    """The parts of a preset that generation uses (§3.2): three KV caches and the first negative condition."""

    lm_kv: list[KV]
    tts_kv: list[KV]
    neg_kv: list[KV]
    neg_hidden: torch.Tensor  # [1, H], last row of neg_tts_lm.last_hidden_state

    @property
    def lm_len(self) -> int:
        return self.lm_kv[0][0].shape[2]

    @property
    def tts_len(self) -> int:
        return self.tts_kv[0][0].shape[2]

    @property
    def neg_len(self) -> int:
        return self.neg_kv[0][0].shape[2]

    @classmethod
    def from_preset(cls, preset: dict, cfg) -> "VoicePrompt":
        """Validate a `voices.load_pt_preset` dict against the model geometry; raise ValueError if it does
        not fit (e.g. a real 896-wide preset with the tiny checkpoint)."""

        def kv(key: str, layers: int) -> list[KV]:
            entry = preset.get(key)
            if not isinstance(entry, dict) or "key_cache" not in entry or "value_cache" not in entry:
                raise ValueError(f"voice preset has no '{key}' entry with a KV cache")
            ks, vs = entry["key_cache"], entry["value_cache"]
            if len(ks) != layers or len(vs) != layers:
                raise ValueError(f"voice preset '{key}' has {len(ks)} layers, this model has {layers}")
            want = (1, cfg.num_key_value_heads, None, cfg.head_dim)
            out = []
            for k, v in zip(ks, vs):
                for t in (k, v):
                    if t.dim() != 4 or any(w is not None and s != w for s, w in zip(t.shape, want)):
                        raise ValueError(f"voice preset '{key}' KV shape {list(t.shape)} does not fit this "
                                         f"model ([1, {cfg.num_key_value_heads}, S, {cfg.head_dim}])")
                if k.shape != v.shape or k.shape[2] != ks[0].shape[2] or k.shape[2] < 1:
                    raise ValueError(f"voice preset '{key}' has inconsistent or empty KV lengths")
                # deep copy per utterance (§3.4); contiguous fixes the official non-contiguous layout
                out.append((k.detach().to(torch.float32).contiguous().clone(),
                            v.detach().to(torch.float32).contiguous().clone()))
            return out

        neg = preset.get("neg_tts_lm") or {}
        hidden = neg.get("last_hidden_state")
        if hidden is None or hidden.dim() != 3 or hidden.shape[-1] != cfg.hidden_size:
            raise ValueError(f"voice preset 'neg_tts_lm' last_hidden_state must be [1, S, {cfg.hidden_size}]")
        return cls(kv("lm", cfg.text_layers), kv("tts_lm", cfg.tts_layers), kv("neg_tts_lm", cfg.tts_layers),
                   hidden[:, -1].detach().to(torch.float32).clone())


# ---------------------------------------------------------------------------------------------- noise
class NoiseExhausted(Exception):
    """Injected noise has fewer frames than the generation needed."""


class NoiseSource:
    """Per-frame noise: initial x [1, Z] and the SDE step noise [N−1, 1, Z] (None for ODE)."""

    def __init__(self, steps: int, solver: str, latent_dim: int, array: np.ndarray | None = None,
                 seed: int | None = None):
        self.steps, self.solver, self.z = steps, solver, latent_dim
        self.rows = steps if solver == "sde" else 1  # noise rows per frame actually consumed
        self.array = None
        if array is not None:
            self.array = self._check(np.asarray(array))
        self.generator = torch.Generator().manual_seed(int(seed or 0)) if array is None else None
        self._used: list[np.ndarray] = []

    def _check(self, a: np.ndarray) -> np.ndarray:
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"noise must be a float array, got dtype {a.dtype}")
        if a.ndim not in (2, 3) or a.shape[-1] != self.z:
            raise ValueError(f"noise must have shape [F, {self.z}] or [F, N, {self.z}], got {list(a.shape)}")
        if a.ndim == 3 and a.shape[1] < self.rows:
            raise ValueError(f"SDE with {self.steps} steps needs noise [F, {self.steps}, {self.z}] "
                             f"(initial x + {self.steps - 1} step noises), got {list(a.shape)}")
        if a.ndim == 2 and self.rows > 1:
            raise ValueError(f"SDE with {self.steps} steps needs noise [F, {self.steps}, {self.z}], "
                             f"got {list(a.shape)} (initial x only)")
        if not np.all(np.isfinite(a)):
            raise ValueError("noise contains NaN or infinite values")
        return a.astype(np.float32, copy=False)

    def frame(self, f: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.array is not None:
            if f >= self.array.shape[0]:
                n = self.array.shape[0]
                raise NoiseExhausted(f"injected noise has {n} frames but the generation needs at least {f + 1} "
                                     f"(frame {f + 1} has no noise); provide more frames or set --max-frames {n}")
            a = self.array[f]
            rows = torch.from_numpy(np.array(a[None] if a.ndim == 1 else a[: self.rows], dtype=np.float32))
            self._used.append(a)
        else:
            rows = torch.randn(self.rows, self.z, generator=self.generator, dtype=torch.float32)
            self._used.append(rows[0].numpy() if self.solver == "ode" else rows.numpy())
        x = rows[0:1].clone()
        step_noise = rows[1:, None, :].clone() if self.solver == "sde" else None
        return x, step_noise

    def used(self) -> np.ndarray:
        """The noise of the generated frames, in the layout it was given/drawn in (replayable)."""
        if self._used:
            return np.stack(self._used).astype(np.float32)
        if self.array is not None:
            return np.zeros((0, *self.array.shape[1:]), np.float32)
        return np.zeros((0, self.z) if self.solver == "ode" else (0, self.rows, self.z), np.float32)


# ---------------------------------------------------------------------------------------------- generation
@dataclass
class TextWindow:
    index: int              # window number (0-based); only the first ceil(T/5) windows carry text
    token_ids: list[int]
    frame: int              # frames generated before this window was fed
    lm_start: int           # first text-LM position of the window
    pos_start: int          # first positive TTS position of the window


@dataclass
class Result:
    latents: np.ndarray            # [F, Z] raw z per frame
    audio: np.ndarray              # [F * hop] float32, streamed decoder output
    cond_pos: np.ndarray           # [F, H] condition each frame was sampled with (positive)
    cond_neg: np.ndarray           # [F, H] (negative)
    eos_logits: np.ndarray         # [F]; NaN for a frame that was not fed (length cap)
    frame_positions: list[tuple[int | None, int | None]]  # (pos, neg) position each frame was fed at
    windows: list[TextWindow]
    stop_reason: str               # "eos" | "max_frames" | "length_cap"
    final_lengths: dict[str, int]
    prompt_lengths: dict[str, int]
    timings_ms: dict[str, float] = field(default_factory=dict)  # total per stage
    wall_s: float = 0.0


class _Timer:
    def __init__(self) -> None:
        self.total = {s: 0.0 for s in STAGES}

    def run(self, stage: str, fn, *args, **kw):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        self.total[stage] += (time.perf_counter() - t0) * 1000.0
        return out


@torch.no_grad()
def generate(model, prompt: VoicePrompt, token_ids: list[int], noise: NoiseSource, *, steps: int = 5,
             cfg_scale: float = 1.5, solver: str = "ode", max_frames: int | None = None,
             ignore_eos: bool = False, max_positions: int | None = None) -> Result:
    """The realtime loop of architecture.md §3.5 for one utterance. `max_positions` defaults to the
    config's max_position_embeddings (8192); tests lower it to exercise the length cap."""
    if not token_ids:
        raise ValueError("no text tokens to synthesize")
    if ignore_eos and max_frames is None:
        raise ValueError("ignore_eos needs max_frames")
    if max_frames is not None and max_frames < 1:
        raise ValueError("max_frames must be >= 1")
    cfg = model.cfg
    cap = cfg.max_position_embeddings if max_positions is None else max_positions
    sampler = DpmSolverPlusPlus(steps, solver)
    decoder = _streaming_decoder(model)
    timer = _Timer()
    t_start = time.perf_counter()

    lm_kv, pos_kv, neg_kv = prompt.lm_kv, prompt.tts_kv, prompt.neg_kv
    lm_len, pos_len, neg_len = prompt.lm_len, prompt.tts_len, prompt.neg_len
    prompt_lengths = {"lm": lm_len, "pos": pos_len, "neg": neg_len}
    h_pos: torch.Tensor | None = None
    h_neg = prompt.neg_hidden
    text_type, speech_type = torch.tensor([1]), torch.tensor([0])

    latents, audio, cond_pos, cond_neg, eos_logits = [], [], [], [], []
    frame_positions: list[tuple[int | None, int | None]] = []
    windows: list[TextWindow] = []
    stop: str | None = None
    w = 0
    while stop is None:
        win = token_ids[TEXT_WINDOW * w: TEXT_WINDOW * (w + 1)]
        w += 1
        if win:
            n = len(win)
            if pos_len + n > cap:
                stop = "length_cap"
                break
            windows.append(TextWindow(w - 1, list(win), len(latents), lm_len, pos_len))
            ids = torch.tensor([win], dtype=torch.long)
            hl, lm_kv = timer.run("text_lm", model.text_lm, ids, _positions(lm_len, n), lm_kv)
            lm_len += n
            hs, pos_kv = timer.run("tts_lm", model.tts_lm, hl, text_type, _positions(pos_len, n), pos_kv)
            pos_len += n
            h_pos = hs[:, -1]
            # the negative branch never sees text
        assert h_pos is not None
        for _ in range(SPEECH_WINDOW):
            f = len(latents)
            x, step_noise = noise.frame(f)
            z = timer.run("diffusion", _sample_latent, model, sampler, x, step_noise, h_pos, h_neg, cfg_scale)
            cond_pos.append(h_pos[0].clone())
            cond_neg.append(h_neg[0].clone())
            latents.append(z[0].clone())
            audio.append(timer.run("decoder", decoder.step, z[:, :, None])[0, 0])  # emitted now
            e = timer.run("connector", model.connector, z)  # the UNSCALED z
            if pos_len + 1 > cap:
                eos_logits.append(float("nan"))
                frame_positions.append((None, None))
                stop = "length_cap"
                break
            hs, pos_kv = timer.run("tts_lm", model.tts_lm, e[:, None], speech_type, _positions(pos_len, 1), pos_kv)
            h_pos = hs[:, -1]
            hs, neg_kv = timer.run("tts_lm", model.tts_lm, e[:, None], speech_type, _positions(neg_len, 1), neg_kv)
            h_neg = hs[:, -1]
            frame_positions.append((pos_len, neg_len))
            pos_len += 1
            neg_len += 1
            logit = float(model.tts_lm.eos_logit(h_pos)[0])
            eos_logits.append(logit)
            if logit > 0 and not ignore_eos:
                stop = "eos"
                break
            if max_frames is not None and len(latents) >= max_frames:
                stop = "max_frames"
                break

    return Result(
        latents=_stack(latents, (0, cfg.latent_dim)),
        audio=torch.cat(audio).numpy() if audio else np.zeros(0, np.float32),
        cond_pos=_stack(cond_pos, (0, cfg.hidden_size)),
        cond_neg=_stack(cond_neg, (0, cfg.hidden_size)),
        eos_logits=np.array(eos_logits, dtype=np.float32),
        frame_positions=frame_positions,
        windows=windows,
        stop_reason=stop,
        final_lengths={"lm": lm_len, "pos": pos_len, "neg": neg_len},
        prompt_lengths=prompt_lengths,
        timings_ms=timer.total,
        wall_s=time.perf_counter() - t_start,
    )


def _positions(start: int, n: int) -> torch.Tensor:
    return torch.arange(start, start + n, dtype=torch.long)[None]


def _stack(rows: list[torch.Tensor], empty: tuple[int, int]) -> np.ndarray:
    return torch.stack(rows).numpy().astype(np.float32) if rows else np.zeros(empty, np.float32)


def _streaming_decoder(model):
    from .modules import StreamingAcousticDecoder

    dec = StreamingAcousticDecoder(model.decoder)
    dec.reset()  # zero state per utterance; the decoder is not primed with the voice prompt
    return dec


def _sample_latent(model, sampler: DpmSolverPlusPlus, x: torch.Tensor, step_noise: torch.Tensor | None,
                   h_pos: torch.Tensor, h_neg: torch.Tensor, cfg_scale: float) -> torch.Tensor:
    """§3.6: CFG on v with one B=2 head call per step (row 0 positive, row 1 negative, same x)."""
    cond = torch.cat([h_pos, h_neg], dim=0)

    def guided_v(x: torch.Tensor, t: float) -> torch.Tensor:
        v = model.head(torch.cat([x, x], dim=0), torch.full((2,), t, dtype=torch.float32), cond)
        v_c, v_u = v[0:1], v[1:2]
        return v_u + cfg_scale * (v_c - v_u)

    return sampler.sample(guided_v, x, step_noise)


# ---------------------------------------------------------------------------------------------- outputs
def pcm16(audio: np.ndarray) -> np.ndarray:
    """Clip to [−1, 1] and round(x·32767) (the file demo's conversion)."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def write_wav(path: Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """24 kHz mono 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm16(audio).tobytes())


def trace_dict(res: Result, *, args_info: dict, hop: int, timings: bool) -> dict:
    """trace.json: everything a parity test needs to line up the C++ engine's loop with this one."""
    f = len(res.latents)
    d = {
        "frames": f,
        "samples": int(res.audio.shape[0]),
        "seconds": res.audio.shape[0] / SAMPLE_RATE,
        "hop_length": hop,
        "sample_rate": SAMPLE_RATE,
        "stop_reason": res.stop_reason,
        **args_info,
        "prompt_lengths": res.prompt_lengths,
        "final_lengths": res.final_lengths,
        "text_tokens": sum(len(w.token_ids) for w in res.windows),
        "windows": [{"index": w.index, "token_ids": w.token_ids, "frame": w.frame, "lm_start": w.lm_start,
                     "pos_start": w.pos_start} for w in res.windows],
        "frame_positions": [list(p) for p in res.frame_positions],
        "wall_s": res.wall_s,
    }
    if timings:
        d["timings_ms_per_frame"] = {k: (v / f if f else 0.0) for k, v in res.timings_ms.items()}
        d["timings_ms_total"] = dict(res.timings_ms)
    return d


# ---------------------------------------------------------------------------------------------- CLI
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, type=Path, help="HF-style checkpoint dir (config.json + "
                   "model.safetensors)")
    p.add_argument("--voice", required=True, type=Path, help="official-format voice preset .pt")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="text to speak")
    text.add_argument("--text-file", type=Path, help="UTF-8 file with the text to speak")
    p.add_argument("--tokenizer", required=True, type=Path, help="Qwen2.5 tokenizer.json")
    p.add_argument("--steps", type=int, default=5, help="diffusion steps (default 5)")
    p.add_argument("--cfg", type=float, default=1.5, help="classifier-free guidance scale (default 1.5)")
    p.add_argument("--solver", choices=SOLVERS, default="ode", help="ode = DPM-Solver++, sde = SDE-DPM-Solver++")
    p.add_argument("--seed", type=int, default=0, help="seed of the torch.Generator noise (default 0)")
    p.add_argument("--noise", type=Path, help="inject noise: float32 [F, Z] or [F, N, Z] .npy (see module doc)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--ignore-eos", action="store_true", help="keep generating until --max-frames (benchmarks)")
    p.add_argument("--out-latents", type=Path, help="raw latents [F, Z] float32 .npy")
    p.add_argument("--out-wav", type=Path, help="24 kHz mono 16-bit WAV")
    p.add_argument("--out-dir", type=Path, help="write latents/audio/cond_pos/cond_neg/eos_logits/noise .npy, "
                   "audio.wav and trace.json")
    p.add_argument("--timings", action="store_true", help="per-stage timings in trace.json and on stderr")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")


def _load_inputs(args: argparse.Namespace):
    if args.steps < 1:
        raise CliError(f"--steps must be >= 1 (got {args.steps})", EXIT_USAGE)
    if args.max_frames is not None and args.max_frames < 1:
        raise CliError(f"--max-frames must be >= 1 (got {args.max_frames})", EXIT_USAGE)
    if args.ignore_eos and args.max_frames is None:
        raise CliError("--ignore-eos needs --max-frames (otherwise generation would never stop)", EXIT_USAGE)
    text = read_text_arg(args)
    if not args.tokenizer.is_file():
        raise CliError(f"tokenizer file not found: {args.tokenizer}", EXIT_MODEL)
    if not args.voice.is_file():
        raise CliError(f"voice file not found: {args.voice}", EXIT_MODEL)
    noise_array = None
    if args.noise is not None:
        try:
            noise_array = np.load(args.noise, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise CliError(f"cannot read --noise {args.noise}: {e}", EXIT_INPUT) from None

    from . import textprep

    try:
        ids = textprep.encode(args.tokenizer, text)
    except Exception as e:  # tokenizers raises its own exception types
        raise CliError(f"cannot tokenize with {args.tokenizer}: {e}", EXIT_MODEL) from None

    from .modules import VibeVoice

    try:
        model = VibeVoice.from_checkpoint(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:  # CheckpointError is a ValueError
        raise CliError(f"cannot load checkpoint: {e}", EXIT_MODEL) from None

    from .voices import check_fits, load_pt_preset

    try:
        preset = load_pt_preset(args.voice)
        check_fits(preset, model.cfg, args.voice)
        prompt = VoicePrompt.from_preset(preset, model.cfg)
    except Exception as e:  # the safe unpickler raises several types for a bad file
        where = "" if str(args.voice) in str(e) else f" {args.voice}"
        raise CliError(f"cannot use voice{where}: {e}", EXIT_MODEL) from None

    try:
        noise = NoiseSource(args.steps, args.solver, model.cfg.latent_dim, noise_array, args.seed)
    except ValueError as e:
        raise CliError(f"--noise {args.noise}: {e}", EXIT_INPUT) from None
    return model, prompt, ids, noise


def run(args: argparse.Namespace) -> int:
    # CliError is reported here rather than by cli.main: under `python -m vibevoice_onnx.cli` that module
    # is `__main__`, whose CliError class is not the one imported here, so cli.main would not catch ours.
    try:
        return _run(args)
    except CliError as e:
        print(f"vibevoice-onnx reference: error: {e}", file=sys.stderr)
        return e.code


def _run(args: argparse.Namespace) -> int:
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, prompt, ids, noise = _load_inputs(args)
    try:
        res = generate(model, prompt, ids, noise, steps=args.steps, cfg_scale=args.cfg, solver=args.solver,
                       max_frames=args.max_frames, ignore_eos=args.ignore_eos)
    except NoiseExhausted as e:
        raise CliError(f"--noise {args.noise}: {e}", EXIT_INPUT) from None

    hop = model.cfg.hop_length
    if args.out_latents:
        np.save(args.out_latents, res.latents)
    if args.out_wav:
        write_wav(args.out_wav, res.audio)
    if args.out_dir:
        d = args.out_dir
        d.mkdir(parents=True, exist_ok=True)
        for name, arr in (("latents", res.latents), ("audio", res.audio), ("cond_pos", res.cond_pos),
                          ("cond_neg", res.cond_neg), ("eos_logits", res.eos_logits), ("noise", noise.used())):
            np.save(d / f"{name}.npy", arr)
        write_wav(d / "audio.wav", res.audio)
        info = {"steps": args.steps, "cfg_scale": args.cfg, "solver": args.solver,
                "noise": "file" if args.noise else "seed", "seed": None if args.noise else args.seed,
                "max_frames": args.max_frames, "ignore_eos": args.ignore_eos}
        trace = trace_dict(res, args_info=info, hop=hop, timings=args.timings)
        (d / "trace.json").write_text(json.dumps(trace, indent=1) + "\n")

    f = len(res.latents)
    print(f"reference: {f} frames, {res.audio.shape[0] / SAMPLE_RATE:.2f} s of audio, stop: {res.stop_reason} "
          f"({len(ids)} text tokens in {len(res.windows)} windows, {res.wall_s:.2f} s wall)", file=sys.stderr)
    if args.timings and f:
        parts = ", ".join(f"{k} {v / f:.2f}" for k, v in res.timings_ms.items())
        print(f"reference: ms per frame: {parts}", file=sys.stderr)
    return 0
