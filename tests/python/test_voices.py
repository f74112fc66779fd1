"""Safe conversion of official voice presets (voices.py, safe_pickle.py): the three real presets convert
with the right lengths and values (checked against an independent decode of the raw bf16 storages with
torch.as_strided), malicious / unknown-global / corrupt files are refused without side effects, and
geometry mismatches are reported."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from vibevoice_onnx import cli
from vibevoice_onnx.config import ModelConfig
from vibevoice_onnx.voices import VoiceError, convert_voices, load_pt_preset

LENGTHS = {"en-Davis_man": (60, 183), "en-Emma_woman": (74, 251), "en-Mike_man": (49, 148)}


# ----------------------------------------------------------------------------- independent reference decode
class _Rec:
    """Inert stand-in for every global of a TRUSTED file: records constructor args, never runs code."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        if self.name == "torch._utils._rebuild_tensor_v2":
            (key, raw), offset, size, stride = args[:4]
            flat = torch.frombuffer(bytearray(raw), dtype=torch.bfloat16)
            return torch.as_strided(flat, size, stride, offset).float()
        obj = _Obj()
        obj.args = args
        return obj


class _Obj(dict):
    def __setstate__(self, state):
        self.state = state


def reference_decode(path: Path) -> dict:
    """{key: (last_hidden [1,S,H], [K per layer], [V per layer])} from the raw zip records."""
    z = zipfile.ZipFile(path)
    pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
    prefix = pkl[: -len("data.pkl")]

    class U(pickle.Unpickler):
        def find_class(self, module, name):
            return _Obj if name == "DynamicCache" else _Rec(f"{module}.{name}")

        def persistent_load(self, pid):
            _, _, key, _, _ = pid
            return key, z.read(f"{prefix}data/{key}")

    top = U(z.open(pkl)).load()
    out = {}
    for key, rec in top.items():
        hidden, cache = rec.args[0], rec.args[1]
        st = cache.state
        out[key] = (hidden, st["key_cache"], st["value_cache"])
    return out


@pytest.fixture(scope="module")
def converted(tmp_path_factory, real_voices, real_config):
    out = tmp_path_factory.mktemp("voices")
    pts = sorted(real_voices.glob("*.pt"))
    assert {p.stem for p in pts} >= set(LENGTHS)
    entries = convert_voices(pts, out, ModelConfig.from_json(real_config))
    return out, entries


def test_real_presets_lengths_and_manifest(converted):
    out, entries = converted
    man = json.loads((out / "manifest.json").read_text())
    assert man["format_version"] == 1
    by = {v["name"]: v for v in man["voices"]}
    for name, (l_lm, l_tts) in LENGTHS.items():
        e = by[name]
        assert (e["lm_len"], e["tts_len"]) == (l_lm, l_tts)
        assert e["dir"] == name and e["dtype"] == "fp32"
        lang, rest = name.split("-")
        assert e["language"] == lang and e["gender"] == rest.split("_")[1]
        d = out / name
        files = {p.name for p in d.glob("*.npy")}
        want = {f"lm.{kv}.{l}.npy" for kv in "kv" for l in range(4)} | \
               {f"{s}.{kv}.{l}.npy" for s in ("tts", "neg_tts") for kv in "kv" for l in range(20)} | \
               {"neg_tts.last_hidden.npy", "tts.last_hidden.npy"}
        assert files == want
        k = np.load(d / "tts.k.7.npy")
        assert k.shape == (2, l_tts, 64) and k.dtype == np.dtype("<f4") and k.flags.c_contiguous
        assert np.load(d / "lm.v.3.npy").shape == (2, l_lm, 64)
        assert np.load(d / "neg_tts.k.0.npy").shape == (2, 1, 64)
        assert np.load(d / "neg_tts.last_hidden.npy").shape == (896,)


@pytest.mark.parametrize("name", sorted(LENGTHS))
def test_values_match_independent_decode(converted, real_voices, name):
    out, _ = converted
    ref = reference_decode(real_voices / f"{name}.pt")
    d = out / name
    h, ks, vs = ref["lm"]
    assert ks[0].stride() != torch.empty(ks[0].shape).stride()  # the real files really are non-contiguous
    for l in (0, 3):
        np.testing.assert_array_equal(np.load(d / f"lm.k.{l}.npy"), ks[l][0].numpy())
        np.testing.assert_array_equal(np.load(d / f"lm.v.{l}.npy"), vs[l][0].numpy())
    h, ks, vs = ref["tts_lm"]
    for l in (0, 11, 19):
        np.testing.assert_array_equal(np.load(d / f"tts.k.{l}.npy"), ks[l][0].numpy())
        np.testing.assert_array_equal(np.load(d / f"tts.v.{l}.npy"), vs[l][0].numpy())
    np.testing.assert_array_equal(np.load(d / "tts.last_hidden.npy"), h[0, -1].numpy())
    h, ks, vs = ref["neg_tts_lm"]
    np.testing.assert_array_equal(np.load(d / "neg_tts.last_hidden.npy"), h[0, -1].numpy())
    np.testing.assert_array_equal(np.load(d / "neg_tts.v.19.npy"), vs[19][0].numpy())
    # and the in-memory API agrees on everything, including hidden states
    p = load_pt_preset(real_voices / f"{name}.pt")
    for key in ("lm", "tts_lm", "neg_lm", "neg_tts_lm"):
        h, ks, vs = ref[key]
        assert torch.equal(p[key]["last_hidden_state"], h)
        assert all(torch.equal(a, b) for a, b in zip(p[key]["key_cache"], ks))
        assert all(torch.equal(a, b) for a, b in zip(p[key]["value_cache"], vs))
        assert all(t.is_contiguous() and t.dtype == torch.float32 for t in p[key]["key_cache"])


def test_negative_prompt_identical_across_voices(converted):
    out, _ = converted
    names = sorted(LENGTHS)
    for f in ["neg_tts.last_hidden.npy", "neg_tts.k.0.npy", "neg_tts.v.19.npy"]:
        arrs = [np.load(out / n / f) for n in names]
        assert all(np.array_equal(arrs[0], a) for a in arrs[1:])


def test_manifest_merge_and_fp16(tmp_path, real_voices):
    convert_voices([real_voices / "en-Mike_man.pt"], tmp_path)
    convert_voices([real_voices / "en-Davis_man.pt"], tmp_path, dtype="fp16")
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert [(v["name"], v["dtype"]) for v in man["voices"]] == [("en-Davis_man", "fp16"), ("en-Mike_man", "fp32")]
    k16 = np.load(tmp_path / "en-Davis_man" / "tts.k.0.npy")
    assert k16.dtype == np.dtype("<f2")
    convert_voices([real_voices / "en-Mike_man.pt"], tmp_path, dtype="fp16", force=True)  # replaces, no duplicate
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert [(v["name"], v["dtype"]) for v in man["voices"]] == [("en-Davis_man", "fp16"), ("en-Mike_man", "fp16")]


def test_preset_does_not_fit_tiny_model(tmp_path, real_voices, tiny_checkpoint):
    cfg = ModelConfig.from_json(tiny_checkpoint / "config.json")
    with pytest.raises(VoiceError, match="en-Mike_man.pt.*does not fit the model geometry"):
        convert_voices([real_voices / "en-Mike_man.pt"], tmp_path / "v", cfg)
    assert not (tmp_path / "v" / "manifest.json").exists()


def test_synthetic_voice_converts_with_tiny_config(tmp_path, tiny_checkpoint):
    cfg = ModelConfig.from_json(tiny_checkpoint / "config.json")
    (e,) = convert_voices([tiny_checkpoint / "voices" / "synthetic.pt"], tmp_path, cfg)
    assert e["name"] == "synthetic" and e["language"] == "" and e["gender"] == ""
    assert np.load(tmp_path / "synthetic" / "tts.k.0.npy").shape == (cfg.num_key_value_heads, e["tts_len"],
                                                                     cfg.head_dim)
    assert len(list((tmp_path / "synthetic").glob("tts.k.*.npy"))) == cfg.tts_layers


def test_cli(tmp_path, real_voices, real_config, capsys):
    rc = cli.main(["voices", "--in", str(real_voices / "en-Mike_man.pt"), "--out", str(tmp_path / "v"),
                   "--config", str(real_config)])
    assert rc == 0 and "en-Mike_man: lm 49, tts 148" in capsys.readouterr().out
    rc = cli.main(["voices", "--in", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "v")])
    assert rc == 3 and "voice preset not found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- hostile input
def _torch_zip(path: Path, pkl: bytes, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return path


def test_os_system_payload_is_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    cmd = f"touch {marker}".encode()
    payload = b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."
    pt = _torch_zip(tmp_path / "en-Evil_man.pt", payload)
    with pytest.raises(VoiceError, match=r"en-Evil_man\.pt: refused to load global 'os\.system'"):
        load_pt_preset(pt)
    assert not marker.exists()
    rc = cli.main(["voices", "--in", str(pt), "--out", str(tmp_path / "v")])
    err = capsys.readouterr().err
    assert rc == 3 and "refused to load global 'os.system'" in err and "en-Evil_man.pt" in err
    assert not marker.exists() and not (tmp_path / "v" / "manifest.json").exists()


class _Exec:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('x')",)


def test_exec_payload_nested_in_preset_is_refused(tmp_path):
    marker = tmp_path / "pwned2"
    payload = pickle.dumps({"lm": {"x": _Exec(marker)}, "tts_lm": None}, protocol=2)
    assert b"exec" in payload
    pt = _torch_zip(tmp_path / "bad.pt", payload)
    with pytest.raises(VoiceError, match=r"refused to load global '(__builtin__|builtins)\.exec'"):
        load_pt_preset(pt)
    assert not marker.exists()


def _rewrite_member(src: Path, dst: Path, fn) -> Path:
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            zo.writestr(info.filename, fn(data) if info.filename.endswith("data.pkl") else data)
    return dst


def test_unknown_global_in_real_preset_is_refused(tmp_path, real_voices):
    src = real_voices / "en-Mike_man.pt"
    dst = _rewrite_member(src, tmp_path / "en-Mike_man.pt",
                          lambda d: d.replace(b"ccollections\nOrderedDict\n", b"ccollections\nCounter\n", 1))
    with pytest.raises(VoiceError, match="refused to load global 'collections.Counter'"):
        load_pt_preset(dst)
    dst2 = _rewrite_member(src, tmp_path / "fs.pt",
                           lambda d: d.replace(b"ctorch\nBFloat16Storage\n", b"ctorch\nFloatStorage\n"))
    with pytest.raises(VoiceError, match="torch.FloatStorage"):
        load_pt_preset(dst2)


def test_truncated_and_corrupt_files_are_refused(tmp_path, real_voices):
    raw = (real_voices / "en-Mike_man.pt").read_bytes()
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(VoiceError, match=r"trunc\.pt: not a readable torch \.pt zip archive"):
        load_pt_preset(trunc)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(VoiceError, match="not a readable"):
        load_pt_preset(garbage)
    badpkl = _torch_zip(tmp_path / "badpkl.pt", b"\x80\x02}q\x00(X\x02")
    with pytest.raises(VoiceError, match="badpkl.pt: malformed pickle"):
        load_pt_preset(badpkl)
    # a storage record shorter than the pickle claims
    def shrink(src, dst):
        with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
            for info in zi.infolist():
                d = zi.read(info.filename)
                zo.writestr(info.filename, d[:10] if info.filename.endswith("/data/1") else d)
        return dst
    with pytest.raises(VoiceError, match="storage 1 has 10 bytes"):
        load_pt_preset(shrink(real_voices / "en-Mike_man.pt", tmp_path / "short.pt"))
    # a tensor view pointing outside its storage
    bad_view = _rewrite_member(real_voices / "en-Mike_man.pt", tmp_path / "view.pt",
                               lambda d: d.replace(b"K\x00K\x01K1M\x80\x03", b"K\x07K\x01K1M\x80\x03", 1))
    with pytest.raises(VoiceError, match="exceeds its storage"):
        load_pt_preset(bad_view)


def test_wrong_structure_is_refused(tmp_path):
    pt = _torch_zip(tmp_path / "x.pt", pickle.dumps({"lm": 1}, protocol=2))
    with pytest.raises(VoiceError, match="expected a dict with keys"):
        load_pt_preset(pt)


# ----------------------------------------------------------------------------- names, overwrite, sizes
@pytest.mark.parametrize("filename", ["...pt", "..pt", "a b.pt", "-x.pt", "_x.pt", "x$.pt"])
def test_bad_voice_names_are_refused_before_anything_is_written(tmp_path, real_voices, filename, capsys):
    model = tmp_path / "model"
    (model / "voices").mkdir(parents=True)
    keep = model / "text_lm.npy"
    keep.write_bytes(b"must survive")
    pt = tmp_path / filename
    pt.write_bytes((real_voices / "en-Mike_man.pt").read_bytes())
    with pytest.raises(VoiceError, match="not a valid voice name"):
        convert_voices([pt], model / "voices")
    rc = cli.main(["voices", "--in", str(pt), "--out", str(model / "voices")])
    assert rc == 3 and "not a valid voice name" in capsys.readouterr().err
    assert keep.read_bytes() == b"must survive"
    assert sorted(p.name for p in model.rglob("*")) == ["text_lm.npy", "voices"]


def test_an_existing_voice_is_replaced_only_with_force(tmp_path, real_voices, capsys):
    src = real_voices / "en-Mike_man.pt"
    convert_voices([src], tmp_path)
    before = (tmp_path / "en-Mike_man" / "tts.k.0.npy").read_bytes()
    with pytest.raises(VoiceError, match="en-Mike_man already exists.*--force"):
        convert_voices([src], tmp_path, dtype="fp16")
    assert (tmp_path / "en-Mike_man" / "tts.k.0.npy").read_bytes() == before
    assert cli.main(["voices", "--in", str(src), "--out", str(tmp_path), "--dtype", "fp16"]) == 3
    assert "--force" in capsys.readouterr().err
    assert cli.main(["voices", "--in", str(src), "--out", str(tmp_path), "--dtype", "fp16", "--force"]) == 0
    assert np.load(tmp_path / "en-Mike_man" / "tts.k.0.npy").dtype == np.dtype("<f2")


class _PersistentStorage(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", torch.BFloat16Storage, "0", "cpu", obj.numel)
        return None


class _Storage:
    def __init__(self, numel):
        self.numel = numel


class _HugeView:
    """A tensor view of a 4-element storage claiming 2^40 elements through zero strides."""

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, (_Storage(4), 0, (1 << 20, 1 << 20), (0, 0), False, OrderedDict())


def test_a_huge_zero_stride_tensor_is_refused_before_allocation(tmp_path, tiny_checkpoint, capsys):
    import io
    buf = io.BytesIO()
    _PersistentStorage(buf, protocol=2).dump({"lm": _HugeView()})
    pt = _torch_zip(tmp_path / "huge.pt", buf.getvalue(), {"archive/data/0": b"\0" * 8})
    with pytest.raises(VoiceError, match="larger than any tensor of the model"):
        load_pt_preset(pt)
    cfg = tiny_checkpoint / "config.json"
    rc = cli.main(["voices", "--in", str(pt), "--out", str(tmp_path / "v"), "--config", str(cfg)])
    err = capsys.readouterr().err
    assert rc == 3 and "larger than any tensor" in err and "Traceback" not in err
