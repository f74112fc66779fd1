"""Per-graph parity of an exported model directory against the PyTorch modules (modules.py).

Each graph is run with onnxruntime (CPU, full graph optimisations, i.e. with ORT's fusions, as the C++
engine runs it) on several shapes, and compared with the independent PyTorch oracle:
  text_lm         T = 1, 3, 5 x P = 0, 7
  tts_lm          B = 1: T = 1, 3, 5 x P = 0, 7;  B = 2 with ragged left-padded pasts (mask), T = 1, 3
  connector       B = 1, 2
  diffusion_head  B = 2 (t = 999, 400) and B = 3 (t = 0, 200.5, 999)
  acoustic_decoder  6 frames decoded in chunks of K = 1 and K = 3 (states carried between calls) vs the
                  whole-sequence decoder

Criterion, per output (each present_key_{l} / present_value_{l}, hidden, eos_logit, audio, ... on its own):
  max |onnx - torch| <= atol + rtol * max |torch of that output|   (fp32: atol = rtol = 1e-4)
The relative part matters only for large-magnitude outputs (the decoder's audio, LM hiddens of real weights
reach ~1600, section 2.2), where 1e-4 absolute would demand better than fp32's ~1e-7 relative precision
accumulated over dozens of layers. Each output has its own bound, so the small eos_logit (it decides when
speech stops) is not judged against the much larger KV caches and hiddens. In addition the EOS logit's sign
(eos_logit > 0 stops) must agree wherever |torch| > sign_margin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .bounds import Bounds, OutputStat, Stats, report_lines
from .config import ModelConfig
from .graphs import decoder_states

FP32_TOL = 1e-4
# Measured on the tiny random model (validate_model_dir seeds 0 and 1), worst error of any output per graph
# (max |ref| of that output): text_lm 1.1e-6 (4.0), tts_lm 1.4e-6 (present_key_1, 3.7; eos_logit 1.2e-6 of
# 2.5), connector 9.5e-7 (3.4), diffusion_head 9.5e-7 (3.5), acoustic_decoder audio 1.9e-7 (0.15): >= 70x
# below the bounds (atol = rtol = 1e-4; real weights reach ~1600 in the LM hiddens, hence the rtol part).
FP32_SIGN_MARGIN = 1e-3  # fp32 eos_logit errors are ~1e-6: a sign flip at |ref| > 1e-3 is a broken graph
FP32_BOUNDS = Bounds(atol=FP32_TOL, rtol=FP32_TOL, sign_margin=FP32_SIGN_MARGIN)


@dataclass
class Result:
    graph: str
    outputs: list[OutputStat]
    cases: int
    bounds: Bounds = FP32_BOUNDS

    @property
    def max_abs(self) -> float:  # max |onnx - torch| over all cases and outputs
        return max((o.max_abs for o in self.outputs), default=0.0)

    @property
    def ref_max(self) -> float:  # max |torch| over the same outputs
        return max((o.ref_max for o in self.outputs), default=0.0)

    def problems(self) -> list[str]:
        return [m for o in self.outputs if (m := o.problem(self.graph, self.bounds))]

    @property
    def ok(self) -> bool:
        return not self.problems()

    def line(self) -> str:
        worst = max(self.outputs, key=lambda o: o.max_abs / o.bound(self.bounds))
        status = "ok" if self.ok else "FAIL: " + " | ".join(self.problems())
        head = (f"  {self.graph:<17} worst {worst.name} max-abs {worst.max_abs:.2e} "
                f"(bound {worst.bound(self.bounds):.2e}, {self.cases} cases)  {status}")
        return "\n".join([head, *report_lines(self.graph, self.outputs, self.bounds)])


def session(path: Path, threads: int = 0):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _kv_feeds(past: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, np.ndarray]:
    feeds = {}
    for l, (k, v) in enumerate(past):
        feeds[f"past_key_{l}"] = k.numpy()
        feeds[f"past_value_{l}"] = v.numpy()
    return feeds


def _random_past(cfg: ModelConfig, layers: int, b: int, p: int, g: torch.Generator):
    shape = (b, cfg.num_key_value_heads, p, cfg.head_dim)
    return [(torch.randn(shape, generator=g), torch.randn(shape, generator=g)) for _ in range(layers)]


def check_text_lm(sess, model, cfg: ModelConfig, g: torch.Generator) -> Stats:
    acc = Stats()
    for p in (0, 7):
        for t in (1, 3, 5):
            ids = torch.randint(0, cfg.vocab_size, (1, t), generator=g)
            pos = torch.arange(p, p + t)[None]
            past = _random_past(cfg, cfg.text_layers, 1, p, g)
            outs = sess.run(None, {"input_ids": ids.numpy(), "position_ids": pos.numpy(), **_kv_feeds(past)})
            names = [o.name for o in sess.get_outputs()]
            with torch.no_grad():
                hidden, present = model.text_lm(ids, pos, past if p else None)
            got = dict(zip(names, outs))
            acc.add("hidden", got["hidden"], hidden)
            _add_present(acc, got, present)
            acc.cases += 1
    return acc


def _add_present(acc: Stats, got: dict[str, np.ndarray], present) -> None:
    """Compares a graph's present_key_{l} / present_value_{l} outputs with the PyTorch caches."""
    for l, (k, v) in enumerate(present):
        acc.add(f"present_key_{l}", got[f"present_key_{l}"], k)
        acc.add(f"present_value_{l}", got[f"present_value_{l}"], v)


def tts_case(cfg: ModelConfig, b: int, t: int, lens: list[int], g: torch.Generator):
    """Inputs of a tts_lm call: rows with real past lengths `lens`, left-padded to P = max(lens)."""
    p = max(lens)
    x = torch.randn(b, t, cfg.hidden_size, generator=g)
    type_id = torch.tensor([(1 + i) % 2 for i in range(b)], dtype=torch.int64)
    pos = torch.stack([torch.arange(n, n + t) for n in lens])
    mask = torch.zeros(b, p + t, dtype=torch.int64)
    for i, n in enumerate(lens):
        mask[i, p - n:] = 1
    past = _random_past(cfg, cfg.tts_layers, b, p, g)
    return x, type_id, pos, mask, past


def tts_feeds(x, type_id, pos, mask, past) -> dict[str, np.ndarray]:
    return {"inputs_embeds": x.numpy(), "type_id": type_id.numpy(), "position_ids": pos.numpy(),
            "attention_mask": mask.numpy(), **_kv_feeds(past)}


def check_tts_lm(sess, model, cfg: ModelConfig, g: torch.Generator) -> Stats:
    acc = Stats()
    cases = [(1, t, [p]) for p in (0, 7) for t in (1, 3, 5)] + [(2, t, [7, 4]) for t in (1, 3)] + [(2, 1, [0, 0])]
    names = [o.name for o in sess.get_outputs()]
    for b, t, lens in cases:
        x, type_id, pos, mask, past = tts_case(cfg, b, t, lens, g)
        got = dict(zip(names, sess.run(None, tts_feeds(x, type_id, pos, mask, past))))
        with torch.no_grad():
            hidden, present = model.tts_lm(x, type_id, pos, past if max(lens) else None, mask)
            last = hidden[:, -1]
            eos = model.tts_lm.eos_logit(last)
        acc.add("last_hidden", got["last_hidden"], last)
        acc.add("eos_logit", got["eos_logit"], eos)
        _add_present(acc, got, present)
        acc.cases += 1
    return acc


def check_connector(sess, model, cfg: ModelConfig, g: torch.Generator) -> Stats:
    acc = Stats()
    for b in (1, 2):
        z = torch.randn(b, cfg.latent_dim, generator=g)
        with torch.no_grad():
            acc.add("embeds", sess.run(None, {"speech_latent": z.numpy()})[0], model.connector(z))
        acc.cases += 1
    return acc


def check_diffusion_head(sess, model, cfg: ModelConfig, g: torch.Generator) -> Stats:
    acc = Stats()
    for ts in ([999.0, 400.0], [0.0, 200.5, 999.0]):
        b = len(ts)
        x = torch.randn(b, cfg.latent_dim, generator=g)
        t = torch.tensor(ts, dtype=torch.float32)
        c = torch.randn(b, cfg.hidden_size, generator=g)
        with torch.no_grad():
            ref = model.head(x, t, c)
        acc.add("v", sess.run(None, {"noisy": x.numpy(), "timestep": t.numpy(), "condition": c.numpy()})[0], ref)
        acc.cases += 1
    return acc


def decode_stream(sess, cfg: ModelConfig, z: np.ndarray, chunks: list[int]) -> np.ndarray:
    """Decode z [1, Z, N] with the streaming graph in `chunks` frames per call, carrying the states."""
    states = decoder_states(cfg)
    feeds = {f"state_in_{s.name[6:]}": np.zeros(s.shape, np.float32) for s in states}
    out, i = [], 0
    for k in chunks:
        res = sess.run(None, {"latent": z[:, :, i:i + k], **feeds})
        i += k
        out.append(res[0])
        feeds = {f"state_in_{s.name[6:]}": res[j + 1] for j, s in enumerate(states)}
    if i != z.shape[-1]:
        raise ValueError(f"chunks {chunks} do not cover {z.shape[-1]} frames")
    return np.concatenate(out, axis=-1)


def check_acoustic_decoder(sess, model, cfg: ModelConfig, g: torch.Generator) -> Stats:
    acc = Stats()
    z = torch.randn(1, cfg.latent_dim, 6, generator=g) * 0.5
    with torch.no_grad():
        ref = model.decoder(z)
    for chunks in ([1] * 6, [3, 3]):
        acc.add("audio", decode_stream(sess, cfg, z.numpy(), chunks), ref)
        acc.cases += 1
    return acc


def sample_feeds(graph: str, manifest: dict, rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    """Random but realistic inputs for one graph, from the manifest's dimensions only (used to compare a
    quantized graph with its fp32 original): LMs at P = 0 and P = 7 (T = 3), tts_lm also B = 2 ragged,
    head at t = 999 and 200, decoder K = 1 and K = 3 from zero states."""
    m = manifest
    h, kvh, d, z = m["hidden_size"], m["num_key_value_heads"], m["head_dim"], m["latent_dim"]
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731

    def past(layers: int, b: int, p: int) -> dict[str, np.ndarray]:
        out = {}
        for l in range(layers):
            out[f"past_key_{l}"] = f32(b, kvh, p, d)
            out[f"past_value_{l}"] = f32(b, kvh, p, d)
        return out

    feeds: list[dict[str, np.ndarray]] = []
    if graph == "text_lm":
        for p in (0, 7):
            feeds.append({"input_ids": rng.integers(0, m["vocab_size"], (1, 3)), "position_ids": np.arange(p, p + 3)[None],
                          **past(m["text_layers"], 1, p)})
    elif graph == "tts_lm":
        for lens in ([0], [7], [7, 4]):
            b, p, t = len(lens), max(lens), 3
            mask = np.zeros((b, p + t), np.int64)
            for i, n in enumerate(lens):
                mask[i, p - n:] = 1
            feeds.append({"inputs_embeds": f32(b, t, h), "type_id": np.arange(b, dtype=np.int64) % 2,
                          "position_ids": np.stack([np.arange(n, n + t) for n in lens]), "attention_mask": mask,
                          **past(m["tts_layers"], b, p)})
    elif graph == "connector":
        feeds.append({"speech_latent": f32(2, z)})
    elif graph == "diffusion_head":
        feeds.append({"noisy": f32(2, z), "timestep": np.array([999.0, 200.0], np.float32), "condition": f32(2, h)})
    elif graph == "acoustic_decoder":
        for k in (1, 3):
            feeds.append({"latent": 0.5 * f32(1, z, k),
                          **{f"state_in_{s['name'][6:]}": np.zeros(s["shape"], np.float32) for s in m["decoder_states"]}})
    else:
        raise ValueError(f"unknown graph {graph!r}")
    return feeds


CHECKS: dict[str, Callable] = {
    "text_lm": check_text_lm,
    "tts_lm": check_tts_lm,
    "connector": check_connector,
    "diffusion_head": check_diffusion_head,
    "acoustic_decoder": check_acoustic_decoder,
}


def validate_model_dir(model_dir: Path, model, cfg: ModelConfig, bounds: Bounds = FP32_BOUNDS, seed: int = 0,
                       graphs: list[str] | None = None) -> Iterator[Result]:
    """Yield one Result per graph of the model directory (sessions are loaded one at a time)."""
    manifest = json.loads((Path(model_dir) / "vibevoice.json").read_text())
    for name, check in CHECKS.items():
        if graphs is not None and name not in graphs:
            continue
        sess = session(Path(model_dir) / manifest["graphs"][name]["file"])
        acc = check(sess, model, cfg, torch.Generator().manual_seed(seed))
        del sess
        yield Result(name, list(acc.outputs.values()), acc.cases, bounds)
