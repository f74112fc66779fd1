"""Writes tests/data/rng/philox_fixture.json, the reference for src/generate/rng.cpp (tests/cpp/test_rng.cpp).

raw: numpy.random.Philox(key=K, counter=C).random_raw(n), NumPy's own Philox4x64-10, for several keys
     (including a 128-bit key) and a counter that carries across words. 64-bit values are written as
     decimal strings (JSON numbers would lose precision).
normals: a Python re-implementation of the documented Box-Muller transform (rng.h) on NumPy's raw stream:
     u = ((raw >> 11) + 1) * 2**-53;  r = sqrt(-2 ln u1);  z0 = r cos(2 pi u2), z1 = r sin(2 pi u2)
     in float64, rounded to float32, emitted z0, z1, ...
Run: build/venv/bin/python tests/tools/make_rng_fixture.py
"""
import json
import math
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "rng" / "philox_fixture.json"
U64 = 2**64


def raw_stream(key, counter=0):
    return np.random.Philox(key=key, counter=counter)


def uniform(raw):
    return ((int(raw) >> 11) + 1) * 2.0**-53


def normals(key, n):
    bits = raw_stream(key)
    out = []
    while len(out) < n:
        u1 = uniform(bits.random_raw())
        u2 = uniform(bits.random_raw())
        r = math.sqrt(-2.0 * math.log(u1))
        out.append(float(np.float32(r * math.cos(2.0 * math.pi * u2))))
        out.append(float(np.float32(r * math.sin(2.0 * math.pi * u2))))
    return out[:n]


def main():
    raw_cases = []
    for key_lo, key_hi, counter in [
        (0, 0, [0, 0, 0, 0]),
        (1, 0, [0, 0, 0, 0]),
        (42, 0, [0, 0, 0, 0]),
        (U64 - 1, 0, [0, 0, 0, 0]),
        (0x0123456789ABCDEF, 0xFEDCBA9876543210, [0, 0, 0, 0]),
        (7, 3, [U64 - 1, U64 - 1, 0, 0]),  # first increment carries into counter[2]
        (5, 0, [U64 - 2, 9, 0, 0]),  # carry happens between the first and second block
    ]:
        key = key_lo + (key_hi << 64)
        ctr = sum(c << (64 * i) for i, c in enumerate(counter))
        values = raw_stream(key, ctr).random_raw(10)
        raw_cases.append({"key_lo": str(key_lo), "key_hi": str(key_hi), "counter": [str(c) for c in counter],
                          "raw": [str(int(v)) for v in values]})
    normal_cases = [{"seed": str(seed), "normals": normals(seed, 257)} for seed in (0, 42, 123456789)]
    fixture = {"generator": f"tests/tools/make_rng_fixture.py (numpy {np.__version__})",
               "raw": raw_cases, "normal": normal_cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")


if __name__ == "__main__":
    main()
