"""Where one graph call's time goes: ORT's own profiler on one graph of a model directory, summed per op
type (kernel time), with the session overhead (wall time minus kernel time) and, for the weight-bearing
nodes, the time per node-name group (q_proj, gate_proj, ...) beside the time to read their weights at a
given memory bandwidth.

    build/venv/bin/python bench/profile_graph.py --model build/artifacts/full/model-int8 --graph tts_lm \
        [--batch 2 --seq 1 --past 200 --frames 1 --threads 2 --runs 30 --read-gb-s 21.2 --json OUT.json]

Inputs are synthetic and shaped from the graph's own input declarations: symbolic dims batch, seq,
past_seq, total_seq (= past + seq) and frames; position_ids continue the cache, attention masks are all
ones, timesteps are 500, everything else is small uniform noise (the kernels' cost does not depend on the
values). The session options are the engine's (ORT_ENABLE_ALL, intra-op threads = --threads).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

WEIGHT_OPS = {"MatMulNBits", "MatMul", "Gemm", "Conv", "ConvTranspose", "FusedMatMul", "FusedConv"}


def feeds(sess: ort.InferenceSession, a: argparse.Namespace) -> dict[str, np.ndarray]:
    dims = {"batch": a.batch, "seq": a.seq, "past_seq": a.past, "total_seq": a.past + a.seq, "frames": a.frames}
    rng = np.random.default_rng(0)
    out = {}
    for i in sess.get_inputs():
        shape = []
        for d in i.shape:
            if isinstance(d, int):
                shape.append(d)
            elif d in dims:
                shape.append(dims[d])
            else:
                raise SystemExit(f"profile_graph: input {i.name} has an unknown symbolic dim '{d}'")
        if i.type == "tensor(int64)":
            if i.name == "position_ids":
                v = np.broadcast_to(a.past + np.arange(shape[-1]), shape)
            elif i.name == "attention_mask":
                v = np.ones(shape)
            else:
                v = np.zeros(shape)
            out[i.name] = np.ascontiguousarray(v, dtype=np.int64)
        elif i.name == "timestep":
            out[i.name] = np.full(shape, 500.0, np.float32)
        else:
            out[i.name] = (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return out


def weight_bytes(model_path: Path) -> dict[str, int]:
    """Bytes of the constant inputs of each weight-bearing node, by node name."""
    m = onnx.load(str(model_path), load_external_data=False)
    sizes = {}
    for t in m.graph.initializer:
        n = int(np.prod(t.dims)) if t.dims else 1
        sizes[t.name] = n * onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    return {n.name: sum(sizes.get(x, 0) for x in n.input) for n in m.graph.node if n.op_type in WEIGHT_OPS}


def group_of(node: str) -> str:
    """`tts.l3.gate_proj/MatMulNBits` -> `gate_proj`: the node name without its layer index."""
    parts = [p for p in re.split(r"[./]", node) if p and not re.fullmatch(r"l?\d+|layers?|MatMul\w*", p)]
    return parts[-1] if parts else node


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--graph", required=True, help="graph name: text_lm, tts_lm, diffusion_head, ...")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=1)
    ap.add_argument("--past", type=int, default=200)
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--read-gb-s", type=float, default=None, help="memory read bandwidth (vv_bench membw)")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    path = a.model / f"{a.graph}.onnx"
    if not path.is_file():
        raise SystemExit(f"profile_graph: {path} does not exist")

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = a.threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    with tempfile.TemporaryDirectory() as tmp:
        so.enable_profiling, so.profile_file_prefix = True, str(Path(tmp) / "prof")
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        feed = feeds(sess, a)
        for _ in range(5):
            sess.run(None, feed)
        wall = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            sess.run(None, feed)
            wall.append((time.perf_counter() - t0) * 1e3)
        events = json.loads(Path(sess.end_profiling()).read_text())
    runs = sum(1 for e in events if e.get("cat") == "Session" and e["name"] == "model_run")
    by_op, count, by_node = collections.defaultdict(float), collections.Counter(), collections.defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op, node = e["args"]["op_name"], e["name"][: -len("_kernel_time")]
            by_op[op] += e["dur"] / 1e3 / runs
            count[op] += 1
            if op in WEIGHT_OPS:
                by_node[node] += e["dur"] / 1e3 / runs
    kernel_ms = sum(by_op.values())
    wall_ms = float(np.median(wall))
    wbytes = weight_bytes(path)
    groups: dict[str, dict] = {}
    for node, ms in by_node.items():
        g = groups.setdefault(group_of(node), {"nodes": 0, "ms": 0.0, "weight_mb": 0.0})
        g["nodes"] += 1
        g["ms"] += ms
        g["weight_mb"] += wbytes.get(node, 0) / 1e6
    for g in groups.values():
        if a.read_gb_s:
            g["read_ms"] = g["weight_mb"] / a.read_gb_s
    total_mb = sum(g["weight_mb"] for g in groups.values())
    out = {"model": str(a.model), "graph": a.graph, "batch": a.batch, "seq": a.seq, "past": a.past,
           "threads": a.threads, "wall_ms": round(wall_ms, 3), "kernel_ms": round(kernel_ms, 3),
           "overhead_ms": round(wall_ms - kernel_ms, 3), "nodes": sum(count.values()) // runs,
           "weight_mb": round(total_mb, 3), "read_gb_s": a.read_gb_s,
           "weight_read_ms": round(total_mb / a.read_gb_s, 3) if a.read_gb_s else None,
           "ops": {op: {"ms": round(ms, 3), "nodes": count[op] // runs}
                   for op, ms in sorted(by_op.items(), key=lambda x: -x[1])},
           "weight_groups": {k: {kk: round(vv, 3) if isinstance(vv, float) else vv for kk, vv in g.items()}
                             for k, g in sorted(groups.items(), key=lambda x: -x[1]["ms"])}}
    read = f" ({out['weight_read_ms']:.2f} ms to read at {a.read_gb_s} GB/s)" if a.read_gb_s else ""
    print(f"{a.graph} B={a.batch} T={a.seq} P={a.past}, {a.threads} threads: wall {wall_ms:.2f} ms, kernels "
          f"{kernel_ms:.2f} ms, session overhead {wall_ms - kernel_ms:.2f} ms, {out['nodes']} nodes, weights "
          f"{total_mb:.0f} MB{read}")
    for op, d in list(out["ops"].items())[:12]:
        print(f"  {op:<30} {d['ms']:8.3f} ms  {d['nodes']:4d} nodes")
    print("  weight-bearing nodes by name:")
    for k, g in out["weight_groups"].items():
        read = f"  read {g['read_ms']:.3f} ms" if "read_ms" in g else ""
        print(f"  {k:<30} {g['ms']:8.3f} ms  {g['nodes']:4d} nodes  {g['weight_mb']:8.1f} MB{read}")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
