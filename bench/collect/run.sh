#!/usr/bin/env bash
# Collection benchmark (docs/performance.md): builds the release binary, then
# runs bench/collect/bench.py with the given arguments (e.g. --quick, or
# --accounts 1000 --regions 17). A measurement, not a test: not part of
# scripts/test.sh. Everything stays on 127.0.0.1 and under target/bench/collect/.
set -euo pipefail
cd "$(dirname "$0")/../.."
if pgrep -f 'cargo build --release' > /dev/null; then
  echo "== waiting for the release build already running"
  while pgrep -f 'cargo build --release' > /dev/null; do sleep 10; done
fi
echo "== release build (nice -n 19; a cold build takes ~20 min on 2 cores)"
nice -n 19 cargo build --release --quiet --bin auditpack
exec python3 bench/collect/bench.py "$@"
