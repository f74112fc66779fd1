"""One-node ONNX models for `vv_bench q8` (bench/kernels_q8.cpp): for each K x N weight shape, ONNX Runtime's
8-bit MatMulNBits (block 32 and 64, accuracy level 4, the int8 engine's setting) and a plain fp32 MatMul.

    build/venv/bin/python bench/make_q8_models.py OUT_DIR [--shapes 896x4864,4864x896,896x896]

Writes OUT_DIR/{nbits8_b32,nbits8_b64,fp32}_KxN.onnx with input A [M, K] (M dynamic) and output Y [M, N].
The weights are random (timing only: the kernels' cost does not depend on the values).
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def io(k, n):
    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", k])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", n])
    return a, y


def save(graph, path, opsets):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, path)


def nbits8(k, n, block, rng):
    blocks = (k + block - 1) // block
    b = numpy_helper.from_array(rng.integers(0, 256, size=(n, blocks, block), dtype=np.uint8), "B")
    scales = numpy_helper.from_array((rng.random(n * blocks, dtype=np.float32) * 0.01 + 1e-3), "scales")
    node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain="com.microsoft", K=k, N=n,
                            bits=8, block_size=block, accuracy_level=4)
    a, y = io(k, n)
    return helper.make_graph([node], "nbits8", [a], [y], initializer=[b, scales])


def fp32(k, n, rng):
    b = numpy_helper.from_array(rng.standard_normal((k, n), dtype=np.float32) * 0.05, "B")
    a, y = io(k, n)
    return helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["Y"])], "fp32", [a], [y],
                             initializer=[b])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--shapes", default="896x4864,4864x896,896x896")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    for shape in args.shapes.split(","):
        k, n = (int(v) for v in shape.split("x"))
        for block in (32, 64):
            save(nbits8(k, n, block, rng), os.path.join(args.out, f"nbits8_b{block}_{k}x{n}.onnx"),
                 [("", 17), ("com.microsoft", 1)])
        save(fp32(k, n, rng), os.path.join(args.out, f"fp32_{k}x{n}.onnx"), [("", 17)])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
