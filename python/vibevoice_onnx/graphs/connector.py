"""G3 `connector.onnx`: fc1 -> RMSNorm -> fc2, no activation (architecture.md 2.5). Input is the raw
diffusion output z, not the decoder-scaled latent."""

from __future__ import annotations

import onnx

from ..config import ModelConfig
from ..weights import CONNECTOR
from .builder import FLOAT, GraphBuilder
from .qwen import Weights, npw


def build_connector(cfg: ModelConfig, weights: Weights) -> onnx.ModelProto:
    g = GraphBuilder("connector")
    w = lambda n: npw(weights, CONNECTOR + n)  # noqa: E731
    z = g.input("speech_latent", FLOAT, ["batch", cfg.latent_dim])
    x = g.linear(z, w("fc1.weight"), w("fc1.bias"), "fc1")
    x = g.rms_norm(x, w("norm.weight"), cfg.rms_norm_eps, "norm")
    x = g.linear(x, w("fc2.weight"), w("fc2.bias"), "fc2")
    g.output(x, "embeds", FLOAT, ["batch", cfg.hidden_size])
    return g.model()
