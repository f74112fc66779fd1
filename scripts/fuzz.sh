#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan + UBSan, build/fuzz) and runs each one for
# SECONDS (default 30) on one core, starting from its seed corpus tests/fuzz/corpus/<target>/ (copied:
# new inputs libFuzzer finds go to build/fuzz/corpus/<target>/, the checked-in corpus stays small).
# Exits non-zero on the first finding and names the crash file; add that file to
# tests/fuzz/corpus/<target>/ once fixed so the dev build's ctest (fuzz_replay_<target>) replays it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: npy manifest voice_list tokenizer_json
#                                                    tokenizer_encode incremental_text speech_request stream_message)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_TARGET=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(npy manifest voice_list tokenizer_json tokenizer_encode incremental_text speech_request stream_message)
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
fi
echo "== fuzz build (preset fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
BIN="$ROOT/build/fuzz/tests/fuzz"
WORK="$ROOT/build/fuzz/runs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${TARGETS[@]}"; do
  corpus="$ROOT/build/fuzz/corpus/$t"; art="$WORK/$t"
  mkdir -p "$corpus" "$art"
  cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  log="$art/fuzz.log"
  echo "== fuzz_$t for ${SECONDS_PER_TARGET}s"
  if "$BIN/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=4096 \
       -max_len=65536 -artifact_prefix="$art/" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -2 || true
  else
    crash=$(ls -t "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* 2>/dev/null | head -1 || true)
    tail -40 "$log" >&2
    echo "FUZZ FINDING in fuzz_$t: ${crash:-see $log} (replay: $BIN/fuzz_$t ${crash:-INPUT})" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "== fuzzing: no findings (${#TARGETS[@]} targets x ${SECONDS_PER_TARGET}s)"
exit $status
