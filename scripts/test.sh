#!/usr/bin/env bash
# Runs every test on a fresh machine: set-up (packages, ONNX Runtime, Python env), the -Werror developer
# build, test artifacts (tiny random model), the C++ tests (ctest), the Python tests (pytest), and the
# ASan/UBSan build with its C++ tests and the server tests, clang-tidy, the ThreadSanitizer build with the engine/stream/C API
# tests, and a short libFuzzer run of every fuzz target (scripts/fuzz.sh). Set VV_SKIP_ASAN=1,
# VV_SKIP_TIDY=1, VV_SKIP_TSAN=1 or VV_SKIP_FUZZ=1 to skip a pass locally; VV_FUZZ_SECONDS (default 10)
# is the fuzzing time per target.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
PY="$ROOT/build/venv/bin/python"
if command -v ccache >/dev/null; then  # CMake reads these from the environment; a cache only speeds reruns
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
fi
step() { echo "== $* ($(date -u +%H:%M:%S), ${SECONDS}s so far)"; }

echo "== build (dev preset, warnings as errors)"
cmake --preset dev >/dev/null
cmake --build --preset dev

echo "== clang-format check"
files=$(git ls-files '*.cpp' '*.h' '*.hpp' '*.c' 2>/dev/null || true)
if [ -n "$files" ]; then
  # shellcheck disable=SC2086
  clang-format --dry-run --Werror $files
fi

echo "== test artifacts (tiny random model)"
scripts/make_test_model.sh
"$PY" tests/tools/make_smoke_onnx.py "$ROOT/build/artifacts"

echo "== C++ tests"
export VV_TEST_MODEL_DIR="$ROOT/build/artifacts/tiny/model"
export VV_TEST_ARTIFACTS="$ROOT/build/artifacts"
ctest --preset dev -j2

echo "== Python tests"
"$PY" -m pytest -q tests/python

if [ "${VV_SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan/UBSan build and C++ tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan -j2
  echo "== server tests against the ASan/UBSan build (the network-facing code: HTTP, WebSocket, encoders)"
  VV_BUILD_DIR="$ROOT/build/asan" "$PY" -m pytest -q tests/python/test_server.py tests/python/test_server_stream.py
fi

if [ "${VV_SKIP_TIDY:-0}" != 1 ]; then
  step "clang-tidy (src/, tools/; checks in .clang-tidy)"
  run-clang-tidy-14 -p build/dev -quiet -j2 "$ROOT/(src|tools)/" >build/clang-tidy.log 2>&1 \
    || { grep -E "warning:|error:" build/clang-tidy.log | sort -u >&2; echo "clang-tidy failed (build/clang-tidy.log)" >&2; exit 1; }
fi

if [ "${VV_SKIP_TSAN:-0}" != 1 ]; then
  step "ThreadSanitizer build and engine/stream/C API tests"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan -j2
fi

if [ "${VV_SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzzing (${VV_FUZZ_SECONDS:-10} s per target)"
  scripts/fuzz.sh "${VV_FUZZ_SECONDS:-10}"
fi
step "all tests passed"
