"""Helpers for the tests that drive the C++ `vibevoice` CLI as a user would (a subprocess)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(exe: Path, *args, stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *map(str, args)], input=stdin, capture_output=True, timeout=timeout)


def synth(exe, model, *args, stdin=None):
    return run(exe, "synth", "--model", model, "--threads", "1", "--quiet", *args, stdin=stdin)


def model_copy(tmp_path: Path, model: Path, name: str = "model") -> Path:
    """A copy of the model directory made of symlinks (folders are real), so single files can be replaced
    cheaply with replace()."""
    out = tmp_path / name
    for src in sorted(model.rglob("*")):
        dst = out / src.relative_to(model)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src.resolve())
    return out


def replace(path: Path, data: bytes | str) -> None:
    """Replace a (possibly symlinked) file of a model_copy with new content."""
    path.unlink(missing_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


def assert_fails(res, code: int, *needles: str) -> None:
    err = res.stderr.decode(errors="replace")
    assert res.returncode == code, f"exit {res.returncode}, expected {code}: {err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in: {err}"
