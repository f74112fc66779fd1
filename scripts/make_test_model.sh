#!/usr/bin/env bash
# Builds the tiny random test model (checkpoint + exported model directory) under build/artifacts/tiny,
# reusing it while the exporter sources and the config are unchanged.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VVO="$ROOT/build/venv/bin/vibevoice-onnx"
OUT="$ROOT/build/artifacts/tiny"
CFG="$ROOT/../shared/data/config/VibeVoice-Realtime-0.5B/config.json"
TOK="$ROOT/../shared/data/tokenizer/tokenizer.json"
for f in "$CFG" "$TOK"; do
  [ -f "$f" ] || { echo "make_test_model.sh: missing $f (the shared data folder must sit beside the repository)" >&2; exit 1; }
done
key=$(find python/vibevoice_onnx -name '*.py' | sort | xargs cat "$CFG" | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/.key" ] && [ "$(cat "$OUT/.key")" = "$key" ]; then
  echo "tiny test model is up to date: $OUT/model"; exit 0
fi
rm -rf "$OUT"; mkdir -p "$OUT"
"$VVO" random-checkpoint --config "$CFG" --preset tiny --seed 0 --out "$OUT/checkpoint"
"$VVO" export --checkpoint "$OUT/checkpoint" --out "$OUT/model" --tokenizer "$TOK" \
  --voices "$OUT/checkpoint/voices/synthetic.pt"
echo "$key" > "$OUT/.key"
