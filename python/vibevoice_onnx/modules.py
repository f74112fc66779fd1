"""Plain fp32 PyTorch modules of VibeVoice-Realtime-0.5B, written literally from architecture.md section 2.

This is the parity oracle for the ONNX exporter and the reference generation loop, so it favours
obviously-correct eager math over speed. Modules are built from a `{official name: fp32 tensor}` dict
(see weights.py); weights are wrapped as frozen `nn.Parameter`s sharing the given storage, so building a
module does not copy the checkpoint. All dimensions come from `ModelConfig`.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .weights import BIAS, CONNECTOR, DECODER, EOS, HEAD, SCALING, TEXT_LM, TTS_LM, TYPES, load_checkpoint

KV = tuple[torch.Tensor, torch.Tensor]


# ---------------------------------------------------------------------------------------------- primitives
def rms_norm(x: torch.Tensor, w: torch.Tensor | None, eps: float) -> torch.Tensor:
    """y = w * x / sqrt(mean(x^2) + eps) over the last dim (section 2.0); `w=None` = no affine weight."""
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if w is None else y * w


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables [*positions.shape, head_dim] for rotate-half RoPE (HF Qwen2 convention, fp32)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    ang = positions.to(torch.float32)[..., None] * inv_freq  # [..., D/2]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Apply RoPE to x [B, heads, T, D] at positions [B, T]:
    u'[i] = u[i] cos a_i - u[i+D/2] sin a_i ; u'[i+D/2] = u[i+D/2] cos a_i + u[i] sin a_i."""
    cos, sin = rope_cos_sin(positions, x.shape[-1], theta)  # [B, T, D]
    cos, sin = cos[:, None], sin[:, None]
    return x * cos + rotate_half(x) * sin


def _param(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t, requires_grad=False)


class _Linear(nn.Module):
    """y = x W^T (+ b) from checkpoint tensors `{prefix}weight` / `{prefix}bias`."""

    def __init__(self, weights: dict[str, torch.Tensor], prefix: str, bias: bool):
        super().__init__()
        self.weight = _param(weights[prefix + "weight"])
        self.bias = _param(weights[prefix + "bias"]) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


# ---------------------------------------------------------------------------------------------- Qwen2 stacks
class QwenLayer(nn.Module):
    """One Qwen2 decoder layer (section 2.1): pre-norm GQA attention with RoPE + SwiGLU MLP."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor], prefix: str):
        super().__init__()
        self.cfg = cfg
        self.input_layernorm = _param(weights[prefix + "input_layernorm.weight"])
        self.post_attention_layernorm = _param(weights[prefix + "post_attention_layernorm.weight"])
        a = prefix + "self_attn."
        self.q_proj = _Linear(weights, a + "q_proj.", True)
        self.k_proj = _Linear(weights, a + "k_proj.", True)
        self.v_proj = _Linear(weights, a + "v_proj.", True)
        self.o_proj = _Linear(weights, a + "o_proj.", False)
        m = prefix + "mlp."
        self.gate_proj = _Linear(weights, m + "gate_proj.", False)
        self.up_proj = _Linear(weights, m + "up_proj.", False)
        self.down_proj = _Linear(weights, m + "down_proj.", False)

    def forward(self, x: torch.Tensor, position_ids: torch.Tensor, past: KV | None,
                allowed: torch.Tensor) -> tuple[torch.Tensor, KV]:
        """x [B,T,H]; past K/V [B,KVH,P,D] (post-RoPE); allowed [B,1,T,P+T] bool (causal & mask)."""
        cfg = self.cfg
        b, t, _ = x.shape
        h = rms_norm(x, self.input_layernorm, cfg.rms_norm_eps)
        q = self.q_proj(h).view(b, t, cfg.num_attention_heads, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(b, t, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(b, t, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)
        q = rope(q, position_ids, cfg.rope_theta)
        k = rope(k, position_ids, cfg.rope_theta)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        # query head n uses kv head n // groups
        kk = k.repeat_interleave(cfg.num_kv_groups, dim=1)
        vv = v.repeat_interleave(cfg.num_kv_groups, dim=1)
        scores = (q @ kk.transpose(-1, -2)) / math.sqrt(cfg.head_dim)  # [B, heads, T, P+T]
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores, dim=-1)
        o = (probs @ vv).transpose(1, 2).reshape(b, t, cfg.num_attention_heads * cfg.head_dim)
        x = x + self.o_proj(o)
        h2 = rms_norm(x, self.post_attention_layernorm, cfg.rms_norm_eps)
        x = x + self.down_proj(F.silu(self.gate_proj(h2)) * self.up_proj(h2))
        return x, present


class QwenStack(nn.Module):
    """`n_layers` Qwen2 layers under `prefix` ('model.language_model.' etc.), optional final RMSNorm."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor], prefix: str, n_layers: int,
                 final_norm: bool):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(QwenLayer(cfg, weights, f"{prefix}layers.{l}.") for l in range(n_layers))
        self.norm = _param(weights[prefix + "norm.weight"]) if final_norm else None

    def forward(self, x: torch.Tensor, position_ids: torch.Tensor, past: list[KV] | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, list[KV]]:
        """x [B,T,H], position_ids [B,T] long, past per layer (K,V) [B,KVH,P,D] or None,
        attention_mask [B,P+T] (0 = padded position, never attended) or None.
        Returns (hidden [B,T,H] (normed iff final_norm), present per layer [B,KVH,P+T,D])."""
        b, t, _ = x.shape
        p = 0 if past is None or len(past) == 0 else past[0][0].shape[2]
        if past is not None and len(past) not in (0, len(self.layers)):
            raise ValueError(f"past has {len(past)} layers, expected {len(self.layers)}")
        # causal: query i (absolute index p+i) sees keys 0..p+i
        qi = torch.arange(t, device=x.device)[:, None] + p
        kj = torch.arange(p + t, device=x.device)[None, :]
        allowed = (kj <= qi)[None, None]  # [1,1,T,P+T]
        if attention_mask is not None:
            if attention_mask.shape != (b, p + t):
                raise ValueError(f"attention_mask shape {tuple(attention_mask.shape)} != {(b, p + t)}")
            allowed = allowed & (attention_mask != 0)[:, None, None, :]
        allowed = allowed.expand(b, 1, t, p + t)
        present: list[KV] = []
        for l, layer in enumerate(self.layers):
            x, kv = layer(x, position_ids, past[l] if p > 0 else None, allowed)
            present.append(kv)
        if self.norm is not None:
            x = rms_norm(x, self.norm, self.cfg.rms_norm_eps)
        return x, present


class TextLM(nn.Module):
    """Text LM (section 2.2): token embedding gather + text_layers Qwen2 layers, no final norm."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = _param(weights[TEXT_LM + "embed_tokens.weight"])
        self.stack = QwenStack(cfg, weights, TEXT_LM, cfg.text_layers, final_norm=False)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, past: list[KV] | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, list[KV]]:
        """input_ids [B,T] long -> (lm hidden [B,T,H] un-normed, present)."""
        x = F.embedding(input_ids, self.embed_tokens)
        return self.stack(x, position_ids, past, attention_mask)


class TTSLM(nn.Module):
    """TTS LM (sections 2.3, 2.4, 2.7): type embedding add + tts_layers layers + final norm; EOS head."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.input_types = _param(weights[TYPES])
        self.stack = QwenStack(cfg, weights, TTS_LM, cfg.tts_layers, final_norm=True)
        self.eos_fc1 = _Linear(weights, EOS + "fc1.", True)
        self.eos_fc2 = _Linear(weights, EOS + "fc2.", True)

    def type_embedding(self, i: int) -> torch.Tensor:
        """Row i of tts_input_types ([H]); 0 = speech, 1 = text."""
        return self.input_types[i]

    def forward(self, inputs_embeds: torch.Tensor, type_id: torch.Tensor, position_ids: torch.Tensor,
                past: list[KV] | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, list[KV]]:
        """inputs_embeds [B,T,H], type_id [B] long -> (final-normed hidden of all positions [B,T,H], present)."""
        x = inputs_embeds + self.input_types[type_id][:, None, :]
        return self.stack(x, position_ids, past, attention_mask)

    def eos_logit(self, h: torch.Tensor) -> torch.Tensor:
        """EOS classifier on final-normed hidden h [B,H] -> logit [B]; stop when > 0."""
        return self.eos_fc2(F.relu(self.eos_fc1(h)))[..., 0]


# ---------------------------------------------------------------------------------------------- small heads
class Connector(nn.Module):
    """Acoustic connector (section 2.5): fc2(RMSNorm(fc1(z))), no activation; z is the raw diffusion output."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.fc1 = _Linear(weights, CONNECTOR + "fc1.", True)
        self.norm = _param(weights[CONNECTOR + "norm.weight"])
        self.fc2 = _Linear(weights, CONNECTOR + "fc2.", True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc2(rms_norm(self.fc1(z), self.norm, self.cfg.rms_norm_eps))


def timestep_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features [B, dim] of float timesteps t [B]: cos first, then sin (section 2.6)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class DiffusionHead(nn.Module):
    """Diffusion ('prediction') head (section 2.6): adaLN-modulated SwiGLU layers, v-prediction output."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.noisy_images_proj = _Linear(weights, HEAD + "noisy_images_proj.", False)
        self.cond_proj = _Linear(weights, HEAD + "cond_proj.", False)
        self.t_mlp0 = _Linear(weights, HEAD + "t_embedder.mlp.0.", False)
        self.t_mlp2 = _Linear(weights, HEAD + "t_embedder.mlp.2.", False)
        self.norms = nn.ParameterList(_param(weights[f"{HEAD}layers.{i}.norm.weight"])
                                      for i in range(cfg.head_layers))
        self.gate = nn.ModuleList(_Linear(weights, f"{HEAD}layers.{i}.ffn.gate_proj.", False)
                                  for i in range(cfg.head_layers))
        self.up = nn.ModuleList(_Linear(weights, f"{HEAD}layers.{i}.ffn.up_proj.", False)
                                for i in range(cfg.head_layers))
        self.down = nn.ModuleList(_Linear(weights, f"{HEAD}layers.{i}.ffn.down_proj.", False)
                                  for i in range(cfg.head_layers))
        self.adaln = nn.ModuleList(_Linear(weights, f"{HEAD}layers.{i}.adaLN_modulation.1.", False)
                                   for i in range(cfg.head_layers))
        self.final_adaln = _Linear(weights, HEAD + "final_layer.adaLN_modulation.1.", False)
        self.final_linear = _Linear(weights, HEAD + "final_layer.linear.", False)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """x [B,Z] noisy latent, t [B] float timestep, c [B,H] condition -> v [B,Z]."""
        hdim, eps = self.cfg.hidden_size, self.cfg.head_eps
        temb = self.t_mlp2(F.silu(self.t_mlp0(timestep_features(t, self.cfg.head_freq_dim))))
        s = F.silu(self.cond_proj(c) + temb)
        h = self.noisy_images_proj(x)
        for i in range(self.cfg.head_layers):
            m = self.adaln[i](s)
            shift, scale, gate = m[:, :hdim], m[:, hdim:2 * hdim], m[:, 2 * hdim:]
            n = rms_norm(h, self.norms[i], eps) * (1 + scale) + shift
            h = h + gate * self.down[i](F.silu(self.gate[i](n)) * self.up[i](n))
        m = self.final_adaln(s)
        shift, scale = m[:, :hdim], m[:, hdim:]
        return self.final_linear(rms_norm(h, None, eps) * (1 + scale) + shift)


# ---------------------------------------------------------------------------------------------- decoder
def conv_rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over the channel axis of [B, C, T] (transpose -> norm -> transpose)."""
    return rms_norm(x.transpose(1, 2), w, eps).transpose(1, 2)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Exact erf GELU."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Block1D(nn.Module):
    """Decoder block (section 2.8): depthwise causal conv mixer + per-step FFN, both with layer scale."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor], prefix: str):
        super().__init__()
        self.eps = cfg.decoder_eps
        self.norm = _param(weights[prefix + "norm.weight"])
        self.ffn_norm = _param(weights[prefix + "ffn_norm.weight"])
        self.mixer_w = _param(weights[prefix + "mixer.conv.conv.conv.weight"])
        self.mixer_b = _param(weights[prefix + "mixer.conv.conv.conv.bias"])
        self.gamma = _param(weights[prefix + "gamma"])
        self.ffn_gamma = _param(weights[prefix + "ffn_gamma"])
        self.linear1 = _Linear(weights, prefix + "ffn.linear1.", True)
        self.linear2 = _Linear(weights, prefix + "ffn.linear2.", True)

    def mix(self, xn_padded: torch.Tensor) -> torch.Tensor:
        """Depthwise conv without padding on an input that already carries its 6-column left context."""
        return F.conv1d(xn_padded, self.mixer_w, self.mixer_b, groups=self.mixer_w.shape[0])

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        h = conv_rms_norm(x, self.ffn_norm, self.eps).transpose(1, 2)  # [B, T, C]
        h = self.linear2(gelu(self.linear1(h))).transpose(1, 2)
        return x + self.ffn_gamma[None, :, None] * h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Whole sequence: causal conv = zero left padding of k-1."""
        k = self.mixer_w.shape[-1]
        xn = conv_rms_norm(x, self.norm, self.eps)
        x = x + self.gamma[None, :, None] * self.mix(F.pad(xn, (k - 1, 0)))
        return self.ffn(x)


class AcousticDecoder(nn.Module):
    """sigma-VAE acoustic decoder (section 2.8), whole-sequence decode of the RAW diffusion output.

    forward(z [1,Z,N]) -> audio [1,1,hop*N]; applies z / speech_scaling_factor - speech_bias_factor first
    (section 3.8). Causal conv = left zero padding k-1; convT = full transposed conv, drop the last r samples.
    """

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.speech_scaling_factor = _param(weights[SCALING])
        self.speech_bias_factor = _param(weights[BIAS])
        self.stem_w = _param(weights[DECODER + "upsample_layers.0.0.conv.conv.weight"])
        self.stem_b = _param(weights[DECODER + "upsample_layers.0.0.conv.conv.bias"])
        self.up_w = nn.ParameterList(_param(weights[f"{DECODER}upsample_layers.{i}.0.convtr.convtr.weight"])
                                     for i in range(1, len(cfg.decoder_ratios) + 1))
        self.up_b = nn.ParameterList(_param(weights[f"{DECODER}upsample_layers.{i}.0.convtr.convtr.bias"])
                                     for i in range(1, len(cfg.decoder_ratios) + 1))
        self.stages = nn.ModuleList(
            nn.ModuleList(Block1D(cfg, weights, f"{DECODER}stages.{i}.{j}.") for j in range(depth))
            for i, depth in enumerate(cfg.decoder_depths))
        self.head_w = _param(weights[DECODER + "head.conv.conv.weight"])
        self.head_b = _param(weights[DECODER + "head.conv.conv.bias"])

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z / self.speech_scaling_factor - self.speech_bias_factor

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        k = self.cfg.decoder_kernel
        x = self.denormalize(z)
        x = F.conv1d(F.pad(x, (k - 1, 0)), self.stem_w, self.stem_b)
        for i, stage in enumerate(self.stages):
            if i > 0:
                r = self.cfg.decoder_ratios[i - 1]
                x = F.conv_transpose1d(x, self.up_w[i - 1], self.up_b[i - 1], stride=r)
                x = x[..., :-r]  # padding_total = k - s = r, all trimmed on the right
            for block in stage:
                x = block(x)
        return F.conv1d(F.pad(x, (k - 1, 0)), self.head_w, self.head_b)


class StreamingAcousticDecoder(nn.Module):
    """Streaming decode with the original's per-layer input caches (section 2.8, "Streaming semantics").

    k=7 convs keep their last k-1 input columns (zeros initially; for the mixers, the normalized inputs);
    each convT keeps its last 2r-1 input frames (empty initially) and emits the outputs of the new frames.
    step(z [1,Z,K]) -> audio [1,1,hop*K]; decoding in any chunking equals AcousticDecoder on the whole sequence.
    """

    def __init__(self, decoder: AcousticDecoder):
        super().__init__()
        self.dec = decoder
        self.reset()

    def reset(self) -> None:
        self.conv_cache: dict[str, torch.Tensor] = {}
        self.convt_cache: dict[int, torch.Tensor] = {}

    def _causal_conv(self, key: str, x: torch.Tensor, fn) -> torch.Tensor:
        k = self.dec.cfg.decoder_kernel
        cache = self.conv_cache.get(key)
        if cache is None:
            cache = x.new_zeros(x.shape[0], x.shape[1], k - 1)
        full = torch.cat([cache, x], dim=-1)
        self.conv_cache[key] = full[..., -(k - 1):]
        return fn(full)

    def _convt(self, i: int, x: torch.Tensor) -> torch.Tensor:
        r = self.dec.cfg.decoder_ratios[i - 1]
        cache = self.convt_cache.get(i)
        n_ctx = 0 if cache is None else cache.shape[-1]
        full = x if cache is None else torch.cat([cache, x], dim=-1)
        y = F.conv_transpose1d(full, self.dec.up_w[i - 1], self.dec.up_b[i - 1], stride=r)
        self.convt_cache[i] = full[..., -(2 * r - 1):]
        return y[..., n_ctx * r:(n_ctx + x.shape[-1]) * r]

    @torch.no_grad()
    def step(self, z: torch.Tensor) -> torch.Tensor:
        d = self.dec
        x = d.denormalize(z)
        x = self._causal_conv("stem", x, lambda f: F.conv1d(f, d.stem_w, d.stem_b))
        for i, stage in enumerate(d.stages):
            if i > 0:
                x = self._convt(i, x)
            for j, block in enumerate(stage):
                xn = conv_rms_norm(x, block.norm, block.eps)
                x = x + block.gamma[None, :, None] * self._causal_conv(f"stages.{i}.{j}", xn, block.mix)
                x = block.ffn(x)
        return self._causal_conv("head", x, lambda f: F.conv1d(f, d.head_w, d.head_b))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.step(z)


# ---------------------------------------------------------------------------------------------- bundle
class VibeVoice(nn.Module):
    """All neural parts of the model, built from one checkpoint's weights."""

    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.cfg = cfg
        self.text_lm = TextLM(cfg, weights)
        self.tts_lm = TTSLM(cfg, weights)
        self.connector = Connector(cfg, weights)
        self.head = DiffusionHead(cfg, weights)
        self.decoder = AcousticDecoder(cfg, weights)
        self.speech_scaling_factor = float(weights[SCALING])
        self.speech_bias_factor = float(weights[BIAS])
        self.eval()

    @classmethod
    def from_checkpoint(cls, ckpt_dir: str | Path) -> "VibeVoice":
        cfg, weights = load_checkpoint(ckpt_dir)
        return cls(cfg, weights)
