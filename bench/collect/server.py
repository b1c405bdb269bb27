#!/usr/bin/env python3
"""The collection benchmark's AWS stand-in: serves a synthetic organization of
N accounts to the real `auditpack collect` over HTTP on 127.0.0.1, fast enough
to measure the collector (moto tops out near 350 calls/s here).

It answers from bench/collect/recording.json, what moto answered the collector
for tests/emulator/seed_org.py's organization (tests/bench_server.rs keeps the
two in step). Every synthetic account is a clone of one seed account (its
"template": prod, dev, sandbox, staging, or the singletons management, security,
log-archive, network), so the mix of compliant and non-compliant settings is
the seed's: dev-like accounts have no GuardDuty outside the home region and an
IAM user with a console password, staging-like accounts cannot be assumed,
sandbox-like ones match no role rule. Regions other than the home one are
clones of the seed's second region.

Synthesised rather than replayed: the account listings (paginated by 20 as
AWS does), AssumeRole (credentials whose access key id names the account, so
later calls are routed to it) and S3 Control's account-level Block Public
Access (moto's answer cannot be recorded: the SDK prefixes its host with the
account id). Each answer waits --latency seconds (asyncio.sleep, never
blocking), and a --throttle share of answers is each protocol's real
throttling error (JSON `ThrottlingException`, query `Throttling`, S3
`SlowDown` 503, REST-JSON 429), so the SDK's retry path runs.
`cloudtrail:LookupEvents` is also held to AWS's own limit, two requests per
second per account and region (a token bucket of two, refilled at 2/s, kept
per worker process: a collector that does not space its lookups is throttled
at least on the calls one worker sees); those answers are counted apart as
`lookup_throttled`.

Usage: server.py [--accounts N | --mirror] [--latency 0.05] [--throttle 0.05]
                 [--workers 2] [--port 0] [--seed 1]
Prints `listening on PORT` once ready. GET /__bench/stats gives the counters.
Standard library only; binds 127.0.0.1 only. Test fixture, not product code.
"""
import argparse
import asyncio
import base64
import ctypes
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsproto  # noqa: E402

MANAGEMENT_ID = "123456789012"
PAGE = 20
PLACEHOLDER = re.compile(r"\{\{A:([a-z-]+)\}\}")
B64_BLOCK = re.compile(r"\{\{B64:(.*?)\}\}", re.S)
ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
COUNTERS = ["requests", "throttled", "lookup_throttled", "unrouted", "bytes"]
LOOKUP_RATE = 2.0  # LookupEvents requests per second per account and region, as AWS documents


def workload_template(i):
    """The mix of member accounts: 60 % like prod (compliant), 25 % like dev
    (no GuardDuty outside the home region, an IAM user with a console
    password), 12 % like sandbox (no role), 3 % like staging (unreachable)."""
    slot = (i * 37) % 100  # spread, so small organizations get the mix too
    return "prod" if slot < 60 else "dev" if slot < 85 else "sandbox" if slot < 97 else "staging"


class Org:
    """The synthetic organization: account ids, names and templates."""

    def __init__(self, recording, accounts=None):
        self.rec = recording
        templates = recording["accounts"]
        self.members = []  # (id, template key, name, email)
        if accounts is None:  # mirror the seed exactly
            self.members.append((MANAGEMENT_ID, "management", None, None))
            for n, key in enumerate(k for k in sorted(templates) if k != "management"):
                self.members.append((str(100000000001 + n), key, None, None))
        else:
            singles = ["security", "log-archive", "network"]
            self.members.append((MANAGEMENT_ID, "management", None, None))
            for n, key in enumerate(singles):
                self.members.append((str(100000000001 + n), key, None, None))
            for i in range(max(accounts - 1 - len(singles), 0)):
                key = workload_template(i)
                name = f"{templates[key]['Name']}-{i:04d}"
                self.members.append((str(100000001000 + i), key, name, f"aws+{name}@acme.example"))
            closed = [k for k, a in templates.items() if a["Status"] != "ACTIVE"]
            for n, key in enumerate(closed):
                self.members.append((str(100000000100 + n), key, None, None))
        self.template_of = {m[0]: m[1] for m in self.members}
        self.first_of = {}
        for account_id, key, _, _ in self.members:
            self.first_of.setdefault(key, account_id)
        self.parent_of = {k: p for p, keys in recording["parents"].items() for k in keys}
        self.listing = [self._account_json(*m) for m in self.members]
        self.by_parent = {}
        for m, entry in zip(self.members, self.listing):
            self.by_parent.setdefault(self.parent_of.get(m[1]), []).append(entry)

    def _account_json(self, account_id, key, name, email):
        text = json.dumps(self.rec["accounts"][key]).replace("{{A:%s}}" % key, account_id)
        entry = json.loads(self.fill(text, account_id))
        if name:
            entry["Name"], entry["Email"] = name, email
        return entry

    def fill(self, text, caller_id, region=None):
        """Placeholders of a recorded answer, for an account of this org."""
        own = self.template_of.get(caller_id)
        text = PLACEHOLDER.sub(lambda m: caller_id if m.group(1) == own else self.first_of.get(m.group(1), MANAGEMENT_ID), text)
        text = text.replace("{{R}}", region) if region else text
        # The credential report, decoded by build_recording.py, goes back to base64.
        return B64_BLOCK.sub(lambda m: base64.b64encode(m.group(1).replace("\\n", "\n").encode()).decode(), text)

    def templated(self, sig, region_other):
        """A request signature with this org's ids turned back into the
        recording's placeholders (and the region, outside the home one)."""
        sig = ID.sub(lambda m: "{{A:%s}}" % self.template_of[m.group(0)] if m.group(0) in self.template_of else m.group(0), sig)
        return sig.replace(region_other, "{{R}}") if region_other else sig


def account_of(access_key):
    """Assumed-role keys name their account (see assume_role); anything else is the caller's own."""
    if access_key.startswith("ASIA") and access_key[4:16].isdigit():
        return access_key[4:16]
    return MANAGEMENT_ID


def json_reply(data, status=200):
    return status, {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": request_id()}, json.dumps(data).encode()


def request_id():
    return "%08x-bench-%012x" % (random.getrandbits(32), random.getrandbits(48))


def throttle(service):
    rid = request_id()
    kind = awsproto.protocol(service)
    if service == "ec2":
        # EC2's own query dialect: <Response><Errors>, code RequestLimitExceeded.
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
                "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>%s</RequestID></Response>") % rid
        return 503, {"content-type": "text/xml"}, body.encode()
    if kind == "query":
        body = ('<ErrorResponse xmlns="https://%s.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>%s</RequestId></ErrorResponse>") % (service, rid)
        return 400, {"content-type": "text/xml", "x-amzn-requestid": rid}, body.encode()
    if kind == "restxml":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                "<Message>Please reduce your request rate.</Message><RequestId>%s</RequestId></Error>") % rid
        return 503, {"content-type": "application/xml", "x-amz-request-id": rid}, body.encode()
    if kind == "restjson":
        return 429, {"content-type": "application/json", "x-amzn-requestid": rid, "x-amzn-errortype": "ThrottlingException"}, \
            b'{"message":"Rate exceeded"}'
    return json_reply({"__type": "ThrottlingException", "message": "Rate exceeded"}, 400)


def not_served(service, what):
    """What the server cannot answer: an error the collector records (and the drift test catches)."""
    if awsproto.protocol(service) == "json":
        return json_reply({"__type": "BenchNotRecorded", "message": what}, 400)
    return 404, {"content-type": "text/plain"}, what.encode()


class LookupRate:
    """AWS's LookupEvents limit: a token bucket per (account, region)."""

    def __init__(self):
        self.buckets = {}  # (account, region) -> (tokens, when)

    def allows(self, account, region):
        now = time.monotonic()
        tokens, then = self.buckets.get((account, region), (LOOKUP_RATE, now))
        tokens = min(LOOKUP_RATE, tokens + (now - then) * LOOKUP_RATE)
        allowed = tokens >= 1.0
        self.buckets[(account, region)] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


class Handler:
    def __init__(self, org, latency, throttle_share, counters):
        self.org, self.latency, self.share, self.counters = org, latency, throttle_share, counters
        rec = org.rec
        self.home, self.other = rec["home"], rec["other"]
        self.answers = rec["answers"]
        self.assume_template = next(a for k, a in self.answers.items() if "AssumeRole" in k and a["status"] == 200)
        self.assume_key = next(k for k, a in self.answers.items() if a is self.assume_template)
        self.assume_own = re.search(r"\{\{A:([a-z-]+)\}\}:role", self.assume_key).group(1)
        self.unreachable = set(rec["unreachable"])
        self.lookups = LookupRate()

    def count(self, name, n=1):
        self.counters[COUNTERS.index(name)] += n

    def answer(self, method, path, headers, body):
        access, region, service = awsproto.scope(headers)
        caller = account_of(access)
        sig, op, token = awsproto.signature(method, path, headers, body)
        if service == "sts" and op == "AssumeRole":
            return self.assume_role(awsproto.form(body))
        if service == "organizations" and op in ("ListAccounts", "ListAccountsForParent"):
            items = self.org.listing if op == "ListAccounts" else self.org.by_parent.get(json.loads(body)["ParentId"], [])
            start = int(token or 0)
            page = {"Accounts": items[start:start + PAGE]}
            if start + PAGE < len(items):
                page["NextToken"] = str(start + PAGE)
            return json_reply(page)
        if path.startswith("/v20180820/"):  # S3 Control signs as `s3`
            return self.account_public_access_block(headers.get("x-amz-account-id", caller))
        other = region != self.home
        key = "|".join([self.org.template_of.get(caller, "management"), "other" if other else "home", service,
                        self.org.templated(sig, region if other else None)])
        if token:
            key += "|page:" + self.org.templated(token, region if other else None)
        recorded = self.answers.get(key)
        if recorded is None:
            self.count("unrouted")
            return not_served(service, f"bench server: nothing recorded for {key}")
        text = self.org.fill(recorded["body"], caller, region if other else None)
        return recorded["status"], recorded["headers"], text.encode()

    def over_lookup_rate(self, headers):
        """Whether this request is a LookupEvents past AWS's 2/s per account and region."""
        if not headers.get("x-amz-target", "").endswith(".LookupEvents"):
            return False
        access, region, _ = awsproto.scope(headers)
        return not self.lookups.allows(account_of(access), region)

    def assume_role(self, params):
        target = params.get("RoleArn", "").split(":")[4]
        if self.org.template_of.get(target) in self.unreachable or target not in self.org.template_of:
            body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                    "<Code>AccessDenied</Code><Message>User: arn:aws:iam::%s:user/bench is not authorized to perform: "
                    "sts:AssumeRole on resource: %s</Message></Error><RequestId>%s</RequestId></ErrorResponse>") % (
                        MANAGEMENT_ID, params.get("RoleArn"), request_id())
            return 403, {"content-type": "text/xml"}, body.encode()
        text = self.assume_template["body"].replace("{{A:%s}}" % self.assume_own, target)
        text = self.org.fill(text, target)
        text = re.sub(r"<AccessKeyId>[^<]*</AccessKeyId>", f"<AccessKeyId>ASIA{target}BNCH</AccessKeyId>", text)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        text = re.sub(r"<Expiration>[^<]*</Expiration>", f"<Expiration>{expires}</Expiration>", text)
        return 200, self.assume_template["headers"], text.encode()

    def account_public_access_block(self, account_id):
        """Compliant everywhere but in dev-like accounts, which have none (AWS's 404)."""
        rid = request_id()
        if self.org.template_of.get(account_id) == "dev":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code>'
                    "<Message>The public access block configuration was not found</Message></Error><RequestId>%s</RequestId></ErrorResponse>") % rid
            return 404, {"content-type": "application/xml", "x-amz-request-id": rid}, body.encode()
        flags = "".join(f"<{f}>true</{f}>" for f in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"])
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration '
                'xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">%s</PublicAccessBlockConfiguration>') % flags
        return 200, {"content-type": "application/xml", "x-amz-request-id": rid}, body.encode()

    async def serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                if path.startswith("/__bench/stats"):
                    status, out, data = json_reply(stats(self.counters))
                else:
                    self.count("requests")
                    if self.over_lookup_rate(headers):
                        self.count("throttled")
                        self.count("lookup_throttled")
                        status, out, data = throttle("cloudtrail")
                    elif self.share and random.random() < self.share:
                        self.count("throttled")
                        status, out, data = throttle(awsproto.scope(headers)[2])
                    else:
                        status, out, data = self.answer(method, path, headers, body)
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    self.count("bytes", len(data))
                reply = [f"HTTP/1.1 {status} X", f"Content-Length: {len(data)}"]
                reply += [f"{k}: {v}" for k, v in out.items()]
                writer.write(("\r\n".join(reply) + "\r\n\r\n").encode() + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


SHARED = None  # one row of counters per worker, in shared memory


def stats(_own):
    rows = len(SHARED) // len(COUNTERS)
    return {name: sum(SHARED[r * len(COUNTERS) + i] for r in range(rows)) for i, name in enumerate(COUNTERS)}


class Row:
    """A worker's counters, a view into SHARED."""

    def __init__(self, worker):
        self.base = worker * len(COUNTERS)

    def __getitem__(self, i):
        return SHARED[self.base + i]

    def __setitem__(self, i, v):
        SHARED[self.base + i] = v


def worker(sock, org, args, index):
    if index:  # a forked worker ends with the server process, however it ends
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    random.seed(args.seed * 1000 + index)
    handler = Handler(org, args.latency, args.throttle, Row(index))

    async def main():
        server = await asyncio.start_server(handler.serve, sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main():
    global SHARED
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, help="active accounts (default: mirror the seed organization)")
    p.add_argument("--mirror", action="store_true", help="the seed organization itself (the drift test)")
    p.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    p.add_argument("--throttle", type=float, default=0.05, help="share of answers that are throttling errors")
    p.add_argument("--workers", type=int, default=2, help="server processes")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--recording", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "recording.json"))
    p.add_argument("--print-org", action="store_true", help="print account id, template and name, then exit")
    args = p.parse_args()
    recording = json.load(open(args.recording))
    org = Org(recording, None if args.mirror or not args.accounts else args.accounts)
    if args.print_org:
        for m, entry in zip(org.members, org.listing):
            print(m[0], m[1], entry["Name"], entry["Status"])
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    SHARED = multiprocessing.RawArray("q", len(COUNTERS) * (args.workers + 1))
    if args.workers == 1:
        print(f"listening on {sock.getsockname()[1]}", flush=True)
        return worker(sock, org, args, 0)
    procs = [multiprocessing.Process(target=worker, args=(sock, org, args, i + 1), daemon=True)
             for i in range(args.workers)]
    for proc in procs:
        proc.start()
    print(f"listening on {sock.getsockname()[1]}", flush=True)

    def stop(*_):
        for proc in procs:
            proc.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for proc in procs:
            proc.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
