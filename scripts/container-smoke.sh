#!/usr/bin/env bash
# Checks the runtime of the container image (Dockerfile) without a container
# engine: a root filesystem holding only what distroless/cc-debian12 holds
# that auditpack needs (the binary, the shared libraries ldd names, CA
# certificates, a passwd entry for uid 65532) and nothing else (no shell, no
# coreutils), then auditpack run inside it with chroot as uid 65532: version,
# report on the samples, verify and gate of the bundle it made. Needs root
# (chroot). Usage: scripts/container-smoke.sh [BINARY]  (default target/debug/auditpack)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/auditpack}
[ -x "$bin" ] || { echo "container-smoke: $bin is not an executable; build it first" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "container-smoke: needs root for chroot" >&2; exit 2; }

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/work" "$root/tmp"
chmod 1777 "$root/tmp"
install -m 0755 "$bin" "$root/usr/local/bin/auditpack"
# The shared libraries the binary loads, at the paths it loads them from.
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$root/etc/passwd"
echo 'nonroot:x:65532:' > "$root/etc/group"
cp -r evidence-samples "$root/work/evidence-samples"
chown -R 65532:65532 "$root/work"

inside() { chroot --userspec=65532:65532 "$root" /usr/local/bin/auditpack "$@"; }


echo "== rootfs: $(find "$root" -type f | wc -l) files, $(du -sh "$root" | cut -f1) (samples included)"
inside --version
# chroot starts in /: give the folders as absolute paths inside the rootfs.
inside report --evidence /work/evidence-samples --out /work/out > /dev/null
zip=$(cd "$root/work/out" && ls ./*.zip)
inside verify "/work/out/${zip#./}"
set +e
inside gate "/work/out/${zip#./}" > /dev/null
code=$?
set -e
# The samples fail some controls: the gate must decide (1), not break (2, 3).
[ "$code" -eq 1 ] || { echo "container-smoke: gate exited $code, expected 1" >&2; exit 1; }
owner=$(stat -c %u "$root/work/out/results.json")
[ "$owner" -eq 65532 ] || { echo "container-smoke: outputs owned by uid $owner, not 65532" >&2; exit 1; }
echo "container-smoke: ok (ran as uid 65532 in a rootfs without a shell)"
