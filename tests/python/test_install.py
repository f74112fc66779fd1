"""`cmake --install` of the C++ build and two out-of-tree consumers of the installed package.

Installs the dev build (build/dev, or VV_BUILD_DIR) into a temporary prefix, checks the layout, the
exported symbols and SONAME of libvibevoice.so and the RPATHs, then builds and runs on the tiny model
  - tests/consumers/c_pkgconfig: C, pkg-config (libvibevoice.so, and libvibevoice.a via --static)
  - tests/consumers/cpp_cmake:   C++, find_package(vibevoice) (vibevoice::vibevoice_static with the C++ API,
                                 vibevoice::vibevoice with the C API)
Nothing of the installed tree may depend on LD_LIBRARY_PATH: ONNX Runtime is found through the RPATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, ROOT, missing

CONSUMERS = ROOT / "tests" / "consumers"
HEADER = ROOT / "include" / "vibevoice" / "vibevoice.h"
VOICE = "synthetic"



def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


def _header_version() -> tuple[int, int, int]:
    text = HEADER.read_text()
    return tuple(int(re.search(rf"#define VV_VERSION_{p} (\d+)", text).group(1))
                 for p in ("MAJOR", "MINOR", "PATCH"))


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "ONNXRUNTIME_ROOT")}
    env["LC_ALL"] = "C"
    env.update(extra or {})
    return env


def _run(cmd: list, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=_env(env), timeout=300, **kw)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def _samples(res: subprocess.CompletedProcess) -> int:
    m = re.search(r"samples=(\d+)", res.stdout)
    assert m, res.stdout + res.stderr
    return int(m.group(1))


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """The dev build installed into a fresh prefix."""
    cmake = _tool("cmake")
    if not (BUILD / "cmake_install.cmake").exists() or not list(BUILD.glob("libvibevoice.so*")):
        missing(f"no build with the install rules and libvibevoice.so in {BUILD} (run scripts/test.sh)")
    out = tmp_path_factory.mktemp("install") / "prefix"
    _run([cmake, "--install", BUILD, "--prefix", out])
    return out


def test_layout(prefix: Path):
    major, minor, patch = _header_version()
    lib = prefix / "lib"
    for header in ("vibevoice.h", "vibevoice.hpp", "error.hpp"):
        assert (prefix / "include" / "vibevoice" / header).is_file()
    assert (lib / "libvibevoice.a").is_file()
    real = lib / f"libvibevoice.so.{major}.{minor}.{patch}"
    assert real.is_file() and not real.is_symlink()
    assert os.readlink(lib / f"libvibevoice.so.{major}") == real.name
    assert os.readlink(lib / "libvibevoice.so") == f"libvibevoice.so.{major}"
    assert os.access(prefix / "bin" / "vibevoice", os.X_OK)
    for name in ("vibevoiceConfig.cmake", "vibevoiceConfigVersion.cmake", "vibevoiceTargets.cmake",
                 "FindONNXRuntime.cmake"):
        assert (lib / "cmake" / "vibevoice" / name).is_file(), name
    pc = (lib / "pkgconfig" / "vibevoice.pc").read_text()
    assert f"Version: {major}.{minor}.{patch}" in pc and "-lvibevoice" in pc


def test_shared_library_exports_only_the_c_api(prefix: Path):
    major = _header_version()[0]
    so = prefix / "lib" / "libvibevoice.so"
    nm = _run([_tool("nm"), "-D", "--defined-only", so]).stdout
    exported = {line.split()[-1] for line in nm.splitlines() if line.strip()}
    declared = set(re.findall(r"VV_API [^;]*?\b(vv_\w+)\(", HEADER.read_text()))
    assert len(declared) >= 18
    assert exported == declared, (sorted(exported - declared), sorted(declared - exported))
    dyn = _run([_tool("readelf"), "-d", so]).stdout
    assert f"Library soname: [libvibevoice.so.{major}]" in dyn
    runpath = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dyn)
    assert runpath and "$ORIGIN" in runpath.group(1).split(":"), dyn


def test_installed_cli_runs_without_ld_library_path(prefix: Path, tiny_model: Path):
    res = _run([prefix / "bin" / "vibevoice", "voices", "--model", tiny_model])
    assert VOICE in res.stdout


def test_c_consumer_with_pkg_config(prefix: Path, tiny_model: Path, tmp_path: Path):
    _tool("pkg-config")
    make = _tool("make")
    _tool("cc")
    src = tmp_path / "c_pkgconfig"
    shutil.copytree(CONSUMERS / "c_pkgconfig", src)
    _run([make, "-C", src], env={"PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")})
    needed = _run([_tool("readelf"), "-d", src / "synth"]).stdout
    assert re.search(r"NEEDED.*\[libvibevoice\.so\.\d+\]", needed), needed
    static_needed = _run([_tool("readelf"), "-d", src / "synth_static"]).stdout
    assert "libvibevoice" not in static_needed and "libonnxruntime" in static_needed
    for exe in ("synth", "synth_static"):
        assert _samples(_run([src / exe, tiny_model, VOICE, "Hello from C."])) > 0, exe


def test_cpp_consumer_with_find_package(prefix: Path, tiny_model: Path, tmp_path: Path):
    cmake = _tool("cmake")
    _tool("c++")
    src = tmp_path / "cpp_cmake"
    shutil.copytree(CONSUMERS / "cpp_cmake", src)
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run([cmake, "-S", src, "-B", src / "build", *gen, "-DCMAKE_BUILD_TYPE=Release",
          f"-DCMAKE_PREFIX_PATH={prefix}"])
    _run([cmake, "--build", src / "build", "-j2"])
    needed = _run([_tool("readelf"), "-d", src / "build" / "synth_capi"]).stdout
    assert re.search(r"NEEDED.*\[libvibevoice\.so\.\d+\]", needed), needed
    assert _samples(_run([src / "build" / "synth_cpp", tiny_model, VOICE, "Hello from C++."])) > 0
    assert _samples(_run([src / "build" / "synth_capi", tiny_model, VOICE, "Hello, shared library."])) > 0
