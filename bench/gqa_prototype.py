"""Would a fused TTS LM graph pay? A prototype of the TTS LM built with com.microsoft.GroupQueryAttention
(KV buffers shared between past and present, so no per-step copy of the cache; rotary embedding inside the
op), optionally with q/k/v and gate/up each fused into one projection, timed against the exported graph on
one speech step (B = 2 CFG rows, T = 1, P cached positions), fp32 and int8 (the project's quantizer), both
through IoBinding (no numpy copies), and checked against it: the prototype's last hidden state must equal
the exported graph's to float rounding (fp32).

    build/venv/bin/python bench/gqa_prototype.py --checkpoint build/artifacts/full/checkpoint \
        --fp32 build/artifacts/full/model --int8 build/artifacts/full/model-int8 [--past 200 --threads 2]

The prototype is not the product: it has no EOS head, text windows or ragged rows (the engine's negative
branch with holes would need compact rows and per-row lengths). It measures the lever before building it.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto
from vibevoice_onnx.weights import load_checkpoint, TTS_LM, TYPES
from vibevoice_onnx.graphs.builder import GraphBuilder, FLOAT, INT64, save_model
from vibevoice_onnx.graphs.qwen import npw, rope_inv_freq
from vibevoice_onnx.quantize import to_nbits

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--checkpoint", type=Path, required=True)
ap.add_argument("--fp32", type=Path, required=True, help="exported model directory (fp32)")
ap.add_argument("--int8", type=Path, required=True, help="the same, quantized to int8")
ap.add_argument("--past", type=int, default=200)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=40)
ap.add_argument("--json", type=Path, default=None)
args = ap.parse_args()
cfg, W = load_checkpoint(args.checkpoint)
NH, KVH, D, H = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
MAXLEN, L = args.past + 64, cfg.tts_layers
INT32 = TensorProto.INT32


def build(fuse: bool) -> onnx.ModelProto:
    g = GraphBuilder("tts_gqa")
    x = g.input("inputs_embeds", FLOAT, ["batch", "seq", H])
    type_id = g.input("type_id", INT64, ["batch"])
    seqlens = g.input("seqlens_k", INT32, ["batch"])
    total = g.input("total_sequence_length", INT32, [])
    te = g.gather(g.weight(npw(W, TYPES), "types"), type_id, 0, "te")
    x = g.add(x, g.unsqueeze(te, [1], "te3"), "x0")
    pos = np.arange(MAXLEN, dtype=np.float32)[:, None]
    ang = (pos * rope_inv_freq(D, cfg.rope_theta)[None, :]).astype(np.float32)
    cos, sin = g.weight(np.cos(ang), "cos_cache"), g.weight(np.sin(ang), "sin_cache")
    for l in range(L):
        def w(name: str, p: str = f"{TTS_LM}layers.{l}.") -> np.ndarray:
            return npw(W, p + name)

        pk = g.input(f"past_key_{l}", FLOAT, ["batch", KVH, "max_seq", D])
        pv = g.input(f"past_value_{l}", FLOAT, ["batch", KVH, "max_seq", D])
        hn = g.rms_norm(x, w("input_layernorm.weight"), cfg.rms_norm_eps, f"l{l}.in")
        if fuse:
            wq = np.concatenate([w(f"self_attn.{n}_proj.weight") for n in "qkv"], 0)
            bq = np.concatenate([w(f"self_attn.{n}_proj.bias") for n in "qkv"], 0)
            ins = [g.linear(hn, wq, bq, f"l{l}.qkv"), "", ""]  # packed QKV: key and value inputs empty
        else:
            ins = [g.linear(hn, w(f"self_attn.{n}_proj.weight"), w(f"self_attn.{n}_proj.bias"), f"l{l}.{n}")
                   for n in "qkv"]
        a, k, v = g.op("GroupQueryAttention", ins + [pk, pv, seqlens, total, cos, sin], f"l{l}.gqa", n_out=3,
                       domain="com.microsoft", num_heads=NH, kv_num_heads=KVH, do_rotary=1, rotary_interleaved=0)
        g.output(k, f"present_key_{l}", FLOAT, ["batch", KVH, "max_seq", D])
        g.output(v, f"present_value_{l}", FLOAT, ["batch", KVH, "max_seq", D])
        x = g.add(x, g.linear(a, w("self_attn.o_proj.weight"), None, f"l{l}.o"), f"l{l}.r1")
        hn = g.rms_norm(x, w("post_attention_layernorm.weight"), cfg.rms_norm_eps, f"l{l}.post")
        if fuse:
            wgu = np.concatenate([w("mlp.gate_proj.weight"), w("mlp.up_proj.weight")], 0)
            gu = g.linear(hn, wgu, None, f"l{l}.gu")
            gate, up = g.split(gu, [w("mlp.up_proj.weight").shape[0]] * 2, -1, f"l{l}.gus")
        else:
            gate = g.linear(hn, w("mlp.gate_proj.weight"), None, f"l{l}.g")
            up = g.linear(hn, w("mlp.up_proj.weight"), None, f"l{l}.u")
        glu = g.mul(g.silu(gate, f"l{l}.act"), up, f"l{l}.glu")
        x = g.add(x, g.linear(glu, w("mlp.down_proj.weight"), None, f"l{l}.d"), f"l{l}.r2")
    last = g.gather(x, g.const(-1, np.int64, "li"), 1, "last")
    last = g.rms_norm(last, npw(W, TTS_LM + "norm.weight"), cfg.rms_norm_eps, "final_norm")
    g.output(last, "last_hidden", FLOAT, ["batch", H])
    m = g.model()
    m.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    return m


def sess(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


B, P = 2, args.past
rng = np.random.default_rng(0)
emb = (0.1 * rng.standard_normal((B, 1, H))).astype(np.float32)
past = [(0.1 * rng.standard_normal((B, KVH, P, D))).astype(np.float32) for _ in range(2 * L)]


def time_it(s, feed_vals, out_bind):
    io = s.io_binding()
    for n, v in feed_vals.items():
        io.bind_ortvalue_input(n, v)
    for n, v in out_bind.items():
        if v is None:
            io.bind_output(n, "cpu")
        else:
            io.bind_ortvalue_output(n, v)
    for _ in range(5):
        s.run_with_iobinding(io)
    t = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        s.run_with_iobinding(io)
        t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t)), io


def current(path):
    s = sess(path)
    feed = {"inputs_embeds": emb, "type_id": np.zeros(B, np.int64), "position_ids": np.full((B, 1), P, np.int64),
            "attention_mask": np.ones((B, P + 1), np.int64)}
    for l in range(L):
        feed[f"past_key_{l}"], feed[f"past_value_{l}"] = past[2 * l], past[2 * l + 1]
    vals = {n: ort.OrtValue.ortvalue_from_numpy(v) for n, v in feed.items()}
    ms, io = time_it(s, vals, {o.name: None for o in s.get_outputs()})
    return ms, io.copy_outputs_to_cpu()[0]


def gqa(path):
    s = sess(path)
    bufs = {}
    for l in range(L):
        for j, kind in enumerate(("key", "value")):
            b = np.zeros((B, KVH, MAXLEN, D), np.float32)
            b[:, :, :P] = past[2 * l + j]
            bufs[kind, l] = ort.OrtValue.ortvalue_from_numpy(b)
    vals = {"inputs_embeds": ort.OrtValue.ortvalue_from_numpy(emb),
            "type_id": ort.OrtValue.ortvalue_from_numpy(np.zeros(B, np.int64)),
            "seqlens_k": ort.OrtValue.ortvalue_from_numpy(np.full(B, P, np.int32)),
            "total_sequence_length": ort.OrtValue.ortvalue_from_numpy(np.array(P + 1, np.int32))}
    outs = {"last_hidden": None}
    for l in range(L):
        for kind in ("key", "value"):
            vals[f"past_{kind}_{l}"] = bufs[kind, l]
            outs[f"present_{kind}_{l}"] = bufs[kind, l]   # shared past/present buffer: in place
    # every call writes the same new entry at position P of the shared buffers: the result is the same
    ms, io = time_it(s, vals, outs)
    return ms, io.copy_outputs_to_cpu()[0]


with tempfile.TemporaryDirectory() as tmp:
    ms, diff = {}, {}
    ref = {"fp32": current(args.fp32 / "tts_lm.onnx"), "int8": current(args.int8 / "tts_lm.onnx")}
    for prec in ref:
        ms[f"exported {prec}"] = ref[prec][0]
    for fuse in (False, True):
        tag = "gqa+fused" if fuse else "gqa"
        p32 = Path(tmp) / f"{tag}.onnx"
        save_model(build(fuse), p32, external=True)
        p8 = Path(tmp) / f"{tag}_int8.onnx"
        save_model(to_nbits(p32, 8), p8, external=True)
        for prec, path in (("fp32", p32), ("int8", p8)):
            t, h = gqa(path)
            ms[f"{tag} {prec}"] = t
            diff[f"{tag} {prec}"] = float(np.abs(h - ref[prec][1]).max())
    out = {"past": P, "threads": args.threads, "speech_step_ms": ms, "max_abs_diff_vs_exported": diff,
           "max_abs_hidden": float(np.abs(ref["fp32"][1]).max())}
    for k, v in ms.items():
        print(f"{k:<16} {v:7.2f} ms" + (f"   max|diff| vs exported {diff[k]:.3g}" if k in diff else ""))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
