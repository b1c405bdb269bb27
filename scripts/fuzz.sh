#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer, nightly) for a
# bounded time each: the readers of what auditpack takes from other people
# (bundle zip and folder, evidence envelope, control and config TOML, waivers,
# allowed_signers). A crash is written to fuzz/artifacts/<target>/ and the
# script exits 1 naming it; turn it into a regression test.
#
# Usage: scripts/fuzz.sh [SECONDS]      (default 60 per target)
#        scripts/fuzz.sh 600 bag_zip    (one target, longer)
#
# Build: cargo-fuzz's default (optimised, AddressSanitizer). AUDITPACK_FUZZ_FLAGS
# replaces it: scripts/fuzz-ci.sh, CI's short run, passes "--dev --sanitizer
# none", which builds in under half the CPU time (docs/testing.md).
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`;
# scripts/fuzz-ci.sh installs both when missing).
# fuzz/ is a workspace of its own: plain cargo build/test never build it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
read -r -a flags <<< "${AUDITPACK_FUZZ_FLAGS:-}"

# fuzz/Cargo.lock is not kept in git: start it from the main workspace's, so
# the readers are fuzzed with the dependency versions they are tested and
# shipped with (cargo adds libfuzzer-sys and drops what is unused).
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock

# Built first, all at once: a target that no longer compiles stops the script
# here (exit 101) instead of being reported as a run without a crash.
echo "== build ${flags[*]:-(release, address sanitizer)}"
if [ ${#targets[@]} -eq 1 ]; then
  cargo +nightly fuzz build "${flags[@]}" "${targets[0]}"
else
  cargo +nightly fuzz build "${flags[@]}"
fi

# Seeds: the repository's own files of each kind, when a corpus is empty.
seed() {
  local target=$1; shift
  [ -n "$(ls -A "corpus/$target" 2>/dev/null)" ] && return
  mkdir -p "corpus/$target"
  for file in "$@"; do [ -f "$file" ] && cp "$file" "corpus/$target/" || true; done
}
seed control_toml ../controls/*.toml
seed config_toml ../auditpack.example.toml ../tests/emulator/auditpack.toml
seed envelope ../evidence-samples/123456789012/global/*/*.json
seed waivers_toml ../tests/fixtures/*waiver*.toml
seed bag_zip ../target/test-artifacts/*/out/*.zip

failed=()
mkdir -p logs
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== $target: ${seconds}s"
  # -rss_limit_mb: a bundle bomb must be refused within the caps, never allocate.
  # The full libFuzzer output goes to fuzz/logs/<target>.log; shown: the
  # totals, and any crash, leak, timeout or out-of-memory report.
  status=0
  cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 > "logs/$target.log" 2>&1 || status=$?
  grep -E 'Done [0-9]+ runs|^#[0-9]+[[:space:]]+DONE|^==[0-9]+==|SUMMARY|panicked|Test unit written' \
    "logs/$target.log" || true
  if compgen -G "artifacts/$target/*" > /dev/null; then
    failed+=("$target")
  elif [ "$status" -ne 0 ]; then
    # Not a finding, but no fuzzing either: never a silent pass.
    failed+=("$target (exit $status without a crash input; see fuzz/logs/$target.log)")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (crash inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} target(s), ${seconds}s each, no crash"
