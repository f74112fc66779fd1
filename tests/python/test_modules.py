"""The PyTorch oracle modules (modules.py) on the tiny random checkpoint: shapes, cache consistency,
ragged batching, streaming decoder == whole-sequence decoder, and the diffusion head / Qwen layer / RoPE
against independent float64 numpy re-computations of the spec formulas (architecture.md section 2; the
connector, EOS classifier and acoustic decoder are in test_numpy_reference.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numpy_spec import f64 as _np
from numpy_spec import rms_norm as _rmsn
from numpy_spec import silu as _silu
from vibevoice_onnx.modules import StreamingAcousticDecoder, VibeVoice, rope
from vibevoice_onnx.weights import HEAD, TEXT_LM, load_checkpoint


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):
    cfg, w = load_checkpoint(tiny_checkpoint)
    return cfg, w, VibeVoice(cfg, w)


def test_shapes(loaded):
    cfg, _, m = loaded
    h, kvh, d = cfg.hidden_size, cfg.num_key_value_heads, cfg.head_dim
    with torch.no_grad():
        ids = torch.tensor([[1, 2, 3, 4, 5]])
        hl, kv = m.text_lm(ids, torch.arange(5)[None])
        assert hl.shape == (1, 5, h) and len(kv) == cfg.text_layers
        assert all(k.shape == v.shape == (1, kvh, 5, d) for k, v in kv)
        hs, kv2 = m.tts_lm(hl.expand(2, 5, h), torch.tensor([1, 0]), torch.arange(5)[None].expand(2, 5))
        assert hs.shape == (2, 5, h) and len(kv2) == cfg.tts_layers
        assert m.tts_lm.eos_logit(hs[:, -1]).shape == (2,)
        assert m.tts_lm.type_embedding(1).shape == (h,)
        assert m.connector(torch.randn(3, cfg.latent_dim)).shape == (3, h)
        assert m.head(torch.randn(2, cfg.latent_dim), torch.tensor([999.0, 5.0]), torch.randn(2, h)).shape == \
            (2, cfg.latent_dim)
        assert m.decoder(torch.randn(1, cfg.latent_dim, 2)).shape == (1, 1, 2 * cfg.hop_length)
    assert m.speech_scaling_factor == pytest.approx(0.2333984375)
    assert m.speech_bias_factor == pytest.approx(-0.0703125)


def test_final_norm_only_in_tts_lm(loaded):
    cfg, _, m = loaded
    assert m.text_lm.stack.norm is None and m.tts_lm.stack.norm is not None
    with torch.no_grad():
        hs, _ = m.tts_lm(torch.randn(1, 3, cfg.hidden_size), torch.tensor([0]), torch.arange(3)[None])
    # a final-normed output with weights w has rms(h / w) == 1
    r = (hs / m.tts_lm.stack.norm).pow(2).mean(-1).sqrt()
    assert torch.allclose(r, torch.ones_like(r), atol=1e-4)


@torch.no_grad()
def test_incremental_equals_whole_sequence(loaded):
    cfg, _, m = loaded
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 9, cfg.hidden_size, generator=g)
    pos = torch.arange(9)[None]
    whole, kv_whole = m.tts_lm(x, torch.tensor([1]), pos)
    a, kv = m.tts_lm(x[:, :4], torch.tensor([1]), pos[:, :4])
    b, kv = m.tts_lm(x[:, 4:8], torch.tensor([1]), pos[:, 4:8], kv)
    c, kv = m.tts_lm(x[:, 8:], torch.tensor([1]), pos[:, 8:], kv)
    assert torch.allclose(torch.cat([a, b, c], 1), whole, atol=1e-5)
    for (k1, v1), (k2, v2) in zip(kv, kv_whole):
        assert torch.allclose(k1, k2, atol=1e-5) and torch.allclose(v1, v2, atol=1e-5)
    # text LM too
    ids = torch.randint(0, 1000, (1, 7), generator=g)
    w, _ = m.text_lm(ids, torch.arange(7)[None])
    p1, kv = m.text_lm(ids[:, :3], torch.arange(3)[None])
    p2, _ = m.text_lm(ids[:, 3:], torch.arange(3, 7)[None], kv)
    assert torch.allclose(torch.cat([p1, p2], 1), w, atol=1e-5)


@torch.no_grad()
def test_ragged_batch_with_mask_equals_single_rows(loaded):
    """Row 0 has 6 cached positions, row 1 has 3 (left-padded by 3 junk columns masked out)."""
    cfg, _, m = loaded
    g = torch.Generator().manual_seed(2)
    h = cfg.hidden_size
    ctx0, ctx1 = torch.randn(1, 6, h, generator=g), torch.randn(1, 3, h, generator=g)
    _, kv0 = m.tts_lm(ctx0, torch.tensor([1]), torch.arange(6)[None])
    _, kv1 = m.tts_lm(ctx1, torch.tensor([1]), torch.arange(3)[None])
    new = torch.randn(2, 2, h, generator=g)  # two new tokens per row
    ref0, pres0 = m.tts_lm(new[:1], torch.tensor([0]), torch.tensor([[6, 7]]), kv0)
    ref1, pres1 = m.tts_lm(new[1:], torch.tensor([0]), torch.tensor([[3, 4]]), kv1)
    junk = torch.randn(1, cfg.num_key_value_heads, 3, cfg.head_dim, generator=g) * 100
    past = [(torch.cat([k0, torch.cat([junk, k1], 2)]), torch.cat([v0, torch.cat([junk, v1], 2)]))
            for (k0, v0), (k1, v1) in zip(kv0, kv1)]
    mask = torch.tensor([[1] * 8, [0, 0, 0] + [1] * 5])
    out, pres = m.tts_lm(new, torch.tensor([0, 0]), torch.tensor([[6, 7], [3, 4]]), past, mask)
    assert torch.allclose(out[0], ref0[0], atol=1e-5)
    assert torch.allclose(out[1], ref1[0], atol=1e-5)
    assert torch.allclose(pres[0][0][1, :, 3:], pres1[0][0][0], atol=1e-5)
    assert torch.allclose(pres[-1][1][0], pres0[-1][1][0], atol=1e-5)


def test_rope_matches_spec_formula():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 2, 3, 16, generator=g)
    pos = torch.tensor([[0, 5, 8191]])
    got = rope(x, pos, 1e6).numpy()
    u = x.numpy().astype(np.float64)
    exp = np.empty_like(u)
    for t, p in enumerate(pos[0].tolist()):
        for i in range(8):
            a = np.float32(p * np.float32(1e6 ** (-2 * i / 16)))
            c, s = math.cos(a), math.sin(a)
            exp[..., t, i] = u[..., t, i] * c - u[..., t, i + 8] * s
            exp[..., t, i + 8] = u[..., t, i + 8] * c + u[..., t, i] * s
    np.testing.assert_allclose(got, exp, atol=2e-4)


@torch.no_grad()
def test_text_lm_first_layer_vs_numpy(loaded):
    """One Qwen2 layer (spec 2.1) with explicit per-head loops, GQA head n -> kv head n // groups."""
    cfg, w, m = loaded
    ids = torch.tensor([[7, 70, 700, 7000]])
    T = ids.shape[1]
    p = TEXT_LM + "layers.0."
    W = {k[len(p):]: _np(v) for k, v in w.items() if k.startswith(p)}
    x = _np(w[TEXT_LM + "embed_tokens.weight"])[ids[0].numpy()]
    h = _rmsn(x, W["input_layernorm.weight"], cfg.rms_norm_eps)
    q = (h @ W["self_attn.q_proj.weight"].T + W["self_attn.q_proj.bias"]).reshape(T, cfg.num_attention_heads, -1)
    k = (h @ W["self_attn.k_proj.weight"].T + W["self_attn.k_proj.bias"]).reshape(T, cfg.num_key_value_heads, -1)
    v = (h @ W["self_attn.v_proj.weight"].T + W["self_attn.v_proj.bias"]).reshape(T, cfg.num_key_value_heads, -1)
    D = cfg.head_dim

    def rot(u, pos):
        f = cfg.rope_theta ** (-2 * np.arange(D // 2) / D)
        a = pos * f
        return np.concatenate([u[:D // 2] * np.cos(a) - u[D // 2:] * np.sin(a),
                               u[D // 2:] * np.cos(a) + u[:D // 2] * np.sin(a)])

    q = np.stack([[rot(q[t, n], t) for n in range(q.shape[1])] for t in range(T)])
    k = np.stack([[rot(k[t, n], t) for n in range(k.shape[1])] for t in range(T)])
    o = np.zeros((T, cfg.num_attention_heads, D))
    groups = cfg.num_attention_heads // cfg.num_key_value_heads
    for i in range(T):
        for n in range(cfg.num_attention_heads):
            gi = n // groups
            s = np.array([q[i, n] @ k[j, gi] / math.sqrt(D) for j in range(i + 1)])
            pr = np.exp(s - s.max())
            pr /= pr.sum()
            o[i, n] = sum(pr[j] * v[j, gi] for j in range(i + 1))
    x = x + o.reshape(T, -1) @ W["self_attn.o_proj.weight"].T
    h2 = _rmsn(x, W["post_attention_layernorm.weight"], cfg.rms_norm_eps)
    x = x + (_silu(h2 @ W["mlp.gate_proj.weight"].T) * (h2 @ W["mlp.up_proj.weight"].T)) @ W["mlp.down_proj.weight"].T

    emb = torch.nn.functional.embedding(ids, m.text_lm.embed_tokens)
    got, kv = m.text_lm.stack.layers[0](emb, torch.arange(T)[None], None,
                                        torch.ones(1, 1, T, T, dtype=torch.bool).tril())
    np.testing.assert_allclose(got[0].numpy(), x, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(kv[0][0].transpose(0, 1).numpy(), k, rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_diffusion_head_vs_numpy(loaded):
    cfg, w, m = loaded
    W = {k[len(HEAD):]: _np(v) for k, v in w.items() if k.startswith(HEAD)}
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, cfg.latent_dim, generator=g)
    t = torch.tensor([999.0, 200.0])
    c = torch.randn(2, cfg.hidden_size, generator=g)
    got = m.head(x, t, c).numpy()

    H = cfg.hidden_size
    out = []
    for b in range(2):
        f = np.exp(-math.log(10000) * np.arange(128) / 128)
        tf = np.concatenate([np.cos(t[b].item() * f), np.sin(t[b].item() * f)])  # cos first
        temb = W["t_embedder.mlp.2.weight"] @ _silu(W["t_embedder.mlp.0.weight"] @ tf)
        s = _silu(W["cond_proj.weight"] @ _np(c[b]) + temb)
        h = W["noisy_images_proj.weight"] @ _np(x[b])
        for i in range(cfg.head_layers):
            mm = W[f"layers.{i}.adaLN_modulation.1.weight"] @ s
            shift, scale, gate = mm[:H], mm[H:2 * H], mm[2 * H:]
            n = _rmsn(h, W[f"layers.{i}.norm.weight"], cfg.head_eps) * (1 + scale) + shift
            h = h + gate * (W[f"layers.{i}.ffn.down_proj.weight"] @ (
                _silu(W[f"layers.{i}.ffn.gate_proj.weight"] @ n) * (W[f"layers.{i}.ffn.up_proj.weight"] @ n)))
        mm = W["final_layer.adaLN_modulation.1.weight"] @ s
        out.append(W["final_layer.linear.weight"] @ (_rmsn(h, None, cfg.head_eps) * (1 + mm[H:]) + mm[:H]))
    np.testing.assert_allclose(got, np.stack(out), rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_streaming_decoder_equals_whole_sequence(loaded):
    cfg, _, m = loaded
    g = torch.Generator().manual_seed(5)
    z = torch.randn(1, cfg.latent_dim, 7, generator=g)
    whole = m.decoder(z)
    assert whole.shape == (1, 1, 7 * cfg.hop_length)
    s = StreamingAcousticDecoder(m.decoder)
    k1 = torch.cat([s.step(z[..., i:i + 1]) for i in range(7)], -1)
    s.reset()
    k3 = torch.cat([s.step(z[..., i:i + 3]) for i in range(0, 7, 3)], -1)  # chunks 3, 3, 1
    scale = whole.abs().max().item()
    assert (k1 - whole).abs().max().item() < 1e-5 * max(1.0, scale)
    assert (k3 - whole).abs().max().item() < 1e-5 * max(1.0, scale)
    # causal: frame n does not change earlier samples
    z2 = z.clone()
    z2[..., 5] += 1.0
    other = m.decoder(z2)
    assert torch.equal(other[..., :5 * cfg.hop_length], whole[..., :5 * cfg.hop_length])
    assert not torch.allclose(other[..., 5 * cfg.hop_length:], whole[..., 5 * cfg.hop_length:])


@torch.no_grad()
def test_decoder_applies_denormalization(loaded):
    """forward(z) must equal the decode of z/scale - bias through the layers (section 3.8): feeding
    z' = (z + bias) * scale with zero scaling bias through denormalize gives back z."""
    cfg, _, m = loaded
    z = torch.randn(1, cfg.latent_dim, 2)
    raw = m.decoder.denormalize(z)
    np.testing.assert_allclose(raw.numpy(), (z / 0.2333984375 + 0.0703125).numpy(), rtol=1e-6, atol=1e-6)


@torch.no_grad()
def test_decoder_convt_matches_per_frame_rule(loaded):
    """The whole-sequence convT (full transposed conv, trim last r) equals the spec's per-frame rule
    y[t*r+m] = b + W[:,:,m].x_t + W[:,:,m+r].x_{t-1}."""
    cfg, _, m = loaded
    wt, bt = _np(m.decoder.up_w[0]), _np(m.decoder.up_b[0])
    r = cfg.decoder_ratios[0]
    x = np.random.default_rng(0).standard_normal((wt.shape[0], 4))
    y = torch.nn.functional.conv_transpose1d(torch.tensor(x)[None], torch.tensor(wt), torch.tensor(bt),
                                             stride=r)[..., :-r][0].numpy()
    exp = np.zeros((wt.shape[1], 4 * r))
    for t in range(4):
        for mm in range(r):
            exp[:, t * r + mm] = bt + wt[:, :, mm].T @ x[:, t] + (wt[:, :, mm + r].T @ x[:, t - 1] if t else 0)
    np.testing.assert_allclose(y, exp, atol=1e-10)
