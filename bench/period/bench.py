#!/usr/bin/env python3
"""Period benchmark (see docs/performance.md, "Period package"): `auditpack
period` over a quarter of daily run bundles of the collection benchmark's
synthetic organization, under /usr/bin/time -v, then `verify --reevaluate` of
the package it wrote. Prints runs, bundle size, wall time and peak RSS.

The runs: one real bundle, made by `auditpack report` from the evidence that
`bench/collect/run.sh --accounts 1000 --regions 4` collected (the default
--evidence), copied into RUNS daily variants of 2026-Q4 in the locker's
layout (<organization>/<yyyy>/<mm>/<dd>/). Each variant is that bundle with
its run.json and results.json re-dated to its day (and, in one week, one
control failing in one account), its manifests recomputed; every evidence
entry is copied byte for byte (raw, not recompressed), so each variant still
verifies (hashes, coverage) as a bundle. The variants are unsigned: the
signature check costs the same per bundle whatever the key.

Usage: bench.py [--evidence target/bench/collect/1000x4/evidence] [--runs 90]
                [--bin target/release/auditpack]
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHANGED = ("data/run.json", "data/results.json", "manifest-sha256.txt", "tagmanifest-sha256.txt")


def timed(cmd):
    """(wall seconds, peak RSS MB, stdout, stderr) of cmd under /usr/bin/time -v."""
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.monotonic() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return wall, int(rss.group(1)) / 1024 if rss else float("nan"), proc.stdout, proc.stderr


def raw_entries(path):
    """(ZipInfo, raw bytes of local header + data) of every entry, in file order."""
    with zipfile.ZipFile(path) as z:
        infos = sorted(z.infolist(), key=lambda i: i.header_offset)
        end = z.start_dir
    with open(path, "rb") as f:
        data = f.read()
    bounds = [i.header_offset for i in infos] + [end]
    return [(info, data[bounds[n]:bounds[n + 1]]) for n, info in enumerate(infos)]


def variant(entries, bag, day, fail, out_path):
    """The base bundle re-dated to `day` (and failing one item when `fail`)."""
    texts = {}
    with zipfile.ZipFile(BASE) as z:
        for name in CHANGED:
            texts[name] = z.read(f"{bag}/{name}")
    run = json.loads(texts["data/run.json"])
    run["started_at"], run["finished_at"] = f"{day}T02:00:00Z", f"{day}T02:30:00Z"
    results = json.loads(texts["data/results.json"])
    results["collection_window"] = {"start": run["started_at"], "end": run["finished_at"]}
    if fail:
        for control in results["controls"]:
            if control["id"] == "config.recording" and control["results"]:
                control["results"][0]["status"] = "FAIL"
                control["status"] = "FAIL"
    new = {
        "data/run.json": (json.dumps(run, indent=2) + "\n").encode(),
        "data/results.json": (json.dumps(results, indent=2) + "\n").encode(),
    }
    manifest = texts["manifest-sha256.txt"].decode()
    for name, body in new.items():
        digest = hashlib.sha256(body).hexdigest()
        manifest = re.sub(rf"^[0-9a-f]{{64}}  {re.escape(name)}$", f"{digest}  {name}", manifest, flags=re.M)
    new["manifest-sha256.txt"] = manifest.encode()
    tags = texts["tagmanifest-sha256.txt"].decode()
    digest = hashlib.sha256(new["manifest-sha256.txt"]).hexdigest()
    tags = re.sub(r"^[0-9a-f]{64}  manifest-sha256.txt$", f"{digest}  manifest-sha256.txt", tags, flags=re.M)
    new["tagmanifest-sha256.txt"] = tags.encode()
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info, raw in entries:
            rel = info.filename.split("/", 1)[1]
            if rel in new:
                # Deflated as auditpack deflates them (a ZipInfo alone would
                # store them, and the period package copies entries as stored).
                fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                fresh.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(fresh, new[rel], compresslevel=1)
                continue
            # Copied raw: the local header and data as they are, listed in the
            # central directory zipfile writes on close.
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            for field in ("compress_type", "CRC", "compress_size", "file_size", "flag_bits", "external_attr",
                          "create_system", "extract_version", "extra", "create_version"):
                setattr(copy, field, getattr(info, field))
            copy.header_offset = out.fp.tell()
            out.fp.write(raw)
            out.start_dir = out.fp.tell()
            out.filelist.append(copy)
            out.NameToInfo[copy.filename] = copy


def main():
    global BASE
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--evidence", default=os.path.join(REPO, "target/bench/collect/1000x4/evidence"))
    p.add_argument("--runs", type=int, default=90)
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/auditpack"))
    args = p.parse_args()
    if not os.path.isfile(os.path.join(args.evidence, "org.json")):
        sys.exit(f"no evidence at {args.evidence}: run bench/collect/run.sh --accounts 1000 --regions 4 first")
    work = os.path.join(REPO, "target/bench/period")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    wall, rss, _, _ = timed([args.bin, "report", "--evidence", args.evidence, "--out", os.path.join(work, "base")])
    print(f"base bundle: auditpack report took {wall:.1f} s, {rss:.0f} MB")
    BASE = next(os.path.join(work, "base", f) for f in os.listdir(os.path.join(work, "base")) if f.endswith(".zip"))
    with zipfile.ZipFile(BASE) as z:
        bag = z.namelist()[0].split("/", 1)[0]
        org = json.loads(z.read(f"{bag}/data/org.json"))["organization"]["id"]
    entries = raw_entries(BASE)
    bundles = os.path.join(work, "bundles")
    start = time.monotonic()
    first = datetime.date(2026, 10, 1)
    for n in range(args.runs):
        day = first + datetime.timedelta(days=n)
        out_path = os.path.join(bundles, org, f"{day:%Y/%m/%d}", os.path.basename(BASE))
        variant(entries, bag, day.isoformat(), 20 <= n < 27, out_path)
    size = os.path.getsize(BASE) / 1e6
    print(f"{args.runs} daily bundles of {size:.1f} MB each written in {time.monotonic() - start:.0f} s")
    out = os.path.join(work, "package")
    config = os.path.join(work, "auditpack.toml")
    with open(config, "w") as f:
        f.write('[period]\nfrequency = "daily"\n')
    # The bundles just written are flushed first: the disk writing back
    # 12 GB of them while `period` runs is the benchmark's set-up, not the
    # command's work.
    os.sync()
    wall, rss, stdout, _ = timed([args.bin, "period", "--bundles", bundles, "--period", "2026-Q4",
                                  "--out", out, "--config", config])
    doc = json.load(open(os.path.join(out, "period.json")))
    package = next(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".zip"))
    vwall, vrss, _, _ = timed([args.bin, "verify", "--reevaluate", package])
    items = sum(len(c["items"]) for c in doc["controls"])
    print()
    print("| runs | bundle MB | control × account × region items | period s | period peak RSS MB "
          "| package MB | verify --reevaluate s | its peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {doc['summary']['runs']} | {size:.1f} | {items} | {wall:.1f} | {rss:.0f} "
          f"| {os.path.getsize(package) / 1e6:.1f} | {vwall:.1f} | {vrss:.0f} |")
    print(stdout.splitlines()[0])


if __name__ == "__main__":
    main()
