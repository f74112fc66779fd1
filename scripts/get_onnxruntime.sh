#!/usr/bin/env bash
# Fetch an ONNX Runtime C/C++ SDK prefix on Linux x86_64 without GitHub access:
#   - libonnxruntime.so.1 : Microsoft's official CPU build, shipped inside the npm package onnxruntime-node
#                           (fetched with `npm pack`, which runs no install script), sha256-pinned
#   - headers             : Debian's libonnxruntime-dev .deb (trixie, 1.21), downloaded and unpacked only
# Produces PREFIX/{include/onnxruntime/*.h, lib/libonnxruntime.so*, lib/pkgconfig/libonnxruntime.pc,
#                  lib/cmake/onnxruntime/onnxruntimeConfig.cmake}
# Usage: scripts/get_onnxruntime.sh [PREFIX]   (default: third_party/onnxruntime)
# Headers must not be newer than the library (trixie 1.21 headers + 1.30 library: API 21, works).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(realpath -m "${1:-$ROOT/third_party/onnxruntime}")
ORT_NPM_VERSION=1.30.0
ORT_LIB_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DEB_SUITE=trixie
ORT_DEB_VERSION=1.21.0+dfsg-1

if [ -f "$PREFIX/.complete" ] && [ "$(cat "$PREFIX/.complete")" = "$ORT_NPM_VERSION" ]; then
  echo "ONNX Runtime $ORT_NPM_VERSION already in $PREFIX"; exit 0
fi
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "get_onnxruntime.sh: only Linux x86_64 is handled; install ONNX Runtime and pass -DONNXRUNTIME_ROOT=..." >&2; exit 1; }
command -v npm >/dev/null || { echo "get_onnxruntime.sh: npm is needed to fetch the library" >&2; exit 1; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT

# 1. library from npm
(cd "$WORK" && npm pack --silent "onnxruntime-node@${ORT_NPM_VERSION}" >/dev/null)
tar -xzf "$WORK/onnxruntime-node-${ORT_NPM_VERSION}.tgz" -C "$WORK" --wildcards 'package/bin/napi-v*/linux/x64/*'
SO=$(ls "$WORK"/package/bin/napi-v*/linux/x64/libonnxruntime.so.1)
echo "$ORT_LIB_SHA256  $SO" | sha256sum -c --quiet - || { echo "sha256 mismatch for $SO" >&2; exit 1; }

# 2. headers from the Debian .deb (private apt configuration; nothing is installed)
APTD="$WORK/apt"; mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial"
cat > "$APTD/src.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${ORT_DEB_SUITE}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
APTO=(-oDir::Etc::SourceList="$APTD/src.sources" -oDir::Etc::SourceParts=/nonexistent
      -oDir::State::Lists="$APTD/lists" -oDir::Cache="$APTD/cache" -oAPT::Sandbox::User=root -qq)
apt-get "${APTO[@]}" update
(cd "$APTD" && apt-get "${APTO[@]}" download "libonnxruntime-dev=${ORT_DEB_VERSION}" 2>/dev/null \
  || apt-get "${APTO[@]}" download libonnxruntime-dev)
dpkg-deb -x "$APTD"/libonnxruntime-dev_*.deb "$WORK/deb"
HDR_VER=$(dpkg-deb -f "$APTD"/libonnxruntime-dev_*.deb Version)

# 3. assemble the prefix
rm -rf "$PREFIX"; mkdir -p "$PREFIX/include" "$PREFIX/lib/pkgconfig" "$PREFIX/lib/cmake/onnxruntime"
cp -r "$WORK/deb/usr/include/onnxruntime" "$PREFIX/include/"
install -m 0644 "$SO" "$PREFIX/lib/libonnxruntime.so.${ORT_NPM_VERSION}"
ln -sf "libonnxruntime.so.${ORT_NPM_VERSION}" "$PREFIX/lib/libonnxruntime.so.1"
ln -sf libonnxruntime.so.1 "$PREFIX/lib/libonnxruntime.so"
cat > "$PREFIX/lib/pkgconfig/libonnxruntime.pc" <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include/onnxruntime
Name: onnxruntime
Description: ONNX Runtime (lib: npm onnxruntime-node ${ORT_NPM_VERSION}; headers: Debian ${HDR_VER})
Version: ${ORT_NPM_VERSION}
Libs: -L\${libdir} -lonnxruntime -Wl,-rpath,\${libdir}
Cflags: -I\${includedir}
EOF
echo "$ORT_NPM_VERSION" > "$PREFIX/.complete"
echo "ONNX Runtime prefix ready: $PREFIX (lib ${ORT_NPM_VERSION}, headers ${HDR_VER})"
