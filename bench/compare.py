"""Assembles bench/results/latest.json from the raw outputs of bench/run.sh and prints the table.

    python bench/compare.py --work build/bench/run --frames 150 --out bench/results/latest.json

Reads from --work: membw.json (vv_bench membw), e2e-<prec>.json + stages-<prec>.json + audio-<prec>.npy
(engine, prec in fp32/int8/int4/fp16),
ref.json + ref-audio.npy (PyTorch reference), lever-*.json (optional lever runs), meta.json (cpu, load
average). snr_db_vs_fp32: audio SNR against the engine's fp32 audio (same injected noise); for the
PyTorch row it is the SNR of the engine fp32 audio against the PyTorch audio (a parity figure), over the
frames both produced.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

PRECISIONS = ("fp32", "int8", "int4", "fp16")


def snr_db(ref: np.ndarray, x: np.ndarray) -> float | None:
    n = min(len(ref), len(x))
    if n == 0:
        return None
    ref, x = ref[:n].astype(np.float64), x[:n].astype(np.float64)
    err = float(np.sum((x - ref) ** 2))
    sig = float(np.sum(ref ** 2))
    if err == 0:
        return float("inf")
    return round(10 * np.log10(sig / err), 2)


def load(p: Path):
    return json.loads(p.read_text()) if p.is_file() else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    w = a.work
    meta = load(w / "meta.json") or {}
    runs, excluded = [], []
    fp32_audio = np.load(w / "audio-fp32.npy") if (w / "audio-fp32.npy").is_file() else None
    fp32_rtf = None
    for prec in PRECISIONS:
        e2e, st = load(w / f"e2e-{prec}.json"), load(w / f"stages-{prec}.json")
        if e2e is None:
            continue
        snr = None
        if prec != "fp32" and fp32_audio is not None and (w / f"audio-{prec}.npy").is_file():
            snr = snr_db(fp32_audio, np.load(w / f"audio-{prec}.npy"))
        run = {"engine": "vibevoice-onnx", "precision": prec, "load_s": e2e["load_s"],
               "first_chunk_ms": e2e["first_chunk_ms"], "rtf": e2e["rtf"], "peak_rss_mb": e2e["peak_rss_mb"],
               "stages_ms_per_frame": (st or {}).get("stages_ms_per_frame", {}), "snr_db_vs_fp32": snr,
               "ms_per_frame": e2e["ms_per_frame"], "frames_run": e2e["frames"],
               "threads": meta.get("threads"), "chunk": 1}
        if prec == "fp32":
            fp32_rtf = e2e["rtf"]
        if prec == "fp16" and fp32_rtf is not None and e2e["rtf"] > fp32_rtf:
            excluded.append({**run, "why": "slower than fp32"})
            continue
        runs.append(run)
    ref = load(w / "ref.json")
    if ref is not None:
        snr = None
        if fp32_audio is not None and (w / "ref-audio.npy").is_file():
            snr = snr_db(np.load(w / "ref-audio.npy"), fp32_audio)
        runs.append({"engine": "pytorch-reference", "precision": "fp32", "load_s": ref["load_s"],
                     "first_chunk_ms": ref["first_chunk_ms"], "rtf": ref["rtf"], "peak_rss_mb": ref["peak_rss_mb"],
                     "stages_ms_per_frame": ref["stages_ms_per_frame"], "snr_db_vs_fp32": snr,
                     "ms_per_frame": ref["ms_per_frame"], "frames_run": ref["frames"],
                     "threads": ref.get("torch_threads"), "chunk": 1})
    levers = []
    for p in sorted(w.glob("lever-*.json")):
        d = load(p)
        levers.append({"name": p.stem[len("lever-"):], **{k: d[k] for k in
                       ("rtf", "ms_per_frame", "first_chunk_ms", "load_s", "peak_rss_mb") if k in d}})
    membw = (load(w / "membw.json") or {}).get("read_gb_s")
    out = {"cpu": meta.get("cpu", "unknown"), "cores": meta.get("cores", 0), "frames": a.frames, "steps": 5,
           "cfg": 1.5, "runs": runs, "load_avg": meta.get("load_avg"), "levers": levers,
           "excluded_runs": excluded, "date": meta.get("date"), "memory_read_gb_s": membw}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n")

    # ---- table
    ref_ms = ref["ms_per_frame"] if ref else None
    print(f"\nCPU {out['cpu']} ({out['cores']} cores), load average {out['load_avg']}, {a.frames} frames, "
          f"5 steps, cfg 1.5")
    if membw:
        print("memory read bandwidth: " + ", ".join(f"{v} GB/s ({k} thr)" for k, v in membw.items()))
    hdr = (f"{'engine':<18} {'prec':<5} {'load s':>7} {'1st chunk ms':>12} {'RTF':>7} {'ms/frame':>9} "
           f"{'x PyTorch':>9} {'RSS MB':>8} {'SNR dB':>7}  stages ms/frame")
    print(hdr)
    print("-" * len(hdr))
    for r in runs:
        sp = f"{ref_ms / r['ms_per_frame']:.1f}x" if ref_ms else "-"
        stages = " ".join(f"{k}={v:.1f}" for k, v in r["stages_ms_per_frame"].items())
        snr = "-" if r["snr_db_vs_fp32"] is None else f"{r['snr_db_vs_fp32']:.1f}"
        print(f"{r['engine']:<18} {r['precision']:<5} {r['load_s']:>7.2f} {r['first_chunk_ms']:>12.0f} "
              f"{r['rtf']:>7.3f} {r['ms_per_frame']:>9.1f} {sp:>9} {r['peak_rss_mb']:>8.0f} {snr:>7}  {stages}")
    for r in excluded:
        print(f"(excluded: {r['precision']} RTF {r['rtf']:.3f} — {r['why']})")
    if levers:
        print("\nlevers (engine):")
        for l in levers:
            print(f"  {l['name']:<24} RTF {l.get('rtf', float('nan')):.3f}  ms/frame {l.get('ms_per_frame', 0):.1f}"
                  f"  first chunk {l.get('first_chunk_ms', 0):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
