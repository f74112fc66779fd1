"""Writes the small .npy files under tests/data/npy/ that test_npy.cpp reads.

They are produced by NumPy itself, so the C++ reader is checked against the real writer (header layout,
padding, versions 1/2/3) rather than against files our own writer produced. Values are simple closed forms
that the C++ test recomputes independently:
  f32_2x3.npy      float32 [2,3], v[i,j] = 10*i + j + 0.5
  f16_special.npy  float16 [8]: 0, -0, 1, -2.5, 65504 (max), 2**-24 (smallest subnormal), inf, -inf
  f16_nan.npy      float16 [1]: nan
  i64_4.npy        int64 [4]: 0, -1, 2**40, -(2**62)
  v2_f32.npy       float32 [3] = 1, 2, 3 written with format version 2.0
  v3_f32.npy       float32 [3] = 1, 2, 3 written with format version 3.0
  scalar_f32.npy   float32 0-d = 7.25
  empty_f32.npy    float32 [0, 4]
  fortran_f32.npy  float32 [2,3] Fortran order (must be refused)
  big_endian.npy   >f4 [2] (must be refused)
  object.npy       object array (must be refused)
  u8.npy           uint8 [2] (unsupported dtype, must be refused)
  f64.npy          float64 [2] (unsupported dtype, must be refused)
  structured.npy   structured dtype [('a','<f4')] (must be refused)
Run: build/venv/bin/python tests/tools/make_npy_fixture.py
"""
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "npy"


def write_version(path, array, version):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    i, j = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    np.save(OUT / "f32_2x3.npy", (10 * i + j + 0.5).astype("<f4"))
    np.save(OUT / "f16_special.npy",
            np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-24, np.inf, -np.inf], dtype="<f2"))
    np.save(OUT / "f16_nan.npy", np.array([np.nan], dtype="<f2"))
    np.save(OUT / "i64_4.npy", np.array([0, -1, 2**40, -(2**62)], dtype="<i8"))
    write_version(OUT / "v2_f32.npy", np.array([1, 2, 3], dtype="<f4"), (2, 0))
    write_version(OUT / "v3_f32.npy", np.array([1, 2, 3], dtype="<f4"), (3, 0))
    np.save(OUT / "scalar_f32.npy", np.array(7.25, dtype="<f4"))
    np.save(OUT / "empty_f32.npy", np.zeros((0, 4), dtype="<f4"))
    np.save(OUT / "fortran_f32.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    np.save(OUT / "big_endian.npy", np.array([1, 2], dtype=">f4"))
    np.save(OUT / "object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(OUT / "u8.npy", np.array([1, 2], dtype="u1"))
    np.save(OUT / "f64.npy", np.array([1, 2], dtype="<f8"))
    np.save(OUT / "structured.npy", np.zeros(2, dtype=[("a", "<f4")]))


if __name__ == "__main__":
    main()
