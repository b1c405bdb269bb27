#!/usr/bin/env bash
# CI's bounded fuzz run (#15): every target of fuzz/ for a few seconds each,
# so a reader that panics, hangs or allocates without bound on its seeds or
# on what a short run finds fails the build. The longer run is
# `scripts/fuzz.sh 600` (optimised, AddressSanitizer; docs/testing.md).
#
# Installs what it needs when missing: the nightly toolchain (rustup, minimal
# profile) and cargo-fuzz (`cargo install --locked`, into ~/.cargo/bin).
# Builds unoptimised without a sanitizer ("--dev --sanitizer none"): less
# than half the CPU time of cargo-fuzz's default build, which matters more
# than executions per second for a run this short. Targets are safe Rust, so
# AddressSanitizer would only watch the dependencies' unsafe code: the longer
# run keeps it.
#
# Usage: scripts/fuzz-ci.sh [SECONDS]   (default 10 per target)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
started=$(date +%s)

if ! rustup run nightly rustc --version > /dev/null 2>&1; then
  echo "== installing the nightly toolchain (rustup)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

AUDITPACK_FUZZ_FLAGS="--dev --sanitizer none" scripts/fuzz.sh "$seconds"
echo "fuzz-ci: $(( $(date +%s) - started ))s in all"
