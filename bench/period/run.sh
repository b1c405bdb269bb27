#!/usr/bin/env bash
# Period benchmark (docs/performance.md): builds the release binary, then runs
# bench/period/bench.py with the given arguments. A measurement, not a test.
# Needs the collection benchmark's evidence first:
#   bench/collect/run.sh --accounts 1000 --regions 4
# Disk: each daily variant is a copy of the run's bundle (138 MB at 1000 x 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
if pgrep -f 'cargo build --release' > /dev/null; then
  echo "== waiting for the release build already running"
  while pgrep -f 'cargo build --release' > /dev/null; do sleep 10; done
fi
echo "== release build (nice -n 19)"
nice -n 19 cargo build --release --quiet --bin auditpack
exec python3 bench/period/bench.py "$@"
