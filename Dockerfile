# syntax=docker/dockerfile:1
# vibevoice-onnx server image: `vibevoice serve` on port 8000, model directory mounted at /models.
#   docker build -t vibevoice .
#   docker run --rm -p 8000:8000 -v "$PWD/model:/models/model:ro" vibevoice
# See docs/deploy.md (replicas, Kubernetes). Build stage: Debian bookworm with the packages of
# scripts/setup.sh that the release build needs; runtime stage: bookworm-slim with the runtime libraries only.

# ---- build ---------------------------------------------------------------------------------------------
FROM debian:bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates npm \
      nlohmann-json3-dev libcli11-dev libicu-dev libboost1.81-dev libsndfile1-dev libfst-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# ONNX Runtime first (its own layer: it changes far less often than the sources)
COPY scripts/get_onnxruntime.sh scripts/
RUN scripts/get_onnxruntime.sh /opt/onnxruntime
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake/ cmake/
COPY include/ include/
COPY src/ src/
COPY tools/ tools/
RUN cmake --preset release -DONNXRUNTIME_ROOT=/opt/onnxruntime -DVV_BUILD_BENCH=OFF \
 && cmake --build --preset release -j"$(nproc)" \
 && cmake --install build/release --prefix /opt/vibevoice --strip \
 && cp -a /opt/onnxruntime/lib/libonnxruntime.so* /opt/vibevoice/lib/ \
 && rm -rf /opt/vibevoice/lib/libvibevoice.a \
 && /opt/vibevoice/bin/vibevoice --version

# ---- runtime -------------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libicu72 libsndfile1 libfst22 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin vibevoice \
 && mkdir -p /models
# The CLI finds libvibevoice.so and libonnxruntime.so.1 in /opt/vibevoice/lib through its RPATH ($ORIGIN/../lib).
COPY --from=build /opt/vibevoice /opt/vibevoice
ENV PATH=/opt/vibevoice/bin:$PATH
USER 10001
VOLUME ["/models"]
EXPOSE 8000
ENTRYPOINT ["vibevoice"]
CMD ["serve", "--model", "/models/model", "--host", "0.0.0.0", "--port", "8000"]
