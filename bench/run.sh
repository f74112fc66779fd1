#!/usr/bin/env bash
# End-to-end benchmark: vibevoice-onnx (fp32, int8, int4, fp16) vs the PyTorch reference, in one run.
#
#   bench/run.sh                 # everything: setup, release build, full-size random model, all runs
#
# Environment knobs (defaults in brackets):
#   FRAMES [150]       frames generated per run (150 = 20 s of audio), EOS ignored
#   REF_FRAMES [FRAMES] frames for the PyTorch reference (it is ~10-40x slower; lower it on slow machines)
#   THREADS [nproc]    intra-op threads for the engine and torch
#   PRECISIONS ["fp32 int8 int4 fp16"]
#   LEVERS [1]         also measure the run-time levers on int8 and fp32: threads=1 + decode thread (adaptive
#                      and 1-frame chunks), --chunk 6 (int8)
#   PROFILES ["int8-lms-fp32-rest int4-lms-int8-rest"]  per-graph precision profiles (quantize --graphs)
#   BATCH [1]          also measure cross-stream batching (vv_bench batch, K = 1..4 streams) on int8 and fp32
#   SKIP_SETUP [0]     skip scripts/setup.sh
#   SKIP_REF [0]       skip the PyTorch reference
#   BUILD_DIR [build/release]  ART [build/artifacts/full]  WORK [build/bench/run]
# Output: a table on stdout, bench/results/latest.json and bench/results/<date>-<cpu-short>.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { echo "[bench] $*" >&2; }

FRAMES=${FRAMES:-150}
REF_FRAMES=${REF_FRAMES:-$FRAMES}
THREADS=${THREADS:-$(nproc)}
PRECISIONS=${PRECISIONS:-"fp32 int8 int4 fp16"}
LEVERS=${LEVERS:-1}
PROFILES=${PROFILES-"int8-lms-fp32-rest int4-lms-int8-rest"}
BUILD_DIR=${BUILD_DIR:-build/release}
ART=${ART:-build/artifacts/full}
WORK=${WORK:-build/bench/run}
SHARED=${SHARED:-$ROOT/../shared/data}
TEXT=$SHARED/text/1p_vibevoice.txt
VOICE=en-Emma_woman
STEPS=5
CFG=1.5
SEED=0
PY=build/venv/bin/python
VVO=build/venv/bin/vibevoice-onnx

# ---- 1. setup + release build ------------------------------------------------------------------------
[ "${SKIP_SETUP:-0}" = 1 ] || scripts/setup.sh
log "release build in $BUILD_DIR"
cmake --preset release -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target vv_bench >/dev/null
BENCH=$BUILD_DIR/bench/vv_bench

# ---- 2. full-size random model (cached) --------------------------------------------------------------
complete() { [ -f "$1/vibevoice.json" ] && [ -d "$1/voices/$VOICE" ]; }
if ! [ -f "$ART/checkpoint/model.safetensors" ]; then
  log "creating the full-size random checkpoint (~2 min)"
  rm -rf "$ART/checkpoint"
  "$VVO" random-checkpoint --preset full --config "$SHARED/config/VibeVoice-Realtime-0.5B/config.json" \
    --dtype bf16 --seed 0 --out "$ART/checkpoint"
fi
if ! complete "$ART/model"; then
  log "exporting fp32 graphs (~3.5 min)"
  rm -rf "$ART/model"
  "$VVO" export --checkpoint "$ART/checkpoint" --out "$ART/model" --tokenizer "$SHARED/tokenizer/tokenizer.json" \
    --voices "$ART/checkpoint/voices/synthetic.pt" "$SHARED/voices"
fi
for q in int8 int4 fp16; do
  case " $PRECISIONS " in *" $q "*) ;; *) continue ;; esac
  if ! complete "$ART/model-$q"; then
    log "quantizing to $q (~2 min)"
    rm -rf "$ART/model-$q"
    "$VVO" quantize --model "$ART/model" --out "$ART/model-$q" --mode "$q"
  fi
done
model_dir() { if [ "$1" = fp32 ]; then echo "$ART/model"; else echo "$ART/model-$1"; fi; }

# ---- 3. runs -----------------------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"
NOISE=$WORK/noise.npy
"$PY" -c "import numpy as np; np.save('$NOISE', np.random.default_rng(1234).standard_normal(($FRAMES, 64)).astype(np.float32))"
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD0=$(load_avg)
log "memory read bandwidth (the floor of the bandwidth-bound stages)"
"$BENCH" membw --threads "$THREADS" --json "$WORK/membw.json"

for prec in $PRECISIONS; do
  M=$(model_dir "$prec")
  log "$prec: per-stage timings"
  "$BENCH" stages --model "$M" --voice "$VOICE" --steps $STEPS --cfg $CFG --threads "$THREADS" --frames "$FRAMES" \
    --json "$WORK/stages-$prec.json" >/dev/null
  common=(--model "$M" --voice "$VOICE" --text-file "$TEXT" --frames "$FRAMES" --steps $STEPS --cfg $CFG
          --seed $SEED --noise "$NOISE")
  # default: what a user gets without flags (threads, chunk schedule and decoder thread chosen by the engine)
  log "$prec: default configuration, $FRAMES frames"
  "$BENCH" e2e "${common[@]}" --out-audio "$WORK/audio-$prec.npy" --json "$WORK/e2e-$prec.json"
  # baseline: the configuration the engine ran by default before (all cores, decoder inline, 1-frame chunks)
  if [ "$prec" = int8 ] || [ "$prec" = fp32 ]; then
    log "$prec: baseline configuration (--threads $THREADS --chunk 1)"
    "$BENCH" e2e "${common[@]}" --threads "$THREADS" --chunk 1 --out-audio "$WORK/baseline-audio-$prec.npy" \
      --json "$WORK/baseline-$prec.json"
  fi
done

if [ "$LEVERS" = 1 ]; then
  for prec in int8 fp32; do
    case " $PRECISIONS " in *" $prec "*) ;; *) continue ;; esac
    M=$(model_dir "$prec")
    common=(--model "$M" --voice "$VOICE" --text-file "$TEXT" --frames "$FRAMES" --steps $STEPS --cfg $CFG
            --seed $SEED --noise "$NOISE")
    log "lever: $prec threads=1 + decode thread (adaptive chunks)"
    "$BENCH" e2e "${common[@]}" --threads 1 --decode-thread 1 --json "$WORK/lever-$prec-threads1-decode-thread.json"
    log "lever: $prec threads=1 + decode thread, 1-frame chunks"
    "$BENCH" e2e "${common[@]}" --threads 1 --decode-thread 1 --chunk 1 \
      --json "$WORK/lever-$prec-threads1-decode-thread-chunk1.json"
    if [ "$prec" = int8 ]; then
      log "lever: $prec fixed chunk=6 (one speech window per decoder call)"
      "$BENCH" e2e "${common[@]}" --threads "$THREADS" --chunk 6 --json "$WORK/lever-$prec-chunk6.json"
    fi
  done
fi

if [ "${BATCH:-1}" = 1 ]; then
  for prec in int8 fp32; do
    case " $PRECISIONS " in *" $prec "*) ;; *) continue ;; esac
    log "batching: $prec, K = 1..4 concurrent streams (speech steps and head calls in shared calls)"
    "$BENCH" batch --model "$(model_dir "$prec")" --voice "$VOICE" --steps $STEPS --threads "$THREADS" \
      --frames "$FRAMES" --streams 4 --json "$WORK/batch-$prec.json" >/dev/null
  done
fi

# Per-graph precision profiles (quantize --graphs): speed and audio SNR vs fp32, same noise.
for prof in $PROFILES; do
  case "$prof" in
    int8-lms-fp32-rest) mode=int8; graphs="diffusion_head=fp32,acoustic_decoder=fp32" ;;
    int4-lms-int8-rest) mode=int8; graphs="text_lm=int4,tts_lm=int4" ;;
    *) echo "bench/run.sh: unknown profile $prof" >&2; exit 2 ;;
  esac
  P=$ART/profile-$prof
  if ! complete "$P"; then
    log "profile $prof: quantizing ($mode, $graphs)"
    rm -rf "$P"
    "$VVO" quantize --model "$ART/model" --out "$P" --mode "$mode" --graphs "$graphs" --no-check
  fi
  log "profile $prof: default configuration, $FRAMES frames"
  "$BENCH" e2e --model "$P" --voice "$VOICE" --text-file "$TEXT" --frames "$FRAMES" --steps $STEPS --cfg $CFG \
    --seed $SEED --noise "$NOISE" --out-audio "$WORK/profile-audio-$prof.npy" --json "$WORK/profile-$prof.json"
done

if [ "${SKIP_REF:-0}" != 1 ]; then
  log "PyTorch reference: $REF_FRAMES frames, $THREADS threads (slow)"
  "$PY" bench/ref_bench.py --checkpoint "$ART/checkpoint" --voice "$SHARED/voices/$VOICE.pt" \
    --tokenizer "$SHARED/tokenizer/tokenizer.json" --text-file "$TEXT" --frames "$REF_FRAMES" --steps $STEPS \
    --cfg $CFG --noise "$NOISE" --threads "$THREADS" --out-audio "$WORK/ref-audio.npy" --json "$WORK/ref.json"
fi
LOAD1=$(load_avg)

# ---- 4. results --------------------------------------------------------------------------------------
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
CORES=$(nproc)
DATE=$(date +%Y-%m-%d)
"$PY" - "$WORK/meta.json" <<EOF
import json, sys
json.dump({"cpu": "$CPU", "cores": $CORES, "threads": $THREADS, "date": "$DATE", "ref_frames": $REF_FRAMES,
           "load_avg": {"start": "$LOAD0".split(), "end": "$LOAD1".split()}}, open(sys.argv[1], "w"))
EOF
"$PY" bench/compare.py --work "$WORK" --frames "$FRAMES" --art "$ART" --out bench/results/latest.json
SHORT=$(echo "$CPU" | tr 'A-Z' 'a-z' | sed 's/(r)//g; s/(tm)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//' | cut -c1-24)
cp bench/results/latest.json "bench/results/$DATE-$SHORT.json"
log "wrote bench/results/latest.json and bench/results/$DATE-$SHORT.json"
