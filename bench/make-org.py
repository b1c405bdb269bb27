#!/usr/bin/env python3
"""Synthesizes a large organization's evidence folder from evidence-samples/.

Usage: make-org.py SAMPLES OUT ACCOUNTS

Keeps every sample account (management, security, log-archive, network, the
suspended one, ...) and adds member accounts until ACCOUNTS accounts are
ACTIVE, each a copy of a sample member's evidence with its account id
rewritten: ~70 % like acme-prod, ~25 % like acme-dev, ~4 % like acme-sandbox
(no role), ~1 % like acme-staging (audit role could not be assumed); the
templates are found by name in the samples' org.json. org.json and the
management account's organizations:ListAccounts evidence list them all with
the same states, so org.inventory sees a consistent population and report's
cross-check of the two (crates/core/src/evidence/org_check.rs) passes. Three accounts carry hostile
names or tags (listed in OUT/payloads.json for the browser check).

Deterministic: the same arguments give the same bytes. Standard library only.
"""

import json
import shutil
import sys
from pathlib import Path

# Sample member accounts used as templates, by name: the samples are
# regenerated from the emulator with new account ids each time, so ids are
# looked up in the samples' org.json (role, OU, joined_at, reachable follow).
TEMPLATES = {
    "prod": "acme-prod",
    "dev": "acme-dev",
    "sandbox": "acme-sandbox",
    "unreachable": "acme-staging",
}
TEAMS = ["payments", "identity", "search", "data", "platform", "mobile", "billing", "growth"]
PAYLOADS = {
    "name": "acme-<img src=x onerror=alert('name')>",
    "tag": "\"onmouseover=\"alert('tag')\" x=\"",
    "tag_key": "<script>alert('tagkey')</script>",
}


def kind_of(i):
    """Which template the i-th generated account copies (0-based)."""
    slot = i % 100
    if slot == 99:
        return "unreachable"
    if slot >= 95:
        return "sandbox"
    if slot >= 70:
        return "dev"
    return "prod"


def main():
    samples, out, wanted = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(samples, out)
    org = json.loads((out / "org.json").read_text())
    by_id = {a["id"]: a for a in org["accounts"]}
    management = org["organization"]["management_account_id"]
    org_id = org["organization"]["id"]
    active = sum(1 for a in org["accounts"] if a["status"] == "ACTIVE")
    listing_path = out / management / "global/organizations/ListAccounts.json"
    listing = json.loads(listing_path.read_text())
    by_name = {a["name"]: a for a in org["accounts"]}
    templates = {}
    for kind, name in TEMPLATES.items():
        if name not in by_name:
            sys.exit(f"make-org.py: no account named {name!r} in {samples / 'org.json'}")
        templates[kind] = by_name[name]

    # Template files read once: (path relative to the account folder, text).
    files = {}
    for kind, account in templates.items():
        root = samples / account["id"]
        files[kind] = [
            (p.relative_to(root), p.read_text()) for p in sorted(root.rglob("*.json"))
        ]
        if not files[kind]:
            sys.exit(f"make-org.py: no evidence in {root} (template {account['name']})")

    payloads = []
    for i in range(wanted - active):
        kind = kind_of(i)
        template = templates[kind]["id"]
        new_id = str(200000000000 + i * 7919)
        assert new_id not in by_id
        name = f"acme-{kind}-{i + 1:04d}"
        tags = {"team": TEAMS[i % len(TEAMS)], "cost-center": f"cc-{1000 + i % 40}"}
        if i == 1:
            name = PAYLOADS["name"]
            payloads.append(name)
        if i == 2:
            tags["owner"] = PAYLOADS["tag"]
            payloads.append(PAYLOADS["tag"])
        if i == 3:
            tags[PAYLOADS["tag_key"]] = "x"
            payloads.append(PAYLOADS["tag_key"])
        for rel, text in files[kind]:
            target = out / new_id / Path(str(rel).replace(template, new_id))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.replace(template, new_id))
        joined = templates[kind]["joined_at"]
        email = f"aws+{kind}-{i + 1:04d}@acme.example"
        org["accounts"].append({
            "id": new_id, "name": name, "email": email, "status": "ACTIVE",
            "ou_path": templates[kind]["ou_path"], "role": templates[kind]["role"],
            "joined_at": joined, "tags": tags,
            "reachable": templates[kind].get("reachable", True),
        })
        # `report` refuses an org.json whose accounts or states differ from
        # this recorded answer (crates/core/src/evidence/org_check.rs), so
        # every synthetic account is listed here too, with State (the
        # current API's field, which the check reads first) and Status.
        listing["data"]["Accounts"].append({
            "Id": new_id,
            "Arn": f"arn:aws:organizations::{management}:account/{org_id}/{new_id}",
            "Email": email, "Name": name, "Status": "ACTIVE", "State": "ACTIVE",
            "JoinedMethod": "CREATED", "JoinedTimestamp": joined,
        })
    listing["item_count"] = len(listing["data"]["Accounts"])
    # The same accounts and states both ways, as report's check compares them
    # (State first, else Status), so a change to the samples fails here, by
    # name, rather than as report's exit 2 in the middle of a benchmark.
    listed = {a["Id"]: a.get("State", a.get("Status")) for a in listing["data"]["Accounts"]}
    in_org = {a["id"]: a["status"] for a in org["accounts"]}
    if listed != in_org:
        differ = sorted(set(listed.items()) ^ set(in_org.items()))
        sys.exit(f"make-org.py: org.json and {listing_path} disagree on {differ[:5]}")
    listing_path.write_text(json.dumps(listing, indent=2) + "\n")
    (out / "org.json").write_text(json.dumps(org, indent=2) + "\n")
    (out / "payloads.json").write_text(json.dumps(payloads, indent=2) + "\n")


if __name__ == "__main__":
    main()
