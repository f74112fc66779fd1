#!/usr/bin/env bash
# Runs every test on a fresh machine: set-up (packages, ONNX Runtime, Python env), the -Werror developer
# build, test artifacts (tiny random model), the C++ tests (ctest), the Python tests (pytest), and the
# ASan/UBSan build with its C++ tests. Set VV_SKIP_ASAN=1 to skip the sanitizer pass locally.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
PY="$ROOT/build/venv/bin/python"

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
fi
echo "== all tests passed"
