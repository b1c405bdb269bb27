#!/usr/bin/env bash
# Re-records bench/collect/recording.json: the answers moto gives the real
# collector for the organization of tests/emulator/seed_org.py, with account
# ids and the second region turned into placeholders. Run it when the drift
# test (tests/bench_server.rs) says the bench server's answers no longer match
# moto's. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${AUDITPACK_BIN:-target/debug/auditpack}
[ -x "$bin" ] || cargo build --quiet --bin auditpack

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

work=target/bench/collect/record
rm -rf "$work" && mkdir -p "$work"
moto_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" > /dev/null 2>&1 &
pids=$!
trap 'kill $pids 2>/dev/null || true' EXIT
wait_for "$moto_port"
.venv/bin/python tests/emulator/seed_org.py "http://127.0.0.1:$moto_port" > "$work/seed.json"
deny=$(python3 -c 'import json, sys; print(",".join(json.load(open(sys.argv[1]))["unreachable"]))' "$work/seed.json")
# The fault proxy in front of moto serves what moto lacks (Access Analyzer),
# exactly as in the end-to-end test; the recording proxy records in front of it.
fault_port=$(free_port)
.venv/bin/python tests/emulator/fault_proxy.py "$fault_port" "http://127.0.0.1:$moto_port" "$work/seed.json" &
pids="$pids $!"
wait_for "$fault_port"
proxy_port=$(free_port)
python3 bench/collect/record_proxy.py "$proxy_port" "http://127.0.0.1:$fault_port" "$deny" "$work/log.jsonl" &
pids="$pids $!"
wait_for "$proxy_port"

env -u AWS_PROFILE AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIABENCHRECORDING00 AWS_SECRET_ACCESS_KEY=bench-not-a-secret \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$bin" collect --regions us-east-1,eu-west-1 --period 2026-Q4 --s3-path-style \
  --max-attempts 2 --no-progress --config tests/emulator/auditpack.toml --out "$work/evidence" > /dev/null
python3 bench/collect/build_recording.py "$work/seed.json" "$work/log.jsonl" AKIABENCHRECORDING00 > bench/collect/recording.json
echo "bench/collect/recording.json: $(python3 -c 'import json; print(len(json.load(open("bench/collect/recording.json"))["answers"]))') answers"
