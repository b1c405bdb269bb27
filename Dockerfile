# syntax=docker/dockerfile:1
# auditpack's container image: a multi-stage build (the Rust toolchain never
# reaches the runtime image) and a small, non-root runtime.
#
#   docker build -t auditpack .
#   docker run --rm -v "$PWD:/work" auditpack report --evidence evidence-samples --out out
#   docker run --rm -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     -e AWS_REGION -v "$PWD:/work" auditpack run --regions all --out audit --gate
#
# Runtime: distroless/cc (glibc, libgcc, CA certificates, uid 65532 "nonroot";
# no shell, no package manager), the same glibc binary the tests run. Not a
# static musl binary: the musl standard library cannot be installed on the
# machines this project is built and tested on (no rustup downloads, and
# Debian packages no musl target for Rust), so a musl image could not be built
# or tested here; docs/install.md says how the image was checked instead
# (scripts/container-smoke.sh: the same runtime files in a chroot).

ARG RUST_VERSION=1.89
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit), so a
# source change does not rebuild the AWS SDK.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin auditpack \
 && install -D -m 0755 target/release/auditpack /out/auditpack

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/auditpack /usr/local/bin/auditpack
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/auditpack"]
CMD ["--help"]
