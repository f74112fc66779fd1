"""`quantize`: an fp16 or int8 copy of an fp32 model directory.

- fp16: onnxruntime.transformers.float16 with fp32 graph I/O. Nodes the graph builders marked as
  numerically sensitive (norm statistics, softmax and its mask, residual sums, RoPE angles, timestep
  sinusoids; list in each graph's metadata, see graphs/builder.py `fp32`) stay float32, so are all ops
  of the converter's default block list.
- int8: `com.microsoft.MatMulNBits` (bits 8, symmetric, block 64, accuracy_level 4) for every MatMul
  with a constant weight: Qwen projections/MLPs, connector, diffusion head, EOS head, and the decoder's
  FFN linears and upsamplers at low time resolution (the bulk of its parameters; the graph builder marks
  the compute-bound high-resolution ones to stay float, see graphs/acoustic_decoder.py). Level 4 lets
  ORT quantize each activation block to int8 on the fly (dynamic, no calibration); without it the 8-bit
  CPU kernel is ~50x slower than fp32. MatMulNBits 8-bit needs ORT >= 1.23. The decoder's convolutions
  stay fp32. The token-embedding table (the largest single tensor, only gathered row by row) is stored
  fp16 and cast after the Gather.
- int4: like int8 with 4-bit weights (block 32); smaller, lossier, offered for experiments.

Graph interfaces stay fp32 whatever the mode, so the engine code path is the same. Prints per-graph size
and, per output, the max-abs error against the fp32 graph on random inputs (validate.sample_feeds); a broken
bound (QUANT_BOUNDS: absolute + relative to that output's max |fp32|, and the EOS logit's sign) fails the
command with a message naming graph, output, error and bound (QuantizationError).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .graphs.builder import FLOAT_MATMULS_KEY, FP32_NODES_KEY, file_size, save_model
from .export import replace_dir
from .bounds import Bounds, OutputStat, Stats, report_lines

MODES = ("fp16", "int8", "int4")
# Weights per scale along K. Measured on the full-size random model (bench, same injected noise, audio SNR
# vs fp32; docs/PERFORMANCE.md): int8 block 32 34.3 dB / 1.19 GB peak RSS, 64 33.6 dB / 1.09 GB,
# 128 32.9 dB / 1.03 GB, speed within noise (fewer scale bytes to read, more work per block). int8 takes 64:
# the RSS target (1.2 GB) with margin for 0.7 dB. int4 keeps 32: at 4 bits the error is the weights'.
DEFAULT_BLOCK_SIZE = {"int8": 64, "int4": 32}
BLOCK_SIZES = (16, 32, 64, 128, 256)  # MatMulNBits: a power of two >= 16
# MatMulNBits accuracy_level 4 = int8 activations x int8 weights on VNNI/AMX kernels. Measured with ORT 1.30
# on the 2-core dev machine (896x4864 GEMV, 1 thread): fp32 MatMul 1.3 ms; 8-bit level 4 0.2-0.3 ms;
# 8-bit without it 60 ms (a slow reference path), so the level is not optional for 8 bits.
ACCURACY_LEVEL = 4
# a float Gather table at least this large is stored fp16 in the integer modes (the token embedding)
EMBED_FP16_MIN_ELEMS = 1 << 20


# Per-output bounds on |q - fp32| (bounds.Bounds: atol + rtol x max|fp32 of that output|, the EOS sign must
# agree where |fp32 eos_logit| > sign_margin). Measured on the tiny random model (sample_feeds seeds 0 and 5,
# default block sizes), worst error (max |fp32| of that output):
#   fp16  LM/head/connector <= 1.5e-3 (3.3, rel 4.8e-4), eos_logit 6.8e-4 (3.1), audio 9.2e-5 (0.10, rel 9e-4),
#         decoder states 6.0e-3 (2.0, rel 3e-3)
#   int8  LM/head/connector <= 4.3e-2 (2.5, rel 1.7e-2), eos_logit 3.4e-2 (3.1), audio 2.4e-3 (0.13, rel 1.8e-2),
#         decoder states 9.4e-2 (2.0, rel 4.7e-2)
#   int4  LM/head/connector <= 0.48 (2.8, rel 0.17), eos_logit 0.53 (3.1), audio 1.3e-2 (0.13, rel 0.10),
#         decoder states 1.08 (1.9), rel up to 0.62 (state_out_13)
# Worst error / bound: fp16 0.28, int8 0.33, int4 0.33, i.e. >= 3x margin (sign margins: fp16 15x, int8 2.9x,
# int4 1.9x the worst EOS error). The decoder's state_out_* caches (a few dozen values each, so max|ref| is a
# noisy scale) get their own rtol; at int4 that is a gross-breakage check only (int4 is for experiments).
QUANT_BOUNDS = {
    "fp16": Bounds(atol=1e-3, rtol=5e-3, sign_margin=1e-2, state_rtol=1e-2),
    "int8": Bounds(atol=5e-3, rtol=5e-2, sign_margin=0.1, state_rtol=0.15),
    "int4": Bounds(atol=5e-2, rtol=0.5, sign_margin=1.0, state_rtol=2.0),
}


class QuantizationError(ValueError):
    """A quantized graph differs from its fp32 original beyond QUANT_BOUNDS."""


class SourceModelError(ValueError):
    """The source directory is not an fp32 model directory (a model error, not a usage error)."""


@dataclass
class GraphReport:
    name: str
    fp32_bytes: int
    bytes: int
    mode: str  # the graph's precision: a quantization mode, or "fp32" (kept as it was)
    outputs: list[OutputStat] | None = None  # None: not checked

    def line(self, suffix: str = "") -> str:
        head = f"  {self.name:<17} {self.fp32_bytes / 1e6:9.1f} MB -> {self.bytes / 1e6:9.1f} MB ({self.mode})  "
        if self.mode == "fp32":
            return head + "kept (a copy of the fp32 graph)" + suffix
        if self.outputs is None:
            return head + "not checked (--no-check)" + suffix
        status = "ok" if not self.problems() else "FAIL"
        lines = report_lines(self.name, self.outputs, QUANT_BOUNDS[self.mode])
        return "\n".join([head + f"vs fp32: {status}" + suffix, *lines])

    def problems(self) -> list[str]:
        if self.mode == "fp32":
            return []
        return [m for o in self.outputs or [] if (m := o.problem(self.name, QUANT_BOUNDS[self.mode]))]


def node_list(model: onnx.ModelProto, key: str) -> list[str]:
    """A comma-separated node-name list the graph builders stored in the model's metadata."""
    for p in model.metadata_props:
        if p.key == key:
            return [n for n in p.value.split(",") if n]
    return []


def fp32_node_names(model: onnx.ModelProto) -> list[str]:
    return node_list(model, FP32_NODES_KEY)


def to_fp16(path: Path) -> onnx.ModelProto:
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    original = onnx.load(str(path), load_external_data=False)
    keep = fp32_node_names(original)
    # a path (not a ModelProto) lets the converter use infer_shapes_path, which works beyond 2 GB
    model = convert_float_to_float16(str(path), keep_io_types=True, op_block_list=list(DEFAULT_OP_BLOCK_LIST),
                                     node_block_list=keep)
    collapse_fp16_round_trips(model, float_outputs(original))
    return model


def float_outputs(model: onnx.ModelProto) -> set[tuple[str, int]]:
    """(node name, output index) of every float32 node output of an fp32 model (by shape inference on
    the weight-less graph)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)}
    return {(n.name, i) for n in inferred.graph.node for i, o in enumerate(n.output)
            if types.get(o) == TensorProto.FLOAT}


def collapse_fp16_round_trips(model: onnx.ModelProto, fp32_outputs: set[tuple[str, int]]) -> None:
    """Repair and tighten the float16 converter's output (in place).

    The converter computes a blocked node in fp32 but casts its output to fp16 and back before the next
    blocked node, so a chain of blocked nodes (RoPE angle -> Cos, norm statistics, residual sums) would
    still be rounded to fp16 in between; and when one value feeds several blocked inputs it emits
    duplicate Cast nodes (an invalid model). Here every Cast(fp16) -> Cast(fp32) round trip of a value
    that was float32 in the original graph is bypassed (when the round trip ends in a graph output, the
    value's producer writes that output directly), duplicates are dropped, and casts left without
    consumers are removed."""
    g = model.graph
    to = lambda n: next((a.i for a in n.attribute if a.name == "to"), None)  # noqa: E731
    nodes, seen = [], set()
    for n in g.node:
        key = (n.op_type, tuple(n.input), tuple(n.output))
        if n.op_type == "Cast" and key in seen:
            continue
        seen.add(key)
        nodes.append(n)
    producer = {o: (n, i) for n in nodes for i, o in enumerate(n.output)}
    float_inputs = {v.name for v in g.input if v.type.tensor_type.elem_type == TensorProto.FLOAT}

    def is_fp32(value: str) -> bool:
        if value in float_inputs:
            return True
        p = producer.get(value)
        return p is not None and (p[0].name, p[1]) in fp32_outputs

    graph_outputs = {o.name for o in g.output}
    rename: dict[str, str] = {}   # round-trip output -> the fp32 value
    produce: dict[str, str] = {}  # fp32 value -> the graph output its producer writes instead
    for n in nodes:
        if n.op_type != "Cast" or to(n) != TensorProto.FLOAT or n.input[0] not in producer:
            continue
        c16 = producer[n.input[0]][0]
        if c16.op_type == "Cast" and to(c16) == TensorProto.FLOAT16 and is_fp32(c16.input[0]):
            if n.output[0] not in graph_outputs:
                rename[n.output[0]] = c16.input[0]
            elif c16.input[0] not in float_inputs and c16.input[0] not in graph_outputs:
                produce[c16.input[0]] = n.output[0]
    drop = set(rename) | set(produce.values())
    nodes = [n for n in nodes if not (n.op_type == "Cast" and n.output[0] in drop)]
    for n in nodes:
        for i, x in enumerate(n.input):
            x = rename.get(x, x)
            n.input[i] = produce.get(x, x)
        for i, x in enumerate(n.output):
            n.output[i] = produce.get(x, x)
    while True:
        used = {x for n in nodes for x in n.input} | graph_outputs
        keep = [n for n in nodes if n.op_type != "Cast" or n.output[0] in used]
        if len(keep) == len(nodes):
            break
        nodes = keep
    del g.node[:]
    g.node.extend(nodes)
    live = {o for n in nodes for o in n.output}
    vis = [v for v in g.value_info if v.name in live]
    del g.value_info[:]
    g.value_info.extend(vis)


def embeddings_to_fp16(model: onnx.ModelProto) -> None:
    """Store large float Gather tables as fp16 and cast the gathered rows back to fp32 (in place)."""
    inits = {t.name: t for t in model.graph.initializer}
    new_nodes = []
    for node in model.graph.node:
        new_nodes.append(node)
        t = inits.get(node.input[0]) if node.op_type == "Gather" and node.input else None
        if t is None or t.data_type != TensorProto.FLOAT or int(np.prod(t.dims)) < EMBED_FP16_MIN_ELEMS:
            continue
        arr = numpy_helper.to_array(t).astype(np.float16)
        t.CopyFrom(numpy_helper.from_array(arr, t.name))
        out16 = node.output[0] + "_fp16"
        cast = helper.make_node("Cast", [out16], [node.output[0]], name=node.name + "_to_fp32", to=TensorProto.FLOAT)
        node.output[0] = out16
        new_nodes.append(cast)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)


def quantize_weight(w: np.ndarray, bits: int, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Blockwise symmetric quantization of a MatMul weight w [K, N] in MatMulNBits layout: packed
    [N, K/block, block*bits/8] uint8 and scales [N*K/block] (zero point implicit: 2^(bits-1)).

    Uses the C++ kernels of the installed onnxruntime, the same ones its MatMulNBitsQuantizer calls (that
    Python wrapper needs the extra `onnx_ir` package, which we do not install)."""
    from onnxruntime.capi import _pybind_state as C

    k, n = w.shape
    k_blocks = (k + block_size - 1) // block_size
    kpack = 8 // bits
    w = np.ascontiguousarray(np.pad(w, ((0, k_blocks * block_size - k), (0, 0))), dtype=np.float32)
    packed = np.zeros((n, k_blocks, (block_size + kpack - 1) // kpack), dtype=np.uint8)
    zero_point = np.zeros((n, (k_blocks + kpack - 1) // kpack), dtype=np.uint8)
    scales = np.zeros((n, k_blocks), dtype=np.float32)
    quant = {8: C.quantize_matmul_8bits, 4: C.quantize_matmul_4bits}[bits]
    quant(packed, w, scales, zero_point, block_size, n, k, True)
    return packed, scales.reshape(-1)


def to_nbits(path: Path, bits: int, block_size: int | None = None) -> onnx.ModelProto:
    """Replace every MatMul with a 2-D constant weight by com.microsoft.MatMulNBits."""
    block_size = block_size or DEFAULT_BLOCK_SIZE["int8" if bits == 8 else "int4"]
    model = onnx.load(str(path))
    g = model.graph
    skip = set(node_list(model, FLOAT_MATMULS_KEY))
    inits = {t.name: t for t in g.initializer}
    consumers: dict[str, int] = {}
    for n in g.node:
        for x in n.input:
            consumers[x] = consumers.get(x, 0) + 1
    nodes, drop = [], set()
    for n in g.node:
        t = inits.get(n.input[1]) if n.op_type == "MatMul" and n.name not in skip else None
        if t is None or len(t.dims) != 2 or t.data_type != TensorProto.FLOAT or consumers[t.name] != 1:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(t)
        packed, scales = quantize_weight(w, bits, block_size)
        qname, sname = f"{t.name}_q{bits}", f"{t.name}_scales"
        g.initializer.extend([numpy_helper.from_array(packed, qname), numpy_helper.from_array(scales, sname)])
        drop.add(t.name)
        nodes.append(helper.make_node("MatMulNBits", [n.input[0], qname, sname], list(n.output), name=n.name,
                                      domain="com.microsoft", K=w.shape[0], N=w.shape[1], bits=bits,
                                      block_size=block_size, accuracy_level=ACCURACY_LEVEL))
    keep = [t for t in g.initializer if t.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(nodes)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    embeddings_to_fp16(model)
    return model


def quantize_graph(path: Path, mode: str, block_size: int | None = None) -> onnx.ModelProto:
    if mode == "fp16":
        return to_fp16(path)
    if mode in ("int8", "int4"):
        return to_nbits(path, 8 if mode == "int8" else 4, block_size or DEFAULT_BLOCK_SIZE[mode])
    raise ValueError(f"unknown quantization mode {mode!r} (expected one of {', '.join(MODES)})")


def compare(fp32_path: Path, q_path: Path, graph: str, manifest: dict, seed: int = 0) -> list[OutputStat]:
    """Per output: max |q - fp32| and max |fp32| over the sample feeds of `graph` (and, for eos_logit,
    the largest |fp32| at which the sign disagrees)."""
    from .validate import sample_feeds, session

    a, b = session(fp32_path), session(q_path)
    names = [o.name for o in a.get_outputs()]
    stats = Stats()
    for feeds in sample_feeds(graph, manifest, np.random.default_rng(seed)):
        for name, x, y in zip(names, a.run(None, feeds), b.run(None, feeds)):
            stats.add(name, y, x)
    return list(stats.outputs.values())


def graph_modes(manifest: dict, mode: str, overrides: dict[str, str] | None) -> dict[str, str]:
    """The precision of each graph: `mode`, or the override given for it (a mode or "fp32": kept)."""
    names = list(manifest["graphs"])
    for name, m in (overrides or {}).items():
        if name not in names:
            raise ValueError(f"--graphs: unknown graph {name!r} (the graphs are {', '.join(names)})")
        if m not in (*MODES, "fp32"):
            raise ValueError(f"--graphs: {name}={m}: the precision must be one of fp32, {', '.join(MODES)}")
    return {name: (overrides or {}).get(name, mode) for name in names}


def parse_graphs(text: str) -> dict[str, str]:
    """--graphs "text_lm=int4,diffusion_head=fp32" -> {"text_lm": "int4", "diffusion_head": "fp32"}."""
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        name, sep, mode = item.partition("=")
        if not sep or not name or not mode:
            raise ValueError(f"--graphs: expected NAME=PRECISION[,NAME=PRECISION...], got {item!r}")
        out[name.strip()] = mode.strip()
    return out


def quantize_model_dir(src: Path, dst: Path, mode: str, log=print, check: bool = True,
                       block_size: int | None = None, graphs: dict[str, str] | None = None) -> list[GraphReport]:
    """Write `dst` = `src` with every graph converted to `mode` (or to its precision in `graphs`: another mode,
    or "fp32" to keep it); tokenizer and voices are copied."""
    if mode not in MODES:
        raise ValueError(f"unknown quantization mode {mode!r} (expected one of {', '.join(MODES)})")
    if block_size is not None and block_size not in BLOCK_SIZES:
        raise ValueError(f"block size must be one of {', '.join(map(str, BLOCK_SIZES))}, got {block_size}")
    src, dst = Path(src), Path(dst)
    manifest = json.loads((src / "vibevoice.json").read_text())
    modes = graph_modes(manifest, mode, graphs)
    if any(g["precision"] != "fp32" for g in manifest["graphs"].values()):
        raise SourceModelError(f"{src} is not an fp32 model directory (graph precisions "
                               f"{sorted({g['precision'] for g in manifest['graphs'].values()})})")
    if dst.resolve() == src.resolve():
        raise ValueError("--out must differ from --model")
    if dst.exists() and (not dst.is_dir() or (any(dst.iterdir()) and not (dst / "vibevoice.json").exists())):
        raise ValueError(f"{dst} exists and is not a model directory; refusing to write into it")
    # Everything is written to a staging directory beside `dst`, which replaces `dst` only when every graph
    # is within its bounds: a failed or interrupted run leaves `dst` as it was.
    dst.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dst.name}.quantize-", dir=dst.parent))
    try:
        reports = _quantize_into(src, stage, manifest, modes, mode, block_size, log, check)
        problems = [m for r in reports for m in r.problems()]
        if problems:
            bounds = "; ".join(f"{m}: {QUANT_BOUNDS[m].text()}" for m in sorted({r.mode for r in reports}) if m != "fp32")
            raise QuantizationError(f"{mode} model differs from the fp32 graphs beyond the bounds "
                                    f"({bounds}), so nothing was written to {dst}: " + "; ".join(problems))
        replace_dir(stage, dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return reports


def _quantize_into(src: Path, stage: Path, manifest: dict, modes: dict[str, str], mode: str,
                   block_size: int | None, log, check: bool) -> list[GraphReport]:
    reports = []
    for name, g in manifest["graphs"].items():
        t0 = time.time()
        gmode = modes[name]
        sp, dp = src / g["file"], stage / g["file"]
        src_files = [p for p in (sp, sp.with_name(sp.name + ".data")) if p.exists()]
        fp32_bytes = file_size(src_files)
        if gmode == "fp32":  # kept: the same files
            for f in src_files:
                shutil.copyfile(f, stage / f.name)
            rep = GraphReport(name, fp32_bytes, fp32_bytes, gmode)
        else:
            model = quantize_graph(sp, gmode, block_size or DEFAULT_BLOCK_SIZE.get(gmode))
            files = save_model(model, dp)
            del model
            g["precision"] = gmode
            rep = GraphReport(name, fp32_bytes, file_size(files), gmode)
            if check:
                rep.outputs = compare(sp, dp, name, manifest)
        log(rep.line(f"  [{time.time() - t0:.1f} s]"))
        reports.append(rep)
    nbits = sorted({m for m in modes.values() if m in DEFAULT_BLOCK_SIZE})
    if nbits:  # the weight quantization (of --mode when it is one), and a per-graph profile when mixed
        weights = mode if mode in nbits else nbits[0]
        entry = {"weights": weights, "block_size": block_size or DEFAULT_BLOCK_SIZE[weights]}
        if len(set(modes.values())) > 1:
            entry["graphs"] = modes
        manifest["quantization"] = entry
    shutil.copyfile(src / "tokenizer.json", stage / "tokenizer.json")
    shutil.copytree(src / "voices", stage / "voices")
    for g in manifest.get("text_normalization", {}).get("grammars", {}).values():  # not quantized
        (stage / g["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / g["file"], stage / g["file"])
    (stage / "vibevoice.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return reports


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="fp32 model directory (from `export`)")
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    p.add_argument("--mode", required=True, choices=MODES,
                   help="fp16: half-precision graphs; int8: 8-bit weight-only MatMulNBits; int4: 4-bit")
    p.add_argument("--block-size", type=int, choices=BLOCK_SIZES,
                   help="int8/int4: weights per scale along K (default: int8 64, int4 32); larger blocks read "
                        "fewer scale bytes and use less memory, smaller ones are more accurate")
    p.add_argument("--graphs", default="",
                   help="per-graph precisions overriding --mode, e.g. 'diffusion_head=fp32,acoustic_decoder=fp32' "
                        "(int8 language models, fp32 head and decoder) or 'text_lm=int4,tts_lm=int4'; fp32 keeps "
                        "the graph as it is")
    p.add_argument("--no-check", action="store_true", help="skip the error measurement against fp32")


def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_MODEL, CliError

    if not (args.model / "vibevoice.json").is_file():
        raise CliError(f"not a model directory (no vibevoice.json): {args.model}")
    t0 = time.time()
    try:
        quantize_model_dir(args.model, args.out, args.mode, check=not args.no_check, block_size=args.block_size,
                           graphs=parse_graphs(args.graphs))
    except (QuantizationError, SourceModelError) as e:
        raise CliError(str(e), EXIT_MODEL) from None
    except ValueError as e:
        raise CliError(str(e)) from None
    print(f"wrote {args.out} ({args.mode}) in {time.time() - t0:.1f} s")
    return 0
