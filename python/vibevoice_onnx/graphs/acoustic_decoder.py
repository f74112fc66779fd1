"""G5 `acoustic_decoder.onnx`: the stateful streaming sigma-VAE acoustic decoder (architecture.md 2.8).

One call decodes K latent frames into hop_length*K samples. Every causal conv (stem, depthwise mixers,
head; kernel k) keeps the last k-1 input columns as a state; every causal transposed conv (kernel 2r,
stride r) keeps its previous input frame. Decoding frame by frame, in chunks or all at once therefore gives
identical audio, bit for bit (every op computes the values of a frame in the same order for any
number of frames per call, see `stem`). States are explicit graph inputs/outputs `state_in_NN` and
`state_out_NN`, listed in graph order by `decoder_states(cfg)` (34 for the released geometry), all zeros at the start of an utterance.

The graph takes the RAW diffusion output z and applies `z / speech_scaling_factor - speech_bias_factor`
itself, so callers cannot get the de-normalisation wrong.

Layout: after the stem the signal is kept time-major [1, T, C], so the FFN linears are plain MatMuls with
constant weights (quantizable to MatMulNBits) and the norms are last-axis RMSNorms (fused by ORT); only
the depthwise mixer convs and the head conv run in [1, C, T]. The causal transposed convs (kernel 2r,
stride r) are written as ONE MatMul per layer, using the per-frame rule of architecture.md 2.8,
    y[t*r + m] = b + W[:, :, m]^T x_t + W[:, :, m + r]^T x_{t-1},   m = 0..r-1,
i.e. [x_t, x_{t-1}] (2*C_in) times a [2*C_in, r*C_out] matrix, reshaped to r time steps: ORT's
ConvTranspose kernel took ~half of the decoder's time on the 2048->1024 layer (col2im over a 33M-weight
tensor per call), the MatMul form is a plain GEMV/GEMM and is quantizable like the other linears.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from ..config import ModelConfig
from ..weights import BIAS, DECODER, SCALING
from .builder import FLOAT, GraphBuilder
from .qwen import Weights, npw

INT64_MAX = np.iinfo(np.int64).max
# MatMuls that see more time steps than this per latent frame stay float in int8/int4 models: at 1-8
# rows they are bandwidth-bound (int8 weights help, e.g. stage 0 and the first two upsamplers hold ~95%
# of the decoder's weights), at 40+ rows compute-bound (int8 activation quantization only adds work).
QUANT_MAX_ROWS_PER_FRAME = 8


@dataclass(frozen=True)
class DecoderState:
    name: str                 # "state_00"; graph I/O is state_in_00 / state_out_00
    shape: tuple[int, ...]
    owner: str

    def manifest(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "owner": self.owner}


def _state_name(i: int, n: int) -> str:
    return f"state_{i:0{max(2, len(str(n - 1)))}d}"


def decoder_states(cfg: ModelConfig) -> list[DecoderState]:
    """The decoder's state tensors in graph order (architecture.md 2.8, generalised to the config)."""
    ch, k = cfg.decoder_channels, cfg.decoder_kernel
    spec: list[tuple[tuple[int, ...], str]] = []
    for i, depth in enumerate(cfg.decoder_depths):
        if i == 0:
            spec.append(((1, cfg.latent_dim, k - 1), "upsample_layers.0 (stem conv)"))
        else:
            spec.append(((1, ch[i - 1], 1), f"upsample_layers.{i} (convtr, previous input frame)"))
        spec += [((1, ch[i], k - 1), f"stages.{i}.{j} (mixer dwconv)") for j in range(depth)]
    spec.append(((1, ch[-1], k - 1), "head (conv)"))
    return [DecoderState(_state_name(i, len(spec)), shape, owner) for i, (shape, owner) in enumerate(spec)]


def build_acoustic_decoder(cfg: ModelConfig, weights: Weights) -> onnx.ModelProto:
    g = GraphBuilder("acoustic_decoder")
    states = decoder_states(cfg)
    state_iter = iter(states)
    w = lambda n: npw(weights, DECODER + n)  # noqa: E731
    ch, eps = cfg.decoder_channels, cfg.decoder_eps

    latent = g.input("latent", FLOAT, [1, cfg.latent_dim, "frames"])
    for s in states:
        g.input(f"state_in_{s.name[6:]}", FLOAT, list(s.shape))

    def causal_conv(x: str, weight: np.ndarray, bias: np.ndarray, groups: int, tag: str) -> str:
        """Conv over concat(state, x) [1, C, k-1+T] without padding; the new state is the last k-1
        input columns."""
        st = next(state_iter)
        xc = g.concat([f"state_in_{st.name[6:]}", x], 2, f"{tag}_ctx")
        y = g.op("Conv", [xc, g.weight(weight, f"{tag}.weight"), g.weight(bias, f"{tag}.bias")], tag,
                 group=groups, kernel_shape=[weight.shape[-1]])
        g.output(g.slice(xc, [-(weight.shape[-1] - 1)], [INT64_MAX], [2], f"{tag}_state"),
                 f"state_out_{st.name[6:]}", FLOAT, list(st.shape))
        return y

    def causal_dwconv_taps(x: str, weight: np.ndarray, bias: np.ndarray, tag: str) -> str:
        """The depthwise causal conv of causal_conv as k explicit multiply-adds of shifted slices, for the
        layers that see one column per latent frame: ORT's depthwise Conv sums the taps in another order
        for an output width of 1 than for wider outputs (the audio of 1-frame chunks would differ in the
        last bits from that of larger chunks); element-wise ops compute every column alike."""
        c, _, k = weight.shape
        st = next(state_iter)
        xc = g.concat([f"state_in_{st.name[6:]}", x], 2, f"{tag}_ctx")                  # [1, C, k-1+T]
        y = g.weight(bias.reshape(1, c, 1), f"{tag}.bias")
        for j in range(k):
            tap = g.slice(xc, [j], [j - (k - 1) if j < k - 1 else INT64_MAX], [2], f"{tag}_tap{j}")  # [1, C, T]
            y = g.add(y, g.mul(tap, g.weight(weight[:, 0, j].reshape(1, c, 1), f"{tag}.w{j}"), f"{tag}_m{j}"),
                      f"{tag}_s{j}")
        g.output(g.slice(xc, [-(k - 1)], [INT64_MAX], [2], f"{tag}_state"), f"state_out_{st.name[6:]}", FLOAT,
                 list(st.shape))
        return y

    def causal_convtr(x: str, weight: np.ndarray, bias: np.ndarray, stride: int, tag: str) -> str:
        """Causal ConvTranspose1d (kernel 2r, stride r) on time-major x [1, T, C_in] -> [1, T*r, C_out],
        as one MatMul of [x_t, x_{t-1}] (see the module docstring). State: the previous input frame,
        declared [1, C_in, 1] (same memory as [1, 1, C_in])."""
        c_in, c_out, k = weight.shape
        if k != 2 * stride:
            raise ValueError(f"{tag}: kernel {k} != 2 * stride {stride} is not supported")
        st = next(state_iter)
        prev = g.reshape(f"state_in_{st.name[6:]}", [1, 1, c_in], f"{tag}_prev0")
        ctx = g.concat([prev, x], 1, f"{tag}_ctx")                                       # [1, T+1, C_in]
        cur_prev = g.concat([g.slice(ctx, [1], [INT64_MAX], [1], f"{tag}_cur"),
                             g.slice(ctx, [0], [-1], [1], f"{tag}_prev")], -1, f"{tag}_pair")  # [1, T, 2*C_in]
        w_cur = weight[:, :, :stride].transpose(0, 2, 1).reshape(c_in, stride * c_out)
        w_prev = weight[:, :, stride:].transpose(0, 2, 1).reshape(c_in, stride * c_out)
        y = g.matmul(cur_prev, g.weight(np.concatenate([w_cur, w_prev], 0), f"{tag}.weight_mm"), f"{tag}_mm")
        y = g.add(y, g.weight(np.tile(bias, stride), f"{tag}.bias_mm"), f"{tag}_b")     # [1, T, r*C_out]
        g.output(g.reshape(g.slice(ctx, [-1], [INT64_MAX], [1], f"{tag}_last"), [1, c_in, 1], f"{tag}_state"),
                 f"state_out_{st.name[6:]}", FLOAT, list(st.shape))
        return g.reshape(y, [1, -1, c_out], tag)

    def stem(x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """The stem conv (dense, kernel k) on x [1, Z, T] -> time-major [1, T, C], as ONE MatMul of the k
        context columns of each frame, [x_{t-k+1}, ..., x_t] (k*Z), with a constant [k*Z, C] matrix. A
        Conv would give the same values, but ORT's Conv kernel sums in another order when T = 1 than when
        T > 1 (last bits of the audio differ between chunk sizes); a MatMul with constant weights computes
        each row alike for any number of rows, so every chunk schedule decodes to bit-identical audio."""
        c_out, c_in, k = weight.shape
        st = next(state_iter)
        xc = g.concat([f"state_in_{st.name[6:]}", x], 2, "stem_ctx")                     # [1, Z, k-1+T]
        g.output(g.slice(xc, [-(k - 1)], [INT64_MAX], [2], "stem_state"), f"state_out_{st.name[6:]}", FLOAT,
                 list(st.shape))
        xt = g.transpose(xc, [0, 2, 1], "stem_ctx_ntc")                                  # [1, k-1+T, Z]
        taps = [g.slice(xt, [j], [j - (k - 1) if j < k - 1 else INT64_MAX], [1], f"stem_tap{j}") for j in range(k)]
        unfolded = g.concat(taps, -1, "stem_unfold")                                     # [1, T, k*Z]
        w_mm = weight.transpose(2, 1, 0).reshape(k * c_in, c_out)                        # [j*Z + c, o] = W[o, c, j]
        with g.keep_float_matmuls():
            y = g.matmul(unfolded, g.weight(np.ascontiguousarray(w_mm), "stem.weight_mm"), "stem_mm")
        return g.add(y, g.weight(bias, "stem.bias"), "stem")                             # [1, T, C]

    scale = float(npw(weights, SCALING))
    bias = float(npw(weights, BIAS))
    with g.fp32():
        x = g.sub(g.div(latent, g.const(scale), "z_scaled"), g.const(bias), "z_denorm")  # [1, Z, K]

    def block(x: str, i: int, j: int) -> str:
        """Block1D j of stage i on time-major x."""
        p, tag = f"stages.{i}.{j}.", f"s{i}b{j}"
        hn = g.rms_norm(x, w(p + "norm.weight"), eps, f"{tag}.norm")
        conv = causal_dwconv_taps if math.prod(cfg.decoder_ratios[:i]) == 1 else (
            lambda x_, w_, b_, t_: causal_conv(x_, w_, b_, ch[i], t_))
        mix = conv(g.transpose(hn, [0, 2, 1], f"{tag}.norm_nct"), w(p + "mixer.conv.conv.conv.weight"),
                   w(p + "mixer.conv.conv.conv.bias"), f"{tag}.mixer")
        mix = g.transpose(mix, [0, 2, 1], f"{tag}.mix_ntc")
        mix = g.mul(mix, g.weight(w(p + "gamma"), f"{tag}.gamma"), f"{tag}.mix_scaled")
        with g.fp32():
            x = g.add(x, mix, f"{tag}.res1")
        hn = g.rms_norm(x, w(p + "ffn_norm.weight"), eps, f"{tag}.ffn_norm")
        f = g.gelu(g.linear(hn, w(p + "ffn.linear1.weight"), w(p + "ffn.linear1.bias"), f"{tag}.linear1"),
                   f"{tag}.gelu")
        f = g.linear(f, w(p + "ffn.linear2.weight"), w(p + "ffn.linear2.bias"), f"{tag}.linear2")
        f = g.mul(f, g.weight(w(p + "ffn_gamma"), f"{tag}.ffn_gamma"), f"{tag}.ffn_scaled")
        with g.fp32():
            return g.add(x, f, f"{tag}.res2")

    for i, depth in enumerate(cfg.decoder_depths):
        if i == 0:
            x = stem(x, w("upsample_layers.0.0.conv.conv.weight"), w("upsample_layers.0.0.conv.conv.bias"))
        else:
            p = f"upsample_layers.{i}.0.convtr.convtr."
            with g.keep_float_matmuls(math.prod(cfg.decoder_ratios[:i - 1]) > QUANT_MAX_ROWS_PER_FRAME):
                x = causal_convtr(x, w(p + "weight"), w(p + "bias"), cfg.decoder_ratios[i - 1], f"up{i}")
        with g.keep_float_matmuls(math.prod(cfg.decoder_ratios[:i]) > QUANT_MAX_ROWS_PER_FRAME):
            for j in range(depth):
                x = block(x, i, j)

    x = g.transpose(x, [0, 2, 1], "head_nct")                                            # [1, C, T]
    audio = causal_conv(x, w("head.conv.conv.weight"), w("head.conv.conv.bias"), 1, "head")
    g.output(audio, "audio", FLOAT, [1, 1, "samples"])
    # graph outputs: audio first, then the states in order (causal_conv/convtr appended them as they went)
    g.outputs.insert(0, g.outputs.pop())
    return g.model()
