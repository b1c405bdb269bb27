#!/usr/bin/env python3
"""Collection benchmark driver (see docs/performance.md): for each N accounts ×
R regions, starts bench/collect/server.py, runs the real `auditpack collect`
against it under /usr/bin/time -v, then `auditpack report` and `auditpack
verify` on what it collected, and prints one table: API calls, wall time,
calls/s, retries (the collector's count, checked against the throttling answers the
server sent), peak RSS, evidence bytes, report and
verify times, the floor and wall/floor.

The floor is the shortest time the collection could take at this latency:
  identity + discovery + max( the longest dependency chain after discovery,
                              attempts after discovery × latency / --max-concurrency,
                              the busiest account's attempts × latency / --account-concurrency )
where attempts include the throttled ones (each costs a round trip) but no
backoff sleep, and the chains are the API's own: GetCallerIdentity →
organization listing (ListAccounts pages ∥ roots → OU levels) → AssumeRole →
list → per-resource calls (S3: ListBuckets → GetBucketLocation → bucket calls).

S3 Control's host is `<account-id>.127.0.0.1`; the collector runs in a private
mount namespace (`unshare -m`) whose /etc/hosts maps those names to 127.0.0.1,
so that call is served instead of failing DNS. Nothing leaves 127.0.0.1.

Usage: bench.py [--accounts 10,100,1000] [--regions 4,17] [--quick]
                [--latency 0.05] [--throttle 0.05] [--max-concurrency 64]
                [--account-concurrency 8] [--bin target/release/auditpack]
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "us-east-2", "us-west-1", "eu-west-2", "eu-west-3",
           "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
           "ap-southeast-2", "ca-central-1", "sa-east-1"]
DISCOVERY = {"DescribeOrganization", "ListAccounts", "ListRoots", "ListAccountsForParent",
             "ListOrganizationalUnitsForParent", "ListTagsForResource"}


def start_server(args, accounts):
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "bench/collect/server.py"), "--accounts", str(accounts),
                             "--latency", str(args.latency), "--throttle", str(args.throttle),
                             "--workers", str(args.workers)], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().split()[-1])
    return proc, port


def server_stats(port):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/__bench/stats"))


def hosts_file(work, port, accounts):
    out = subprocess.run([sys.executable, os.path.join(REPO, "bench/collect/server.py"), "--accounts", str(accounts),
                          "--print-org"], capture_output=True, text=True, check=True).stdout
    path = os.path.join(work, "hosts")
    with open("/etc/hosts") as base, open(path, "w") as f:
        f.write(base.read())
        for line in out.splitlines():
            f.write(f"127.0.0.1 {line.split()[0]}.127.0.0.1\n")
    return path


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS kB, stdout, CPU seconds)."""
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    return wall, rss, done.stdout, cpu


def evidence_profile(evidence):
    """Pages per account, the discovery chain, and the most LookupEvents
    requests in one account x region (they are spaced 0.5 s apart), from the
    envelopes."""
    per_account, discovery = {}, {"ListAccounts": 0, "levels": 0, "lookups": 0}
    lookups = {}
    for dirpath, _, files in os.walk(evidence):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), evidence).split(os.sep)
            if len(rel) < 4:
                continue
            env = json.load(open(os.path.join(dirpath, name)))
            # Requests, not pages: the credential report's envelope is one
            # page but carries the GenerateCredentialReport request ids too.
            pages = max(env["pagination"]["pages"], len(env.get("request_ids") or []), 1)
            op = env["call"]["operation"]
            if env["call"]["service"] == "organizations" and op in DISCOVERY:
                if op == "ListAccounts":
                    discovery["ListAccounts"] = pages
                continue
            per_account[rel[0]] = per_account.get(rel[0], 0) + pages
            if op == "LookupEvents":
                lookups[(rel[0], rel[1])] = lookups.get((rel[0], rel[1]), 0) + pages
    discovery["lookups"] = max(lookups.values(), default=0)
    return per_account, discovery


LOOKUP_SPACING = 0.5  # seconds between two LookupEvents requests in one account x region (AWS: 2/s)


def floor(args, accounts, per_account, attempts_after_discovery, lookups=0):
    lat = args.latency
    pages = math.ceil((accounts + 1) / 20)
    # ListRoots, then three OU levels (Root → Workloads → Prod/NonProd), the
    # biggest OU's account listing paged by 20.
    ou_chain = 1 + 3 + math.ceil(accounts * 0.85 / 20)
    discovery = 1 + max(1, pages, ou_chain)  # GetCallerIdentity + the longest listing chain
    # AssumeRole, then the longest per-account chains, three calls each:
    # ListBuckets → GetBucketLocation → bucket calls, ListKeys → DescribeKey →
    # GetKeyRotationStatus, GenerateCredentialReport (COMPLETE) → GetCredentialReport.
    chain = 1 + 3
    # The event-history lookups of one account x region are sequential and
    # spaced: AssumeRole, then each request, LOOKUP_SPACING apart.
    if lookups:
        chain = max(chain, 1 + lookups + (lookups - 1) * LOOKUP_SPACING / lat)
    busiest = max(per_account.values()) / (1 - args.throttle)
    return lat * (discovery + max(chain, attempts_after_discovery / args.max_concurrency,
                                  busiest / args.account_concurrency))


def run_one(args, accounts, nregions):
    work = os.path.join(REPO, "target/bench/collect", f"{accounts}x{nregions}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    server, port = start_server(args, accounts)
    try:
        hosts = hosts_file(work, port, accounts)
        evidence = os.path.join(work, "evidence")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="AKIABENCHCOLLECT0000", AWS_SECRET_ACCESS_KEY="bench-not-a-secret",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
        collect = [args.bin, "collect", "--regions", ",".join(REGIONS[:nregions]), "--period", "2026-Q4",
                   "--s3-path-style", "--no-progress", "--config", "tests/emulator/auditpack.toml",
                   "--max-concurrency", str(args.max_concurrency), "--account-concurrency", str(args.account_concurrency),
                   "--out", evidence]
        inner = "mount --bind \"$0\" /etc/hosts && exec \"$@\""
        before = server_stats(port)
        wall, rss, out, cpu = timed(["unshare", "-m", "sh", "-c", inner, hosts] + collect, env=env)
        after = server_stats(port)
    finally:
        server.terminate()
        server.wait()
    summary = re.search(r"collected: (\d+) of (\d+) active accounts .*?, (\d+) calls in ([\d.]+)s", out)
    sdk = re.search(r"requests: (\d+) HTTP requests, (\d+) of them retries", out)
    failed = re.search(r"failed calls: (.*)", out).group(1)
    throttle_failures = sum(int(n) for code, n in re.findall(r"(\w+) ×(\d+)", failed)
                            if code in ("ThrottlingException", "Throttling", "SlowDown", "TooManyRequestsException"))
    requests = after["requests"] - before["requests"]
    throttled = after["throttled"] - before["throttled"]
    lookup_throttled = after["lookup_throttled"] - before["lookup_throttled"]
    per_account, discovery = evidence_profile(evidence)
    discovery_pages = discovery["ListAccounts"] + 10
    best_floor = floor(args, accounts, per_account, max(requests - discovery_pages, 0), discovery["lookups"])
    evidence_bytes = int(subprocess.run(["du", "-sb", evidence], capture_output=True, text=True).stdout.split()[0])
    report_out = os.path.join(work, "out")
    report_wall, report_rss, _, _ = timed([args.bin, "report", "--evidence", evidence, "--out", report_out,
                                        "--config", "tests/emulator/auditpack.toml"])
    bundle = next(os.path.join(report_out, f) for f in os.listdir(report_out) if f.endswith(".zip"))
    verify_wall, verify_rss, _, _ = timed([args.bin, "verify", bundle])
    row = {
        "accounts": accounts, "regions": nregions, "collected": int(summary.group(1)), "active": int(summary.group(2)),
        "calls": int(summary.group(3)), "requests": requests, "wall_s": round(wall, 2),
        "calls_per_s": round(requests / wall, 1), "retries": int(sdk.group(2)),
        "collector_requests": int(sdk.group(1)), "throttled": throttled, "lookup_throttled": lookup_throttled, "throttle_failures": throttle_failures, "unrouted": after["unrouted"] - before["unrouted"],
        "rss_mb": round(rss / 1024, 1), "collector_cpu_s": round(cpu, 1), "evidence_mb": round(evidence_bytes / 1e6, 1),
        "report_s": round(report_wall, 2), "report_rss_mb": round(report_rss / 1024, 1),
        "verify_s": round(verify_wall, 2), "floor_s": round(best_floor, 2), "wall_over_floor": round(wall / best_floor, 2),
        "ms_per_account": round(1000 * wall / accounts, 1), "failed": failed,
    }
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(row, f, indent=1)
    return row


COLUMNS = [("N", "accounts"), ("R", "regions"), ("calls", "calls"), ("HTTP", "requests"), ("wall s", "wall_s"),
           ("calls/s", "calls_per_s"), ("retries", "retries"), ("throttled", "throttled"), ("lookup thr", "lookup_throttled"), ("RSS MB", "rss_mb"), ("CPU s", "collector_cpu_s"), ("evid MB", "evidence_mb"),
           ("report s", "report_s"), ("verify s", "verify_s"), ("floor s", "floor_s"), ("wall/floor", "wall_over_floor"),
           ("ms/acct", "ms_per_account")]


def print_row(row):
    print(" | ".join(f"{row[k]!s:>{max(len(h), 6)}}" for h, k in COLUMNS), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", default="10,100,1000")
    p.add_argument("--regions", default="4,17")
    p.add_argument("--quick", action="store_true", help="N = 10, 100 and R = 4 only")
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--throttle", type=float, default=0.05)
    p.add_argument("--max-concurrency", type=int, default=64)
    p.add_argument("--account-concurrency", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="bench server processes")
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/auditpack"))
    args = p.parse_args()
    if args.quick:
        args.accounts, args.regions = "10,100", "4"
    os.chdir(REPO)
    print(f"latency {args.latency * 1000:.0f} ms, throttling {args.throttle:.0%}, --max-concurrency {args.max_concurrency}, "
          f"--account-concurrency {args.account_concurrency}; retries = the collector's count of retried attempts, "
          f"throttled = throttling answers the server sent, lookup thr = those of them for LookupEvents past AWS's 2/s per account and region")
    print(" | ".join(f"{h:>{max(len(h), 6)}}" for h, _ in COLUMNS))
    for nregions in [int(r) for r in args.regions.split(",")]:
        for accounts in [int(n) for n in args.accounts.split(",")]:
            row = run_one(args, accounts, nregions)
            print_row(row)
            if row["unrouted"] or row["collected"] + 1 < row["active"] * 0.9:
                print(f"   warning: {row['unrouted']} unrouted requests; failed calls: {row['failed']}")


if __name__ == "__main__":
    main()
