"""ONNX graph builders, one module per graph of docs/model-format.md. Each `build_*(cfg, weights)`
returns an `onnx.ModelProto` with fp32 weights as initializers."""

from .acoustic_decoder import DecoderState, build_acoustic_decoder, decoder_states
from .connector import build_connector
from .diffusion_head import build_diffusion_head
from .text_lm import build_text_lm
from .tts_lm import build_tts_lm

GRAPHS = {
    "text_lm": build_text_lm,
    "tts_lm": build_tts_lm,
    "connector": build_connector,
    "diffusion_head": build_diffusion_head,
    "acoustic_decoder": build_acoustic_decoder,
}

__all__ = ["GRAPHS", "DecoderState", "decoder_states", "build_text_lm", "build_tts_lm", "build_connector",
           "build_diffusion_head", "build_acoustic_decoder"]
