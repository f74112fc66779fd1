"""`vibevoice-onnx` exit codes (cli.py): each kind of failure has its own code (usage 2, model/checkpoint 3,
input 4, internal 5) and a one-line message; an unexpected exception is reported as an internal error
without a traceback unless VIBEVOICE_DEBUG=1."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_cli

from vibevoice_onnx import cli, weights


def test_exit_codes_are_the_documented_ones():
    assert (cli.EXIT_USAGE, cli.EXIT_MODEL, cli.EXIT_INPUT, cli.EXIT_INTERNAL) == (2, 3, 4, 5)


def test_missing_checkpoint_is_a_model_error(real_tokenizer, tmp_path):
    res = run_cli("export", "--checkpoint", tmp_path / "nope", "--out", tmp_path / "m", "--tokenizer", real_tokenizer,
                  check=False)
    assert res.returncode == 3, res.stderr
    assert "error: checkpoint directory not found" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "m").exists()


def test_missing_tokenizer_file_is_a_model_error(tiny_checkpoint, tmp_path):
    res = run_cli("export", "--checkpoint", tiny_checkpoint, "--out", tmp_path / "m", "--tokenizer",
                  tmp_path / "tokenizer.json", check=False)
    assert res.returncode == 3 and "tokenizer file not found" in res.stderr


@pytest.mark.parametrize("args", [["export", "--checkpoint", "c", "--out", "o", "--precision", "int3"],
                                  ["quantize", "--model", "m", "--out", "o", "--mode", "int3"],
                                  ["export", "--no-such-option"]])
def test_bad_option_is_a_usage_error(args):
    res = run_cli(*args, check=False)
    assert res.returncode == 2 and "error:" in res.stderr and "Traceback" not in res.stderr


def test_config_without_scheduler_field_is_a_model_error(tiny_checkpoint, real_tokenizer, tmp_path):
    """A checkpoint whose config.json lacks diffusion_head_config.prediction_type is refused before anything
    is written (no default schedule is assumed)."""
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "model.safetensors").symlink_to(tiny_checkpoint / "model.safetensors")
    config = json.loads((tiny_checkpoint / "config.json").read_text())
    del config["diffusion_head_config"]["prediction_type"]
    (ckpt / "config.json").write_text(json.dumps(config))
    res = run_cli("export", "--checkpoint", ckpt, "--out", tmp_path / "m", "--tokenizer", real_tokenizer,
                  check=False)
    assert res.returncode == 3, res.stderr
    assert "diffusion_head_config.prediction_type: missing" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def _boom(*_args, **_kwargs):
    raise RuntimeError("simulated bug")


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_exception_is_an_internal_error(tiny_checkpoint, real_tokenizer, tmp_path, monkeypatch, capsys,
                                                   debug):
    monkeypatch.setattr(weights, "load_checkpoint", _boom)
    if debug:
        monkeypatch.setenv(cli.DEBUG_ENV, "1")
    else:
        monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code = cli.main(["export", "--checkpoint", os.fspath(tiny_checkpoint), "--out", os.fspath(tmp_path / "m"),
                     "--tokenizer", os.fspath(real_tokenizer)])
    err = capsys.readouterr().err
    assert code == 5
    assert "vibevoice-onnx export: internal error: RuntimeError: simulated bug" in err
    assert ("Traceback" in err) == debug
    assert ("VIBEVOICE_DEBUG=1" in err) == (not debug)
    assert not (tmp_path / "m").exists()
