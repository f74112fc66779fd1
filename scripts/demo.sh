#!/usr/bin/env bash
# The main job in one command: set up, build, export a model directory, synthesize a sentence to a WAV.
#
#   scripts/demo.sh [--checkpoint HF_DIR] [--voices DIR_OR_PT] [--voice NAME] [--text "..."] [-o out.wav]
#
# With --checkpoint pointing at the real Hugging Face checkpoint of microsoft/VibeVoice-Realtime-0.5B
# (config.json + model.safetensors) this makes real speech with the official voice presets. Without it, a
# tiny RANDOM model with the official tensor schema is created and used: the pipeline is the real one, but
# random weights produce noise-like audio, not speech.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SHARED="$ROOT/../shared/data"
CHECKPOINT=""; VOICES=""; VOICE=""; OUTWAV="$ROOT/out/demo.wav"
TEXT="Hello! This is VibeVoice running natively on ONNX Runtime, streaming speech as it is generated."
TOKENIZER="$SHARED/tokenizer/tokenizer.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --checkpoint) CHECKPOINT=$2; shift 2 ;;
    --voices) VOICES=$2; shift 2 ;;
    --voice) VOICE=$2; shift 2 ;;
    --text) TEXT=$2; shift 2 ;;
    --tokenizer) TOKENIZER=$2; shift 2 ;;
    -o|--out) OUTWAV=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
VVO="$ROOT/build/venv/bin/vibevoice-onnx"
[ -f "$TOKENIZER" ] || { echo "demo.sh: tokenizer.json not found at $TOKENIZER (pass --tokenizer)" >&2; exit 2; }

if [ -z "$CHECKPOINT" ]; then
  echo "demo.sh: no --checkpoint given: using a tiny RANDOM model (real pipeline, random weights: the audio is noise, not speech)." >&2
  CKPT="$ROOT/build/artifacts/demo-tiny/checkpoint"
  [ -f "$CKPT/model.safetensors" ] || "$VVO" random-checkpoint --preset tiny --seed 0 \
      --config "$SHARED/config/VibeVoice-Realtime-0.5B/config.json" --out "$CKPT"
  CHECKPOINT="$CKPT"; MODEL="$ROOT/build/artifacts/demo-tiny/model"
  VOICES=${VOICES:-$CKPT/voices/synthetic.pt}; VOICE=${VOICE:-synthetic}
else
  MODEL="$ROOT/build/artifacts/model-$(basename "$(realpath "$CHECKPOINT")")"
  VOICES=${VOICES:-$SHARED/voices}; VOICE=${VOICE:-en-Emma_woman}
fi
[ -f "$MODEL/vibevoice.json" ] || "$VVO" export --checkpoint "$CHECKPOINT" --out "$MODEL" \
    --tokenizer "$TOKENIZER" --voices "$VOICES"
mkdir -p "$(dirname "$OUTWAV")"
build/release/vibevoice synth --model "$MODEL" --voice "$VOICE" --text "$TEXT" -o "$OUTWAV"
echo "wrote $OUTWAV"
