#!/usr/bin/env python3
"""Writes the runtime smoke-test graph: y = MatMul(x, W) + b with a dynamic batch axis.

Usage: make_smoke_onnx.py OUT_DIR   (writes OUT_DIR/smoke/matmul_add.onnx + matmul_add.onnx.data)

The weights live in an external data file so the C++ test also covers external-data loading. W and b are
simple closed-form values that tests/cpp/test_runtime_session.cpp recomputes independently:
W[i][j] = 0.5 * (i + 1) - 0.25 * j  (shape [3, 2]),  b = [0.125, -1.0].
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build() -> onnx.ModelProto:
    w = np.array([[0.5 * (i + 1) - 0.25 * j for j in range(2)] for i in range(3)], dtype=np.float32)
    b = np.array([0.125, -1.0], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "smoke",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]) / "smoke"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "matmul_add.onnx"
    onnx.save_model(build(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="matmul_add.onnx.data", size_threshold=0)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
