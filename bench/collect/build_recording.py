#!/usr/bin/env python3
"""Turns record_proxy.py's log into bench/collect/recording.json.

Each answer is stored under `ACCOUNT_KEY|REGION_CLASS|SERVICE|SIGNATURE`, where
ACCOUNT_KEY is the seed's name for the account that made the call (management,
security, log-archive, network, dev, prod, staging, sandbox), REGION_CLASS is
`home` (us-east-1, and global services) or `other` (eu-west-1), and SIGNATURE is
awsproto.signature(). Account ids become `{{A:key}}` and, in `other` answers,
the region becomes `{{R}}`, so the server can clone any account into any region.

Usage: build_recording.py SEED_JSON LOG_JSONL BASE_ACCESS_KEY > recording.json
"""
import base64
import json
import re
import sys

seed = json.load(open(sys.argv[1]))
entries = [json.loads(line) for line in open(sys.argv[2])]
base_key = sys.argv[3]
HOME, OTHER = seed["regions"]
ids = {v: k for k, v in seed["accounts"].items()}
ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
DROP = {"date", "server", "content-length", "connection", "transfer-encoding", "keep-alive"}


B64_CONTENT = re.compile(r"<Content>([A-Za-z0-9+/=\s]+)</Content>")


def placeholders(text, region_class):
    # The credential report's CSV travels base64-encoded (an IAM blob): decoded
    # into `{{B64:...}}` so its account ids become placeholders too; the server
    # encodes it again after filling them in.
    text = B64_CONTENT.sub(lambda m: "<Content>{{B64:%s}}</Content>" % base64.b64decode(m.group(1)).decode().replace("\n", "\\n"), text)
    text = ID.sub(lambda m: "{{A:%s}}" % ids[m.group(0)] if m.group(0) in ids else m.group(0), text)
    if region_class == "other":
        text = text.replace(OTHER, "{{R}}")
    return text


keys = {base_key: seed["accounts"]["management"]}
for e in entries:
    if e["op"] == "AssumeRole" and e["status"] == 200:
        role = json.loads(e["sig"][2:])["RoleArn"]
        access = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", e["body"]).group(1)
        keys[access] = role.split(":")[4]

answers, parents, accounts = {}, {}, {}
for e in entries:
    account = ids[keys[e["key"]]]
    region_class = "other" if e["region"] == OTHER else "home"
    key = "|".join([account, region_class, e["service"], placeholders(e["sig"], region_class)])
    if e["token"]:
        # A later page (LookupEvents' NextToken): replayed under its token.
        key += "|page:" + placeholders(e["token"], region_class)
    answers[key] = {
        "status": e["status"],
        "headers": {k: v for k, v in e["headers"].items() if k not in DROP},
        "body": placeholders(e["body"], region_class),
    }
    if e["op"] == "ListAccounts":
        for a in json.loads(e["body"])["Accounts"]:
            accounts[ids[a["Id"]]] = json.loads(placeholders(json.dumps(a), "home"))
    if e["op"] == "ListAccountsForParent":
        parent = json.loads(e["sig"].split(" ", 2)[2])["ParentId"]
        parents[parent] = [ids[a["Id"]] for a in json.loads(e["body"])["Accounts"]]

json.dump({
    "comment": "Recorded by bench/collect/record.sh from moto for tests/emulator/seed_org.py; do not edit by hand.",
    "home": HOME, "other": OTHER, "organization_id": seed["organization_id"],
    "unreachable": [ids[a] for a in seed["unreachable"]],
    "accounts": accounts, "parents": parents, "answers": dict(sorted(answers.items())),
}, sys.stdout, indent=1)
print()
