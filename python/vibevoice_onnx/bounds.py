"""Per-output error bounds shared by `validate` (ONNX vs PyTorch) and `quantize` (quantized vs fp32).

Each output of a graph (hidden, eos_logit, each present_key_{l} / present_value_{l}, audio, ...) is judged on
its own: max |got - ref| <= atol + rtol * max |ref of that output|, so a small output such as the EOS logit is
not measured against the much larger KV caches. The EOS logit (eos_logit > 0 stops the speech) must also
agree in sign with the reference wherever |ref| > sign_margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EOS_OUTPUT = "eos_logit"


@dataclass(frozen=True)
class Bounds:
    """err <= atol + rtol * max|ref| of each output; eos_logit sign agrees where |ref| > sign_margin.
    state_rtol (if set) replaces rtol for the streaming decoder's state_out_* caches."""
    atol: float
    rtol: float
    sign_margin: float
    state_rtol: float | None = None

    def rtol_of(self, output: str) -> float:
        return self.state_rtol if self.state_rtol is not None and output.startswith("state_out_") else self.rtol

    def text(self) -> str:
        states = f" (state_out_*: {self.state_rtol:g})" if self.state_rtol is not None else ""
        return (f"atol {self.atol:g} + rtol {self.rtol:g}{states} x max|ref| per output, "
                f"EOS sign beyond {self.sign_margin:g}")


@dataclass
class OutputStat:
    """The worst error and the reference magnitude of one output over all cases of a graph."""
    name: str
    max_abs: float = 0.0
    ref_max: float = 0.0
    flip_ref: float = 0.0   # EOS only: the largest |ref| among values whose sign (got > 0) disagrees
    values: int = 0

    def add(self, got, ref) -> None:
        got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
        if got.shape != ref.shape:
            raise AssertionError(f"{self.name}: shape mismatch: onnx {got.shape} vs ref {ref.shape}")
        if not got.size:
            return
        err = float(np.max(np.abs(got - ref)))
        self.max_abs = max(self.max_abs, err if np.isfinite(err) else float("inf"))
        self.ref_max = max(self.ref_max, float(np.max(np.abs(ref))))
        self.values += ref.size
        if self.name == EOS_OUTPUT:
            flipped = np.abs(ref)[(got > 0) != (ref > 0)]
            self.flip_ref = max(self.flip_ref, float(flipped.max()) if flipped.size else 0.0)

    def bound(self, b: Bounds) -> float:
        return b.atol + b.rtol_of(self.name) * self.ref_max

    def ok(self, b: Bounds) -> bool:
        return bool(np.isfinite(self.max_abs)) and self.max_abs <= self.bound(b) and self.flip_ref <= b.sign_margin

    def problem(self, graph: str, b: Bounds) -> str | None:
        """None when within bounds, else a message naming graph, output, measured error and bound."""
        msgs = []
        if not (np.isfinite(self.max_abs) and self.max_abs <= self.bound(b)):
            msgs.append(f"max-abs error {self.max_abs:.3e} > bound {self.bound(b):.3e} "
                        f"(= {b.atol:g} + {b.rtol_of(self.name):g} x max|ref| {self.ref_max:.3g})")
        if self.flip_ref > b.sign_margin:
            msgs.append(f"sign disagrees with the reference at |ref| {self.flip_ref:.3g} > margin {b.sign_margin:g} "
                        f"(eos_logit > 0 decides the stop)")
        return f"{graph}/{self.name}: " + "; ".join(msgs) if msgs else None

    def line(self, b: Bounds) -> str:
        sign = ""
        if self.name == EOS_OUTPUT:
            sign = f", sign flips up to |ref| {self.flip_ref:.2g}" if self.flip_ref else ", sign agrees"
        status = "ok" if self.ok(b) else "FAIL"
        return (f"    {self.name:<17} max-abs {self.max_abs:.2e}  bound {self.bound(b):.2e}  "
                f"(max |ref| {self.ref_max:.3g}{sign})  {status}")


class Stats:
    """Per-output statistics of one graph, in first-seen output order."""

    def __init__(self):
        self.outputs: dict[str, OutputStat] = {}
        self.cases = 0

    def add(self, name: str, got, ref) -> None:
        self.outputs.setdefault(name, OutputStat(name)).add(got, ref)


GROUPED = ("present_", "state_out_")  # per-layer KV caches, decoder states: printed as their worst member


def report_lines(graph: str, outputs: list[OutputStat], b: Bounds) -> list[str]:
    """One line per output; the per-layer KV caches and the decoder states are summarised by their worst
    (error / bound) member, failing ones are always listed."""
    lines = []
    worst: dict[str, OutputStat] = {}
    groups: dict[str, list[OutputStat]] = {}
    for prefix in GROUPED:
        groups[prefix] = [o for o in outputs if o.name.startswith(prefix)]
        if groups[prefix]:
            worst[prefix] = max(groups[prefix], key=lambda o: o.max_abs / o.bound(b))
    for o in outputs:
        prefix = next((p for p in GROUPED if o.name.startswith(p)), None)
        if prefix is not None and o is not worst[prefix] and o.ok(b):
            continue
        line = o.line(b)
        if prefix is not None and o is worst[prefix] and len(groups[prefix]) > 1:
            line += f"  [worst of {len(groups[prefix])} {prefix}* outputs]"
        lines.append(line)
    return lines
