#!/usr/bin/env python3
"""Merge benchmark (see docs/performance.md, "Sharding by OU"): cuts an
evidence folder that one `auditpack collect` wrote (by default the collection
benchmark's 1,000 accounts x 17 regions) into K shards, as K jobs with
`collect --accounts` would have written them (each with the management
account's discovery calls, `reachable` only for its own accounts, its
selection as `scope`), runs the real `auditpack merge` on them under
/usr/bin/time -v, checks that the merged tree holds the original's files
byte for byte, and prints shards, accounts, files, MB, wall time and peak RSS.

The shards are hard links into the original (no extra disk); the merge itself
copies every byte, as it would in CI.

Usage: bench.py [--evidence target/bench/collect/1000x17/evidence] [--shards 4]
                [--bin target/release/auditpack]
"""
import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            yield os.path.relpath(os.path.join(dirpath, name), root)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def cut_shards(evidence, work, count):
    """K shard folders of `evidence`, accounts dealt round-robin, the management account in the first."""
    org = json.load(open(os.path.join(evidence, "org.json")))
    run = json.load(open(os.path.join(evidence, "run.json")))
    management = org["organization"]["management_account_id"]
    collected = [a["id"] for a in org["accounts"] if "reachable" in a and a["id"] != management]
    groups = [[management]] + [[] for _ in range(count - 1)]
    for i, account in enumerate(collected):
        groups[(i + 1) % count].append(account)
    discovery = os.path.join(management, "global", "organizations")
    shards = []
    for n, accounts in enumerate(groups):
        shard = os.path.join(work, f"shard-{n}")
        os.makedirs(shard)
        dirs = list(accounts) if management in accounts else list(accounts) + [discovery]
        for top in dirs:
            for rel in files_under(os.path.join(evidence, top)):
                target = os.path.join(shard, top, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.link(os.path.join(evidence, top, rel), target)
        own = set(accounts)
        shard_org = json.loads(json.dumps(org))
        for account in shard_org["accounts"]:
            if account["id"] not in own:
                account.pop("reachable", None)
        write_json(os.path.join(shard, "org.json"), shard_org)
        write_json(os.path.join(shard, "run.json"), dict(run, scope={"accounts": sorted(accounts)}))
        shards.append(shard)
    return shards, sum(len(g) for g in groups)


def timed(cmd):
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return wall, rss, done.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--evidence", default=os.path.join(REPO, "target/bench/collect/1000x17/evidence"))
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/auditpack"))
    args = p.parse_args()
    if not os.path.isfile(os.path.join(args.evidence, "run.json")):
        sys.exit(f"{args.evidence}: no evidence folder; run bench/collect/run.sh first (or pass --evidence)")
    work = os.path.join(REPO, "target/bench/merge")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shards, accounts = cut_shards(args.evidence, work, args.shards)
    merged = os.path.join(work, "merged")
    cmd = [args.bin, "merge"] + [x for s in shards for x in ("--evidence", s)] + ["--out", merged]
    wall, rss, out = timed(cmd)

    original = sorted(f for f in files_under(args.evidence) if f != "run.json")
    got = sorted(f for f in files_under(merged) if f != "run.json")
    if got != original:
        sys.exit(f"the merged tree's files differ from the original's ({len(got)} vs {len(original)})")
    _, mismatch, errors = filecmp.cmpfiles(args.evidence, merged, original, shallow=False)
    if mismatch or errors:
        sys.exit(f"merged files differ from the original: {(mismatch + errors)[:5]}")
    size = sum(os.path.getsize(os.path.join(merged, f)) for f in got)
    print(out.strip())
    print(f"shards {args.shards} | accounts {accounts} | files {len(got)} | MB {size / 1e6:.1f} | "
          f"merge s {wall:.2f} | RSS MB {rss / 1024:.1f} | merged tree = original, byte for byte")


if __name__ == "__main__":
    main()
