"""A small ONNX graph builder with readable op helpers.

We write the graphs directly with `onnx.helper` instead of tracing PyTorch: export is deterministic and
fast even at 1B parameters, graph input/output names and dynamic axes are exactly the ones of
docs/model-format.md, and the op patterns are chosen so ONNX Runtime's optimizer recognises them
(e.g. RMSNorm as Pow/ReduceMean/Add/Sqrt/Div/Mul -> SimplifiedLayerNormalization, erf-GELU -> Gelu,
MatMul with a pre-transposed constant weight -> MatMulNBits when quantized). The PyTorch modules in
`modules.py` stay an independent oracle.
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Opset 17: every op used here is fully implemented by ORT's CPU EP, ReduceMean still takes `axes` as an
# attribute (the form ORT's SimplifiedLayerNormalization fusion has matched the longest), and the
# float16 converter of onnxruntime.transformers handles it.
OPSET = 17

# Graphs whose initializers exceed this many bytes store them in `<file>.data` beside the graph: a
# protobuf message cannot exceed 2 GB, and the full-size stacks are 0.2-1.4 GB each.
EXTERNAL_DATA_THRESHOLD = 100 * 1024 * 1024

# metadata_props key listing the node names a float16 conversion must keep in float32
FP32_NODES_KEY = "vibevoice.fp32_nodes"
# metadata_props key listing MatMul nodes an integer weight quantization should leave in float
FLOAT_MATMULS_KEY = "vibevoice.float_matmuls"

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64

Dim = int | str


class GraphBuilder:
    """Accumulates nodes, initializers and graph I/O; every helper returns the output value name."""

    def __init__(self, name: str):
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._used: Counter[str] = Counter()
        self._const_cache: dict[tuple, str] = {}
        self._fp32_depth = 0
        self.fp32_nodes: list[str] = []  # nodes a float16 conversion must keep in float32 (see `fp32`)
        self._float_mm_depth = 0
        self.float_matmuls: list[str] = []  # MatMuls int8/int4 quantization must skip (see `float_matmuls`)
        self._output_identities: set[str] = set()

    # ------------------------------------------------------------------ names, I/O, constants
    def fresh(self, hint: str) -> str:
        """A value name not used before (hint, hint_1, hint_2, ...)."""
        n = self._used[hint]
        self._used[hint] += 1
        return hint if n == 0 else f"{hint}_{n}"

    def input(self, name: str, elem_type: int, shape: Sequence[Dim]) -> str:
        self._used[name] += 1
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    def output(self, value: str, name: str, elem_type: int, shape: Sequence[Dim]) -> str:
        """Expose `value` as graph output `name` (an Identity if the names differ, folded into the value's
        producer by `model()`)."""
        if value != name:
            node = helper.make_node("Identity", [value], [name], name=self.fresh(f"out_{name}"))
            self._output_identities.add(node.name)
            self.nodes.append(node)
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    def weight(self, array: np.ndarray, hint: str) -> str:
        """A float32 initializer (weights: one per call, never deduplicated)."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def const(self, value, dtype=np.float32, hint: str = "c") -> str:
        """A small constant initializer, shared between identical uses."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._const_cache:
            name = self.fresh(hint)
            self.initializers.append(numpy_helper.from_array(arr, name))
            self._const_cache[key] = name
        return self._const_cache[key]

    def i64(self, values: Sequence[int] | int) -> str:
        return self.const(values, np.int64, "i64")

    # ------------------------------------------------------------------ generic op
    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = None, n_out: int = 1,
           **attrs) -> str | list[str]:
        """Append a node; it is named after its first output (value names are unique)."""
        outs = [self.fresh(hint or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=outs[0], **attrs))
        if self._fp32_depth:
            self.fp32_nodes.append(outs[0])
        if self._float_mm_depth and op_type == "MatMul":
            self.float_matmuls.append(outs[0])
        return outs[0] if n_out == 1 else outs

    @contextmanager
    def keep_float_matmuls(self, enabled: bool = True):
        """MatMuls created inside are left in float by the integer weight quantizers: compute-bound ones
        (many rows per call, e.g. the decoder's high-resolution stages), where int8 activation
        quantization costs more time than the smaller weights save."""
        self._float_mm_depth += int(enabled)
        try:
            yield
        finally:
            self._float_mm_depth -= int(enabled)

    @contextmanager
    def fp32(self):
        """Nodes created inside stay float32 when the graph is converted to float16 (quantize.py reads
        the list from the model's metadata): norm statistics, softmax and its mask, residual sums, RoPE
        angles and timestep sinusoids, whose fp16 rounding would be large (e.g. position 8000 has an
        fp16 spacing of 4, the text LM's residual reaches ~1600 so its square overflows fp16)."""
        self._fp32_depth += 1
        try:
            yield
        finally:
            self._fp32_depth -= 1

    # ------------------------------------------------------------------ elementwise / shape helpers
    def add(self, a: str, b: str, hint: str = "add") -> str:
        return self.op("Add", [a, b], hint)

    def sub(self, a: str, b: str, hint: str = "sub") -> str:
        return self.op("Sub", [a, b], hint)

    def mul(self, a: str, b: str, hint: str = "mul") -> str:
        return self.op("Mul", [a, b], hint)

    def div(self, a: str, b: str, hint: str = "div") -> str:
        return self.op("Div", [a, b], hint)

    def matmul(self, a: str, b: str, hint: str = "matmul") -> str:
        return self.op("MatMul", [a, b], hint)

    def reshape(self, x: str, shape: Sequence[int] | str, hint: str = "reshape") -> str:
        s = shape if isinstance(shape, str) else self.i64(list(shape))
        return self.op("Reshape", [x, s], hint)

    def transpose(self, x: str, perm: Sequence[int], hint: str = "transpose") -> str:
        return self.op("Transpose", [x], hint, perm=list(perm))

    def unsqueeze(self, x: str, axes: Sequence[int], hint: str = "unsqueeze") -> str:
        return self.op("Unsqueeze", [x, self.i64(list(axes))], hint)

    def squeeze(self, x: str, axes: Sequence[int], hint: str = "squeeze") -> str:
        return self.op("Squeeze", [x, self.i64(list(axes))], hint)

    def concat(self, xs: Sequence[str], axis: int, hint: str = "concat") -> str:
        return self.op("Concat", list(xs), hint, axis=axis)

    def slice(self, x: str, starts: Sequence[int], ends: Sequence[int], axes: Sequence[int],
              hint: str = "slice") -> str:
        return self.op("Slice", [x, self.i64(list(starts)), self.i64(list(ends)), self.i64(list(axes))], hint)

    def gather(self, data: str, indices: str, axis: int = 0, hint: str = "gather") -> str:
        return self.op("Gather", [data, indices], hint, axis=axis)

    def cast(self, x: str, to: int, hint: str = "cast") -> str:
        return self.op("Cast", [x], hint, to=to)

    def shape(self, x: str, start: int | None = None, end: int | None = None, hint: str = "shape") -> str:
        attrs = {}
        if start is not None:
            attrs["start"] = start
        if end is not None:
            attrs["end"] = end
        return self.op("Shape", [x], hint, **attrs)

    def split(self, x: str, sizes: Sequence[int], axis: int, hint: str = "split") -> list[str]:
        return self.op("Split", [x, self.i64(list(sizes))], hint, n_out=len(sizes), axis=axis)

    # ------------------------------------------------------------------ neural-net helpers
    def linear(self, x: str, w: np.ndarray, b: np.ndarray | None, hint: str) -> str:
        """PyTorch Linear (weight [out, in]): MatMul with the pre-transposed weight, then bias Add."""
        y = self.matmul(x, self.weight(np.asarray(w).T, f"{hint}.weight_t"), hint)
        if b is not None:
            y = self.add(y, self.weight(b, f"{hint}.bias"), f"{hint}_b")
        return y

    def rms_norm(self, x: str, w: np.ndarray | None, eps: float, hint: str) -> str:
        """y = x / sqrt(mean(x^2, last axis) + eps) [* w]: the pattern ORT fuses to
        SimplifiedLayerNormalization (statistics in fp32 even in fp16 graphs)."""
        with self.fp32():
            sq = self.op("Pow", [x, self.const(2.0)], f"{hint}_sq")
            mean = self.op("ReduceMean", [sq], f"{hint}_mean", axes=[-1], keepdims=1)
            std = self.op("Sqrt", [self.add(mean, self.const(eps), f"{hint}_var")], f"{hint}_std")
            y = self.div(x, std, f"{hint}_normed")
            if w is not None:
                y = self.mul(y, self.weight(w, f"{hint}.weight"), hint)
        return y

    def silu(self, x: str, hint: str = "silu") -> str:
        return self.mul(x, self.op("Sigmoid", [x], f"{hint}_sig"), hint)

    def gelu(self, x: str, hint: str = "gelu") -> str:
        """Exact erf GELU, 0.5*x*(1+erf(x/sqrt(2))), in the form ORT's GeluFusion matches."""
        e = self.op("Erf", [self.div(x, self.const(np.sqrt(2.0)), f"{hint}_s")], f"{hint}_erf")
        return self.mul(self.mul(x, self.add(e, self.const(1.0), f"{hint}_1p"), f"{hint}_x"),
                        self.const(0.5), hint)

    # ------------------------------------------------------------------ finishing
    def _fold_output_identities(self) -> list[onnx.NodeProto]:
        """The nodes, with every output() Identity folded away: the producer writes the graph output
        directly and its consumers read it under that name. ORT keeps an Identity whose input is also
        used inside the graph and copies the tensor: 40 KV-cache copies per TTS LM call (~6 % of it)."""
        producers = {o for n in self.nodes for o in n.output}
        graph_outputs = {o.name for o in self.outputs}
        rename: dict[str, str] = {}
        nodes = []
        for n in self.nodes:
            src = n.input[0] if n.input else ""
            if (n.name in self._output_identities and src in producers and src not in rename
                    and src not in graph_outputs):
                rename[src] = n.output[0]
                continue
            nodes.append(n)
        for n in nodes:
            for names in (n.input, n.output):
                for i, x in enumerate(names):
                    if x in rename:
                        names[i] = rename[x]
        return nodes

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(self._fold_output_identities(), self.name, self.inputs, self.outputs,
                                  self.initializers)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vibevoice-onnx")
        m.ir_version = 8  # ORT >= 1.14 reads IR 8; keeps the files loadable by older runtimes too
        helper.set_model_props(m, {FP32_NODES_KEY: ",".join(self.fp32_nodes),
                                   FLOAT_MATMULS_KEY: ",".join(self.float_matmuls)})
        return m


def initializer_bytes(model: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


def save_model(model: onnx.ModelProto, path: str | Path, external: bool | None = None) -> list[Path]:
    """Save `model` to `path`; weights go to `<name>.data` beside it when the graph is large (or when
    `external` says so). Returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if external is None:
        external = initializer_bytes(model) > EXTERNAL_DATA_THRESHOLD
    data = path.with_name(path.name + ".data")
    if data.exists():
        data.unlink()
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data.name, size_threshold=1024)
        return [path, data]
    onnx.save_model(model, str(path))
    return [path]


def dim_param_shape(vi: onnx.ValueInfoProto) -> list[int | str]:
    """A graph I/O shape as a list of ints and symbolic names (for tests and manifests)."""
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in vi.type.tensor_type.shape.dim]


def file_size(paths: Sequence[Path]) -> int:
    return sum(os.path.getsize(p) for p in paths)
