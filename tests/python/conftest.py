"""Shared pytest fixtures: paths to ../shared data, the tiny random model, the C++ build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = (ROOT.parent / "shared").resolve()
DATA = SHARED / "data"
CONFIG = DATA / "config" / "VibeVoice-Realtime-0.5B" / "config.json"
TOKENIZER = DATA / "tokenizer" / "tokenizer.json"
VOICES = DATA / "voices"
ARTIFACTS = Path(os.environ.get("VV_TEST_ARTIFACTS", ROOT / "build" / "artifacts"))
BUILD = Path(os.environ.get("VV_BUILD_DIR", ROOT / "build" / "dev"))


def missing(msg: str):
    """A prerequisite is missing: fail under CI (CI=true; the set-up installs everything), skip locally."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def need(path: Path) -> Path:
    """Return `path`, or fail (under CI) / skip (locally) with a clear message when it is missing."""
    if path.exists():
        return path
    missing(f"required test data is missing: {path} (../shared must sit beside the repository)")


def run_cli(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run `vibevoice-onnx ARGS` in a subprocess (the real console entry point)."""
    cmd = [sys.executable, "-m", "vibevoice_onnx.cli", *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="session")
def real_config() -> Path:
    return need(CONFIG)


@pytest.fixture(scope="session")
def real_tokenizer() -> Path:
    return need(TOKENIZER)


@pytest.fixture(scope="session")
def real_voices() -> Path:
    return need(VOICES)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, real_config) -> Path:
    """A tiny random checkpoint: the one scripts/make_test_model.sh built, or a fresh one."""
    prebuilt = ARTIFACTS / "tiny" / "checkpoint"
    if (prebuilt / "model.safetensors").exists():
        return prebuilt
    out = tmp_path_factory.mktemp("tiny") / "checkpoint"
    run_cli("random-checkpoint", "--config", real_config, "--preset", "tiny", "--seed", "0", "--out", out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_checkpoint, real_tokenizer) -> Path:
    """The exported model directory of the tiny checkpoint."""
    prebuilt = ARTIFACTS / "tiny" / "model"
    if (prebuilt / "vibevoice.json").exists() and tiny_checkpoint == ARTIFACTS / "tiny" / "checkpoint":
        return prebuilt
    out = tmp_path_factory.mktemp("tinymodel") / "model"
    run_cli("export", "--checkpoint", tiny_checkpoint, "--out", out, "--tokenizer", real_tokenizer,
            "--voices", tiny_checkpoint / "voices" / "synthetic.pt", "--text-normalization")
    return out


@pytest.fixture(scope="session")
def vibevoice_bin() -> Path:
    """The C++ `vibevoice` CLI of the dev build."""
    exe = BUILD / "vibevoice"
    if not exe.exists():
        missing(f"C++ CLI not built: {exe} (run scripts/test.sh or cmake --build --preset dev)")
    return exe
