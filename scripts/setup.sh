#!/usr/bin/env bash
# One-time, idempotent set-up of everything the build and tests need on a fresh Debian bookworm machine:
#   1. Debian packages (tool chain, nlohmann-json, CLI11, GoogleTest, Google Benchmark, ICU, Boost.Beast,
#      libsndfile; ffmpeg decodes the server tests' audio; chromium + chromium-driver run the web page test)
#   2. ONNX Runtime C/C++ SDK: a system install if one is found, else third_party/onnxruntime
#   3. the Python environment of the exporter (build/venv, pinned by python/requirements.txt)
# Re-running it only does what is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { echo "[setup] $*" >&2; }

# ---- 1. Debian packages ------------------------------------------------------------------------------
APT_PACKAGES=(build-essential cmake ninja-build pkg-config git nlohmann-json3-dev libcli11-dev libgtest-dev
              libgmock-dev libbenchmark-dev libicu-dev clang-format npm python3-venv
              libboost1.81-dev libsndfile1-dev libfst-dev ffmpeg
              clang libclang-rt-14-dev clang-tidy ccache chromium chromium-driver)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# npm may come from elsewhere (nodesource, nvm): then the Debian package is not needed
if command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. ONNX Runtime ---------------------------------------------------------------------------------
if [ -n "${ONNXRUNTIME_ROOT:-}" ]; then
  log "ONNX Runtime: ONNXRUNTIME_ROOT=$ONNXRUNTIME_ROOT"
elif pkg-config --exists libonnxruntime 2>/dev/null || [ -f /usr/include/onnxruntime/onnxruntime_cxx_api.h ] \
     || [ -f /usr/local/include/onnxruntime/onnxruntime_cxx_api.h ]; then
  log "ONNX Runtime: using the system installation"
else
  scripts/get_onnxruntime.sh "$ROOT/third_party/onnxruntime"
fi

# ---- 3. Python environment ---------------------------------------------------------------------------
VENV="$ROOT/build/venv"
stamp="$VENV/.requirements.sha256"
want=$(cat python/requirements.txt python/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "creating the Python environment in build/venv (torch, onnx, onnxruntime, ...)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -r python/requirements.txt
  "$VENV/bin/pip" install -q --no-deps -e python
  echo "$want" > "$stamp"
fi
log "done"
