"""PyTorch reference side of bench/run.sh: the same measurements as `vv_bench e2e`, for
`vibevoice_onnx.reference` (fp32, eager PyTorch).

    python bench/ref_bench.py --checkpoint CKPT --voice V.pt --tokenizer T --text-file F --frames 150
                              --noise N.npy --threads 2 --out-audio A.npy --json OUT.json

Uses the reference module's own loading and generation loop (`reference._load_inputs`, `reference.generate`);
the only addition is a timestamp when the streaming decoder emits its first frame (first-chunk latency),
obtained by wrapping `reference._streaming_decoder`. Per-stage timings are the reference's own
`timings_ms` (per frame). Peak RSS is this process's ru_maxrss.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--voice", type=Path, required=True)
    p.add_argument("--tokenizer", type=Path, required=True)
    p.add_argument("--text-file", type=Path, required=True)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--cfg", type=float, default=1.5)
    p.add_argument("--noise", type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out-audio", type=Path)
    p.add_argument("--json", type=Path)
    a = p.parse_args()

    import torch

    from vibevoice_onnx import reference as ref

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    rp = argparse.ArgumentParser()
    ref.add_arguments(rp)
    argv = ["--checkpoint", str(a.checkpoint), "--voice", str(a.voice), "--tokenizer", str(a.tokenizer),
            "--text-file", str(a.text_file), "--steps", str(a.steps), "--cfg", str(a.cfg),
            "--max-frames", str(a.frames), "--ignore-eos", "--threads", str(a.threads)]
    if a.noise:
        argv += ["--noise", str(a.noise)]
    rargs = rp.parse_args(argv)

    t0 = time.perf_counter()
    model, prompt, ids, noise = ref._load_inputs(rargs)
    load_s = time.perf_counter() - t0

    # warm-up: one frame with a seeded noise source (same as the engine benchmark)
    warm_noise = ref.NoiseSource(a.steps, "ode", model.cfg.latent_dim, None, 0)
    tw = time.perf_counter()
    ref.generate(model, prompt, ids, warm_noise, steps=a.steps, cfg_scale=a.cfg, max_frames=1, ignore_eos=True)
    warmup_ms = (time.perf_counter() - tw) * 1000

    first = {}
    orig = ref._streaming_decoder

    def timed_decoder(m):
        dec = orig(m)
        step = dec.step

        def step_and_stamp(*args, **kw):
            out = step(*args, **kw)
            first.setdefault("t", time.perf_counter())
            return out

        dec.step = step_and_stamp
        return dec

    ref._streaming_decoder = timed_decoder
    ts = time.perf_counter()
    res = ref.generate(model, prompt, ids, noise, steps=a.steps, cfg_scale=a.cfg, max_frames=a.frames,
                       ignore_eos=True)
    total_ms = (time.perf_counter() - ts) * 1000
    ref._streaming_decoder = orig

    f = len(res.latents)
    audio_s = res.audio.shape[0] / ref.SAMPLE_RATE
    if a.out_audio:
        np.save(a.out_audio, res.audio.astype(np.float32))
    out = {
        "load_s": round(load_s, 3), "warmup_ms": round(warmup_ms, 1),
        "first_chunk_ms": round((first["t"] - ts) * 1000, 1), "total_ms": round(total_ms, 1),
        "frames": f, "audio_s": round(audio_s, 3), "rtf": round(total_ms / 1000 / audio_s, 4),
        "ms_per_frame": round(total_ms / f, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "text_windows": len(res.windows), "stop_reason": res.stop_reason,
        "stages_ms_per_frame": {k: round(v / f, 3) for k, v in res.timings_ms.items()},
        "torch_threads": torch.get_num_threads(),
    }
    s = json.dumps(out)
    print(s)
    if a.json:
        a.json.write_text(s + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
