"""Assembles bench/results/latest.json from the raw outputs of bench/run.sh and prints the table.

    python bench/compare.py --work build/bench/run --frames 150 --out bench/results/latest.json

Reads from --work: membw.json (vv_bench membw), e2e-<prec>.json + stages-<prec>.json + audio-<prec>.npy
(engine in its default configuration, prec in fp32/int8/int4/fp16), baseline-<prec>.json +
baseline-audio-<prec>.npy (the former default: all cores, decoder inline, 1-frame chunks), ref.json +
ref-audio.npy (PyTorch reference), lever-*.json (optional lever runs), profile-<name>.json +
profile-audio-<name>.npy (per-graph precision profiles), meta.json (cpu, load average); from --art the model
directories, for the weight bytes read per frame.

floor_ms_per_frame (per precision): the weight bytes the loop reads per frame divided by the measured 2-thread
read bandwidth, plus the decoder's per-frame compute. Bytes per frame: TTS LM (speech step) + (text LM +
TTS LM) x windows/frames (text windows) + steps x diffusion head + connector + decoder / frames-per-call
(the default run's average chunk), each graph's initializers without the Gather-only tables (embeddings:
only the used rows are read). Decoder compute per frame: (t(window) - t(1)) / (window - 1) from the stages
run (t(K) = per-call weight reading + K x compute). snr_db_vs_fp32: audio SNR against the engine's fp32 audio (same injected noise); for the
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


def weight_bytes(path: Path) -> int:
    """Bytes of the initializers a call reads: all but those only gathered from (embedding tables)."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    gathered = {n.input[0] for n in m.graph.node if n.op_type == "Gather"}
    others = {i for n in m.graph.node if n.op_type != "Gather" for i in n.input}
    total = 0
    for t in m.graph.initializer:
        if t.name in gathered and t.name not in others:
            continue
        n = int(np.prod(t.dims)) if t.dims else 1
        total += n * onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    return total


def floor_ms(art: Path | None, prec: str, e2e: dict, st: dict | None, w: Path) -> float | None:
    membw = (load(w / "membw.json") or {}).get("read_gb_s") or {}
    if art is None or not st or not membw or not e2e.get("chunks"):
        return None
    d = art / ("model" if prec == "fp32" else f"model-{prec}")
    if not (d / "vibevoice.json").is_file():
        return None
    manifest = json.loads((d / "vibevoice.json").read_text())
    b = {k: weight_bytes(d / v["file"]) for k, v in manifest["graphs"].items()}
    frames, windows = e2e["frames"], max(1, e2e.get("text_windows") or 1)
    per_call = frames / e2e["chunks"]
    bytes_per_frame = (b["tts_lm"] + windows / frames * (b["text_lm"] + b["tts_lm"]) + 5 * b["diffusion_head"]
                       + b["connector"] + b["acoustic_decoder"] / per_call)
    gb_s = max(float(v) for v in membw.values())
    calls, win = st.get("ms_per_call", {}), manifest["speech_window"]
    compute = max(0.0, (calls.get("decoder_window", 0) - calls.get("decoder", 0)) / (win - 1))
    return round(bytes_per_frame / (gb_s * 1e9) * 1e3 + compute, 1)


def load(p: Path):
    return json.loads(p.read_text()) if p.is_file() else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--art", type=Path, default=None, help="model directories (for floor_ms_per_frame)")
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
               "ms_per_frame": e2e["ms_per_frame"], "frames_run": e2e["frames"], "config": "default",
               "chunks": e2e.get("chunks"), "floor_ms_per_frame": floor_ms(a.art, prec, e2e, st, w)}
        base = load(w / f"baseline-{prec}.json")
        if base is not None:
            same = None
            if (w / f"audio-{prec}.npy").is_file() and (w / f"baseline-audio-{prec}.npy").is_file():
                same = bool(np.array_equal(np.load(w / f"audio-{prec}.npy"), np.load(w / f"baseline-audio-{prec}.npy")))
            run["vs_baseline"] = {"ms_per_frame": round(e2e["ms_per_frame"] / base["ms_per_frame"], 3),
                                  "first_chunk": round(e2e["first_chunk_ms"] / base["first_chunk_ms"], 3),
                                  "audio_identical": same}
            runs.append({**run, "config": "baseline", "load_s": base["load_s"],
                         "first_chunk_ms": base["first_chunk_ms"], "rtf": base["rtf"],
                         "peak_rss_mb": base["peak_rss_mb"], "ms_per_frame": base["ms_per_frame"],
                         "chunks": base.get("chunks"), "threads": meta.get("threads"), "chunk": 1,
                         "vs_baseline": None, "floor_ms_per_frame": None})
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
                     "threads": ref.get("torch_threads"), "chunk": 1, "config": "reference"})
    for p in sorted(w.glob("profile-*.json")):
        d, name = load(p), p.stem[len("profile-"):]
        audio = w / f"profile-audio-{name}.npy"
        snr = snr_db(fp32_audio, np.load(audio)) if fp32_audio is not None and audio.is_file() else None
        runs.append({"engine": "vibevoice-onnx", "precision": name, "config": f"profile:{name}",
                     "load_s": d["load_s"], "first_chunk_ms": d["first_chunk_ms"], "rtf": d["rtf"],
                     "peak_rss_mb": d["peak_rss_mb"], "stages_ms_per_frame": {}, "snr_db_vs_fp32": snr,
                     "ms_per_frame": d["ms_per_frame"], "frames_run": d["frames"], "chunks": d.get("chunks")})
    levers = []
    for p in sorted(w.glob("lever-*.json")):
        d = load(p)
        levers.append({"name": p.stem[len("lever-"):], "config": p.stem[len("lever-"):], **{k: d[k] for k in
                       ("rtf", "ms_per_frame", "first_chunk_ms", "load_s", "peak_rss_mb", "chunks") if k in d}})
    batching = {p.stem[len("batch-"):]: load(p) for p in sorted(w.glob("batch-*.json"))}
    membw = (load(w / "membw.json") or {}).get("read_gb_s")
    out = {"cpu": meta.get("cpu", "unknown"), "cores": meta.get("cores", 0), "frames": a.frames, "steps": 5,
           "cfg": 1.5, "runs": runs, "load_avg": meta.get("load_avg"), "levers": levers,
           "excluded_runs": excluded, "date": meta.get("date"), "memory_read_gb_s": membw,
           "batching": batching}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n")

    # ---- table
    ref_ms = ref["ms_per_frame"] if ref else None
    print(f"\nCPU {out['cpu']} ({out['cores']} cores), load average {out['load_avg']}, {a.frames} frames, "
          f"5 steps, cfg 1.5")
    if membw:
        print("memory read bandwidth: " + ", ".join(f"{v} GB/s ({k} thr)" for k, v in membw.items()))
    hdr = (f"{'engine':<18} {'prec':<5} {'config':<9} {'load s':>7} {'1st chunk ms':>12} {'RTF':>7} {'ms/frame':>9} "
           f"{'x PyTorch':>9} {'RSS MB':>8} {'SNR dB':>7}  stages ms/frame")
    print(hdr)
    print("-" * len(hdr))
    for r in runs:
        sp = f"{ref_ms / r['ms_per_frame']:.1f}x" if ref_ms else "-"
        stages = " ".join(f"{k}={v:.1f}" for k, v in r["stages_ms_per_frame"].items())
        snr = "-" if r["snr_db_vs_fp32"] is None else f"{r['snr_db_vs_fp32']:.1f}"
        print(f"{r['engine']:<18} {r['precision']:<5} {r['config'][:9]:<9} {r['load_s']:>7.2f} {r['first_chunk_ms']:>12.0f} "
              f"{r['rtf']:>7.3f} {r['ms_per_frame']:>9.1f} {sp:>9} {r['peak_rss_mb']:>8.0f} {snr:>7}  {stages}")
    for r in runs:
        if r.get("vs_baseline"):
            v = r["vs_baseline"]
            print(f"{r['precision']} default vs baseline: ms/frame x{v['ms_per_frame']}, first chunk "
                  f"x{v['first_chunk']}, audio identical: {v['audio_identical']}")
        if r.get("floor_ms_per_frame") and r["config"] == "default":
            print(f"{r['precision']} floor {r['floor_ms_per_frame']:.1f} ms/frame: default at "
                  f"{r['ms_per_frame'] / r['floor_ms_per_frame']:.2f}x of it")
    for r in excluded:
        print(f"(excluded: {r['precision']} RTF {r['rtf']:.3f} — {r['why']})")
    if levers:
        print("\nlevers (engine):")
        for l in levers:
            print(f"  {l['name']:<24} RTF {l.get('rtf', float('nan')):.3f}  ms/frame {l.get('ms_per_frame', 0):.1f}"
                  f"  first chunk {l.get('first_chunk_ms', 0):.0f} ms")
    for prec, b in batching.items():
        print(f"\nbatching ({prec}, speech step / head call in ms; identical = each stream's outputs bitwise):")
        for k in b["streams"]:
            print(f"  K={k['k']}  speech step {k['speech_step_ms']['separate']:.1f} -> {k['speech_step_ms']['batched']:.1f}"
                  f" (ragged identical: {k['speech_step']['identical']}, max diff {k['speech_step']['max_abs_diff']:.2g};"
                  f" aligned identical: {k['speech_step_aligned']['identical']})  head {k['head_ms']['separate']:.2f}"
                  f" -> {k['head_ms']['batched']:.2f} (identical: {k['head']['identical']})"
                  f"  projected gain x{k['projected_gain']:.2f} (head only x{k['projected_gain_head_only']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
