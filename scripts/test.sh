#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, unit and
# integration tests. Installs what the tests need on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

# A cold build takes ~2.7–3.5 GB under target/ (dependencies carry no debug info,
# see Cargo.toml). A linker that runs out of disk dies with SIGBUS rather than
# "No space left", so say how much there is before building, and again on failure.
disk_free() { df -h --output=avail,target . 2>/dev/null | tail -1; }
# Each stage's heading says how long the suite has run, so a slow or timed-out
# CI run shows where its time went.
started=$(date +%s)
stage() { echo "== $* [$(( $(date +%s) - started ))s]"; }
stage "disk free: $(disk_free)"
# CI builds from a clean clone once, so incremental caches (~800 MB) would
# only be written, never read.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
trap 'rc=$?; if [ $rc -ne 0 ]; then stage "failed (exit $rc); disk free: $(disk_free)"; else stage "done"; fi' EXIT

# The AWS emulator for the end-to-end tests: moto in a local venv (pinned: 5.1.x
# answers GetBucketVersioning in a form aws-sdk-s3 parses). Tests start it on a
# free 127.0.0.1 port themselves.
if [ ! -x .venv/bin/moto_server ]; then
  stage "installing moto into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.1.22'
fi
# jsonschema validates the SARIF output against the SARIF 2.1.0 schema (moto
# brings it today; installed explicitly so the test never depends on that).
if ! .venv/bin/python -c 'import jsonschema' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check 'jsonschema>=4.18'
fi

# The report's browser check: Debian's Chromium (never a downloaded browser)
# driven by playwright-core, pinned in tests/browser/package-lock.json.
if [ ! -x /usr/bin/chromium ]; then
  stage "installing chromium (apt)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  stage "npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

# `cargo install --locked` (docs/install.md) needs a Cargo.lock that matches
# the manifests: refuse one a dependency change left stale.
stage "Cargo.lock is current (cargo install --locked)"
cargo metadata --locked --format-version 1 > /dev/null

stage "cargo fmt --check"
cargo fmt --all -- --check

# Clippy runs as the workspace crates' compiler while the tests are built
# (scripts/clippy-rustc, RUSTC_WORKSPACE_WRAPPER, which is how `cargo clippy`
# runs it too): a lint fails that build. A separate `cargo clippy` would
# compile every dependency a second time (metadata only, which the test build
# cannot reuse): the AWS SDK twice, ~20 minutes of a cold run.
linted() { RUSTC_WORKSPACE_WRAPPER="$PWD/scripts/clippy-rustc" cargo "$@"; }
stage "clippy -D warnings, building every target (cargo test --no-run)"
linted test --workspace --all-targets --features emulator --no-run --quiet
# The workspace crates' unit tests, and the one integration test binary
# (tests/tests.rs) with the emulator tests (the `emulator` feature).
stage "cargo test"
mkdir -p target
linted test --workspace --features emulator --no-fail-fast 2>&1 | tee target/test-output.txt
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')
echo "all test binaries passed: ${passed} tests"

# The report in a real browser: the samples' report (out folder and unzipped
# bundle), the emulator run's (kept by tests/live_collection.rs), the merged
# shards' (tests/sharding.rs) and the one with hostile names (kept by
# tests/report_snapshot.rs), and the Type II period page of the 13-week
# series (kept by tests/period_package.rs). Screenshots and PDFs go to
# target/test-artifacts/browser/.
stage "report in headless Chromium"
artifacts=target/test-artifacts
rm -rf "$artifacts/samples"
# The binary the tests just ran (cargo builds it for tests/tests.rs): `cargo
# run` would build the default features, and the tests' dev-dependencies
# unify other features into the SDK's dependencies, so it recompiled ~70
# crates (the whole AWS SDK) only to make this one report.
target/debug/auditpack report --evidence evidence-samples --out "$artifacts/samples/out" > /dev/null
python3 -m zipfile -e "$artifacts"/samples/out/*.zip "$artifacts/samples/unzipped"
node tests/browser/check.mjs "$artifacts/browser" \
  samples="$artifacts/samples/out/report.html" \
  samples-bundle="$(echo "$artifacts"/samples/unzipped/*/data/report.html)" \
  emulator="$artifacts/emulator/out/report.html" \
  sharded="$artifacts/sharded/out/report.html" \
  injection="$artifacts/injection/out/report.html" \
  period="$artifacts/period/period.html"

# The auditor's offline build (no AWS SDK, docs/install.md) must keep
# compiling and pass clippy. Built last: it replaces target/debug/auditpack,
# which the browser check above runs as the tests built it.
stage "clippy -D warnings, offline build (--no-default-features)"
linted build --bin auditpack --no-default-features --quiet

# Every fuzz target for a bounded time (docs/testing.md; the long run is
# scripts/fuzz.sh 600). A crash fails the suite naming the target and input.
stage "fuzzing, 10 s per target"
scripts/fuzz-ci.sh 10
