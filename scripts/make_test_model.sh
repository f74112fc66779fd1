#!/usr/bin/env bash
# Builds the tiny random test model under $VV_ARTIFACTS/tiny (default build/artifacts/tiny): the checkpoint,
# the exported fp32 model directory (with the text-normalization grammars) and its quantized copies model-int8, model-int4 and model-fp16
# (`vibevoice-onnx quantize`), reusing them while the exporter sources and the config are unchanged.
# VV_ARTIFACTS lets a build go elsewhere without touching the shared build/artifacts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VVO="$ROOT/build/venv/bin/vibevoice-onnx"
OUT="${VV_ARTIFACTS:-$ROOT/build/artifacts}/tiny"
CFG="$ROOT/../shared/data/config/VibeVoice-Realtime-0.5B/config.json"
TOK="$ROOT/../shared/data/tokenizer/tokenizer.json"
QUANT_MODES="int8 int4 fp16"
for f in "$CFG" "$TOK"; do
  [ -f "$f" ] || { echo "make_test_model.sh: missing $f (the shared data folder must sit beside the repository)" >&2; exit 1; }
done
# the key covers every exporter/quantizer source, the config and the list of quantized copies
key=$( (find python/vibevoice_onnx -name '*.py' | sort | xargs cat "$CFG"; echo "$QUANT_MODES") | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/.key" ] && [ "$(cat "$OUT/.key")" = "$key" ]; then
  echo "tiny test model is up to date: $OUT/model (+ model-${QUANT_MODES// /, model-})"; exit 0
fi
rm -rf "$OUT"; mkdir -p "$OUT"
"$VVO" random-checkpoint --config "$CFG" --preset tiny --seed 0 --out "$OUT/checkpoint"
"$VVO" export --checkpoint "$OUT/checkpoint" --out "$OUT/model" --tokenizer "$TOK" \
  --voices "$OUT/checkpoint/voices/synthetic.pt" --text-normalization
for mode in $QUANT_MODES; do
  "$VVO" quantize --model "$OUT/model" --out "$OUT/model-$mode" --mode "$mode"
done
echo "$key" > "$OUT/.key"
