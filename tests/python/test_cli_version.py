"""`vibevoice --version` reports the project version of CMakeLists.txt (not a copy of it)."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import run


def test_version_is_the_project_version(vibevoice_bin):
    cmake = (Path(__file__).resolve().parents[2] / "CMakeLists.txt").read_text()
    version = re.search(r"project\(\s*\w+\s+VERSION\s+([0-9.]+)", cmake).group(1)
    res = run(vibevoice_bin, "--version")
    assert res.returncode == 0 and res.stdout.decode().strip() == f"vibevoice {version}"
