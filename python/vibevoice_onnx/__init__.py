"""vibevoice-onnx: export VibeVoice-Realtime-0.5B to ONNX, convert voices, quantize, and a PyTorch reference."""

__version__ = "0.1.0"
FORMAT_VERSION = 1
