# Kiln's container image: docs/DEPLOY.md ("Containers").
#
#   docker build -t kiln .
#   docker run -d --name kiln -p 8090:8090 -v kiln_data:/data --stop-timeout 30 kiln
#
# Two stages: `build` compiles the release binary; `runtime` is Debian slim with ca-certificates, the
# binary and a non-root user (uid 10001), its data in the /data volume. tests/deploy/build-image.sh
# builds the runtime stage with podman from a prebuilt binary (`--build-context build=DIR` with
# DIR/out/kiln) and tests/deploy/container.test.mjs starts it.
#
# The base images are pinned by version: the Rust release and Debian's dated slim tag. Where Docker
# Hub is reachable, append their digests (`FROM rust:1.95.0-bookworm@sha256:…`, from `docker buildx
# imagetools inspect`) to pin them byte for byte.

# ---- build: the release binary -----------------------------------------------------------------
# rust:*-bookworm is buildpack-deps: gcc, g++, make and binutils are there (the cc builds of SQLite,
# QuickJS and ring); node is not needed, the dashboard's dist/ is committed. .dockerignore sends
# only the workspace's manifests and sources.
FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
# The release profile keeps line tables for backtraces (154 MB); the image's copy drops them
# (37 MB), keeping the symbols, so a panic's backtrace still names its functions.
RUN cargo build --release -p kiln --locked \
 && install -d /out \
 && objcopy --strip-debug target/release/kiln /out/kiln

# ---- runtime ------------------------------------------------------------------------------------
FROM debian:bookworm-20250520-slim AS runtime
# ca-certificates: the system's CA roots, for outgoing HTTPS clients that read them. Nothing else:
# Kiln links only libc, libm and libgcc_s (SQLite, QuickJS and rustls are built in). Unpinned: the
# package follows Debian's updates of the pinned release (a pinned version leaves the mirror then).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid (10001) owning the data dir, so volumes and Kubernetes' fsGroup line up.
RUN groupadd --gid 10001 kiln \
 && useradd --uid 10001 --gid kiln --home-dir /data --no-create-home --shell /usr/sbin/nologin kiln \
 && install -d -o kiln -g kiln -m 0750 /data

COPY --from=build /out/kiln /usr/local/bin/kiln

ENV KILN_DIR=/data
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8090
# Kiln's graceful stop: refuse new connections, end realtime streams, finish the requests in flight
# (up to 20 s), write the logs, exit 0. Give it 30 s: `docker stop -t 30`, Kubernetes'
# terminationGracePeriodSeconds: 30.
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp sends GET /api/health and wants a 200 status line.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8090 && printf 'GET /api/health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

# Last, so that a new revision leaves the layers above cached.
ARG KILN_VERSION=0.1.0
ARG KILN_REVISION=unknown
LABEL org.opencontainers.image.title="Kiln" \
      org.opencontainers.image.description="A complete backend for web and mobile apps in one binary, wire-compatible with PocketBase" \
      org.opencontainers.image.version="${KILN_VERSION}" \
      org.opencontainers.image.revision="${KILN_REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-20250520-slim"

ENTRYPOINT ["kiln"]
CMD ["serve", "--http", "0.0.0.0:8090"]
