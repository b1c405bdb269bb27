#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, unit and
# integration tests. Installs what the tests need on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

# The AWS emulator for the end-to-end tests: moto in a local venv (pinned: 5.1.x
# answers GetBucketVersioning in a form aws-sdk-s3 parses). Tests start it on a
# free 127.0.0.1 port themselves.
if [ ! -x .venv/bin/moto_server ]; then
  echo "== installing moto into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.1.22'
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

echo "== cargo test"
mkdir -p target
cargo test --no-fail-fast 2>&1 | tee target/test-output.txt
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')
echo "all test binaries passed: ${passed} tests"
