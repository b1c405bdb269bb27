#!/usr/bin/env bash
# Regenerates evidence-samples/ with the real collector against the moto AWS
# emulator, seeded by tests/emulator/seed_org.py (the same organization the
# end-to-end test uses): so the samples are exactly what `auditpack collect`
# writes. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.1.22'
fi
cargo build --quiet

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

moto_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" > /dev/null 2>&1 &
pids=$!
trap 'kill $pids 2>/dev/null || true' EXIT
wait_for "$moto_port"
work=$(mktemp -d)
trap 'kill $pids 2>/dev/null || true; rm -rf "$work"' EXIT
.venv/bin/python tests/emulator/seed_org.py "http://127.0.0.1:$moto_port" > "$work/seed.json"
proxy_port=$(free_port)
.venv/bin/python tests/emulator/fault_proxy.py "$proxy_port" "http://127.0.0.1:$moto_port" "$work/seed.json" &
pids="$pids $!"
wait_for "$proxy_port"

# S3 Control addresses each account on its own host name (<account-id>.<endpoint
# host>): as the benchmark does, the collector runs in a private mount namespace
# whose /etc/hosts maps those names to 127.0.0.1, so account Block Public Access
# is collected as it would be from AWS instead of failing name resolution.
python3 - "$work/seed.json" > "$work/hosts" <<'PY'
import json, sys
print(open("/etc/hosts").read())
for account in json.load(open(sys.argv[1]))["accounts"].values():
    print(f"127.0.0.1 {account}.127.0.0.1")
PY

# attachments/ (evidence no API gives: policy approvals, training exports,
# access reviews) is written by hand, not collected: kept across a regeneration.
if [ -d evidence-samples/attachments ]; then cp -a evidence-samples/attachments "$work/attachments"; fi
rm -rf evidence-samples evidence-samples.partial
env -u AWS_PROFILE AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIASAMPLESNOTASECRET AWS_SECRET_ACCESS_KEY=samples-not-a-secret \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts" \
  target/debug/auditpack collect --regions us-east-1,eu-west-1 --period 2026-Q4 --s3-path-style \
  --max-attempts 2 --no-progress --config tests/emulator/auditpack.toml --out evidence-samples
if [ -d "$work/attachments" ]; then cp -a "$work/attachments" evidence-samples/attachments; fi
echo "evidence-samples/ regenerated"
