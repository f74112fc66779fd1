"""Independent float64 numpy re-derivations of the spec formulas (/work/shared/spec/architecture.md section 2),
written from the spec text, not from python/vibevoice_onnx/modules.py. `W` is a dict of numpy arrays by the
official checkpoint tensor names (section 2 key tables); shapes follow PyTorch: Linear [out, in], Conv1d
[C_out, C_in/groups, k], ConvTranspose1d [C_in, C_out, k]."""

from __future__ import annotations

import math

import numpy as np
import torch

QWEN_EPS = 1e-6     # 2.0: Qwen RMSNorm (LMs, connector)
DECODER_EPS = 1e-5  # 2.0: ConvRMSNorm (acoustic decoder)
CONNECTOR = "model.acoustic_connector."
EOS = "tts_eos_classifier."
DECODER = "model.acoustic_tokenizer.decoder."


def f64(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64)


def rms_norm(x: np.ndarray, w: np.ndarray | None, eps: float) -> np.ndarray:
    """y = w * x / sqrt(mean(x^2) + eps) over the last axis (2.0); no weight for the head's final norm."""
    y = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return y if w is None else y * w


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.exp(-x))


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact erf form 0.5 x (1 + erf(x / sqrt 2)) (2.0)."""
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))


def linear(W: dict, prefix: str, x: np.ndarray) -> np.ndarray:
    """x [..., in] -> x W^T + b."""
    return x @ W[prefix + "weight"].T + W[prefix + "bias"]


def connector(W: dict, z: np.ndarray) -> np.ndarray:
    """2.5: e = fc2(RMSNorm(fc1(z), norm.weight, 1e-6)), no activation; z [B, 64] raw diffusion output."""
    return linear(W, CONNECTOR + "fc2.", rms_norm(linear(W, CONNECTOR + "fc1.", z), W[CONNECTOR + "norm.weight"],
                                                  QWEN_EPS))


def eos_logit(W: dict, h: np.ndarray) -> np.ndarray:
    """2.7: logit = fc2(ReLU(fc1(h))) on the final-normed TTS hidden h [B, H] -> [B]."""
    return linear(W, EOS + "fc2.", np.maximum(linear(W, EOS + "fc1.", h), 0))[..., 0]


def causal_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2.8: y[t] = b + sum_j W[:,:,j] . x[t-(k-1)+j], x[tau < 0] = 0; x [C_in, T]. Depthwise when W is
    [C, 1, k] and C_in = C > 1 (groups = C)."""
    k, T = w.shape[-1], x.shape[1]
    xp = np.concatenate([np.zeros((x.shape[0], k - 1)), x], 1)
    depthwise = w.shape[1] == 1 and x.shape[0] == w.shape[0] > 1
    y = np.repeat(b[:, None], T, 1)
    for j in range(k):
        y = y + (w[:, 0, j, None] * xp[:, j:j + T] if depthwise else w[:, :, j] @ xp[:, j:j + T])
    return y


def causal_conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2.8 per-frame rule (stride r, kernel 2r): y[t r + m] = b + W[:,:,m]^T x_t + W[:,:,m+r]^T x_{t-1}, x_{-1} = 0."""
    r, T = w.shape[-1] // 2, x.shape[1]
    prev = np.concatenate([np.zeros((x.shape[0], 1)), x[:, :-1]], 1)
    y = np.empty((w.shape[1], T * r))
    for m in range(r):
        y[:, m::r] = b[:, None] + w[:, :, m].T @ x + w[:, :, m + r].T @ prev
    return y


def block1d(W: dict, p: str, x: np.ndarray) -> np.ndarray:
    """2.8 Block1D on x [d, T]: depthwise causal mixer and per-step FFN, each with layer scale; ConvRMSNorm
    normalizes each time step's channel vector."""
    xn = rms_norm(x.T, W[p + "norm.weight"], DECODER_EPS).T
    x = x + W[p + "gamma"][:, None] * causal_conv(xn, W[p + "mixer.conv.conv.conv.weight"],
                                                  W[p + "mixer.conv.conv.conv.bias"])
    h = rms_norm(x.T, W[p + "ffn_norm.weight"], DECODER_EPS)  # [T, d]
    h = linear(W, p + "ffn.linear2.", gelu(linear(W, p + "ffn.linear1.", h)))
    return x + W[p + "ffn_gamma"][:, None] * h.T


def acoustic_decoder(W: dict, z: np.ndarray, depths: list[int]) -> np.ndarray:
    """3.8 + 2.8: raw = z / speech_scaling_factor - speech_bias_factor, then stem conv, for each stage i the
    upsampling convT (i > 0) and depths[i] blocks, identity final norm, head conv. z [64, N] -> audio
    [3200 N]."""
    x = z / W["model.speech_scaling_factor"] - W["model.speech_bias_factor"]
    x = causal_conv(x, W[DECODER + "upsample_layers.0.0.conv.conv.weight"],
                    W[DECODER + "upsample_layers.0.0.conv.conv.bias"])
    for i, depth in enumerate(depths):
        if i > 0:
            p = f"{DECODER}upsample_layers.{i}.0.convtr.convtr."
            x = causal_conv_transpose(x, W[p + "weight"], W[p + "bias"])
        for j in range(depth):
            x = block1d(W, f"{DECODER}stages.{i}.{j}.", x)
    return causal_conv(x, W[DECODER + "head.conv.conv.weight"], W[DECODER + "head.conv.conv.bias"])[0]
