#!/usr/bin/env python3
"""A tiny HTTP proxy in front of moto: serves, in AWS's shape, what the
organization needs and moto lacks, makes chosen accounts unreachable,
throttles LookupEvents at AWS's rate, and injects the faults tests ask for.

* moto accepts every AssumeRole when IAM enforcement is off, so an account whose
  audit role cannot be assumed has to be simulated: this proxy answers
  `sts:AssumeRole` into the seed's `unreachable` accounts with AccessDenied,
  exactly as AWS does.
* moto has no IAM Access Analyzer: `access-analyzer:ListAnalyzers` (REST-JSON,
  `GET /analyzer`, signing name `access-analyzer`) is answered here, in AWS's
  documented response shape (`{"analyzers": [{arn, name, type, status,
  createdAt}]}`, lowerCamel, ISO 8601 timestamps), from the seed's
  `access_analyzer` fixture: an ORGANIZATION analyzer of the named account in
  the named regions, none elsewhere.

* moto has no `account:ListRegions` (REST-JSON `POST /listRegions`, signing
  name `account`): answered here in AWS's shape (`{"Regions": [{RegionName,
  RegionOptStatus}]}`) from the seed's `account_regions` fixture: the two
  regions of the organization ENABLED_BY_DEFAULT everywhere, and one opt-in
  region ENABLED only in the accounts listed. The caller's account is known
  from the access key: AssumeRole answers passing through the proxy say which
  account each key belongs to; any other key is the management account's, as
  moto has it.
* moto has no `cloudtrail:LookupEvents` (JSON 1.1, `X-Amz-Target:
  …CloudTrail_20131101.LookupEvents`): answered here in AWS's shape
  (`{"Events": [{EventId, EventName, ReadOnly, EventTime, EventSource, Username,
  Resources, CloudTrailEvent: "<the raw record as JSON text>"}], "NextToken"}`)
  from the seed's `event_history`, each record timed inside the window asked,
  one event per page (so pagination runs).
* moto has no `guardduty:DescribeOrganizationConfiguration` (REST-JSON
  `GET /detector/{id}/admin`, a 404 there): answered here in AWS's shape
  (`{"autoEnable", "autoEnableOrganizationMembers", "memberAccountLimitReached",
  "features": [{name, autoEnable}]}`) for the seed's GuardDuty administrator
  (the security account): ALL members auto-enabled, as the seed's organization
  means it; any other caller gets AWS's BadRequestException.
* Two moto defects in Security Hub answers are corrected to AWS's documented
  shape, so the real SDK parser sees what AWS would send: errors come as XML
  under a REST-JSON protocol (rewritten to AWS's JSON error shape
  `{"__type", "message"}`), and `InvitedAt` carries no
  time zone (given `Z`, UTC, as moto means it).

* cloudtrail:LookupEvents is throttled as AWS throttles it: 2 requests a
  second per account and region. A third request less than a second after
  the first of the two before it (counting only answered requests) gets AWS's
  ThrottlingException (HTTP 400, JSON 1.1 `{"__type": "ThrottlingException",
  "message": "Rate exceeded"}`). The collector spaces its lookups 0.5 s apart,
  so it is never throttled here unless that spacing breaks.

Test-only faults (none unless the seed file asks; `tests/common/emulator.rs`
writes them):

* Accounts the seed lists under `outage` simulate an endpoint outage: an
  AssumeRole into them gets its connection dropped, no answer.
* Accounts listed under `expired_credentials` get credentials that have
  already expired from their first AssumeRole (a run longer than the
  credentials' hour).
* `faults`: a list of `{"account", "service", "fault", ...}`, each for the
  requests that account makes (its access key) to that service (the signing
  name of the Authorization header's credential scope: `kms`, `config`,
  `guardduty`, `cloudtrail`, ...), so one run can carry several faults in
  different accounts and services:
  - `"fault": "reset"`: the request is read, then the TCP connection is reset
    (SO_LINGER 0, then close: an RST, no answer), every time;
  - `"fault": "server_error", "status": 503|500, "count": N`: the first N
    requests get a 5xx in the service's own error shape (JSON 1.1 `__type`,
    REST-JSON `x-amzn-ErrorType`, query `<ErrorResponse>`, EC2 `<Response>
    <Errors>`, REST-XML `<Error>`), then normal answers; `"count": null`: every
    request;
  - `"fault": "slow", "seconds": S`: every request is answered S seconds late
    (set S past the collector's `--call-timeout`);
  - `"fault": "throttle", "count": K` (service `cloudtrail`):
    the account's first K LookupEvents requests get the ThrottlingException
    above whatever their rate; `"count": null`: every one.

`GET /__proxy/stats` counts what the proxy did, so a test can tell that a
fault was served and what the collector made of it: AssumeRole answers per
account (`assume_role`), faults served (`faults`: account -> service -> fault
-> n) and LookupEvents answered and throttled for their rate (`lookup_events`:
account -> {served, rate_throttled}).

Everything else is forwarded unchanged. It listens on 127.0.0.1 only.

Usage: fault_proxy.py LISTEN_PORT UPSTREAM_URL SEED_JSON_FILE
"""
import datetime
import http.client
import http.server
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse

PORT, UPSTREAM = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2])
with open(sys.argv[3]) as seed_file:
    SEED = json.load(seed_file)
DENY = set(SEED["unreachable"])
OUTAGE = set(SEED.get("outage", []))  # AssumeRole into these: the connection is dropped
EXPIRED = set(SEED.get("expired_credentials", []))  # their first credentials come already expired
ASSUMED = {}  # account id -> AssumeRole answers given (GET /__proxy/stats)
# (account id, signing name) -> the fault's spec, with "left": answers still to fault (None: all)
FAULTS = {(f["account"], f["service"]): dict(f, left=f.get("count")) for f in SEED.get("faults", [])}
FAULTED = {}  # account id -> service -> fault -> times served (GET /__proxy/stats)
LOOKUPS = {}  # account id -> {"served": n, "rate_throttled": n} (GET /__proxy/stats)
SERVED_LOOKUPS = {}  # (account id, region) -> monotonic times of the LookupEvents answered
LOOKUP_RATE = 2  # LookupEvents a second, per account and region, as AWS allows
LOCK = threading.Lock()  # the counters above, shared by the handler threads
EXPIRATION = re.compile(rb"<Expiration>[^<]*</Expiration>")
ANALYZER = SEED["access_analyzer"]
REGIONS = SEED["account_regions"]
KEY_ACCOUNT = {}  # access key id -> account id, learnt from AssumeRole answers
GUARDDUTY_ADMIN = re.compile(r"^/detector/[^/]+/admin$")
GUARDDUTY_ORG_CONFIG = {"autoEnable": True, "autoEnableOrganizationMembers": "ALL", "memberAccountLimitReached": False,
                        "features": [{"name": "S3_DATA_EVENTS", "autoEnable": "ALL"}]}
ASSUMED_KEY = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
assert UPSTREAM.hostname == "127.0.0.1", "the proxy only forwards to a loopback emulator"
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def account_regions(account):
    """ListRegions' answer for `account`, as AWS documents it."""
    listed = [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"} for r in REGIONS["default"]]
    opt_in = REGIONS["opt_in"]
    status = "ENABLED" if account in REGIONS["opt_in_enabled"] else "DISABLED"
    listed.append({"RegionName": opt_in, "RegionOptStatus": status})
    return {"Regions": sorted(listed, key=lambda r: r["RegionName"])}


def lookup_events(account, region, body):
    """One page of LookupEvents' answer, as AWS documents it."""
    request = json.loads(body or b"{}")
    attribute = (request.get("LookupAttributes") or [{}])[0]
    lookup = f"{attribute.get('AttributeKey')}={attribute.get('AttributeValue')}"
    start = float(request.get("StartTime") or 0)
    records = [r for h in SEED["event_history"]
               if (h["account"], h["region"], h["lookup"]) == (account, region, lookup) for r in h["events"]]
    page = int(request.get("NextToken") or 0)
    answer = {"Events": []}
    if page < len(records):
        when = start + 86400 + 3600 * page  # a day into the window, an hour apart
        record = dict(records[page], eventTime=datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      eventID=f"fixture-{account}-{region}-{page}")
        answer["Events"].append({
            "EventId": record["eventID"], "EventName": record["eventName"], "ReadOnly": "false", "EventTime": when,
            "EventSource": record["eventSource"], "Username": record["userIdentity"].get("userName", "root"),
            "Resources": [], "CloudTrailEvent": json.dumps(record)})
        if page + 1 < len(records):
            answer["NextToken"] = str(page + 1)
    return answer


def analyzers(region):
    """ListAnalyzers' answer in `region`, as AWS documents it."""
    if region not in ANALYZER["regions"]:
        return {"analyzers": []}
    account = ANALYZER["account"]
    return {"analyzers": [{
        "arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/acme-organization",
        "name": "acme-organization", "type": "ORGANIZATION", "status": "ACTIVE",
        "createdAt": "2026-01-05T10:00:00Z", "tags": {}}]}

DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}</Message></Error>
  <RequestId>fault-proxy-denied</RequestId>
</ErrorResponse>"""


XML_ERROR = re.compile(rb"<Code>([^<]*)</Code>\s*<Message>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</Message>", re.S)
NAIVE_INVITED_AT = re.compile(rb'("InvitedAt": "[0-9T:.-]+)"')


def corrected(service, status, headers, data):
    """moto's Security Hub answers, in the shape AWS documents (see above)."""
    if service != "securityhub":
        return headers, data
    error = XML_ERROR.search(data) if status >= 400 else None
    if error:
        body = {"__type": error.group(1).decode(), "message": error.group(2).decode()}
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", "application/json")]
        return headers, json.dumps(body).encode()
    return headers, NAIVE_INVITED_AT.sub(rb'\1Z"', data)


THROTTLED = {"__type": "ThrottlingException", "message": "Rate exceeded"}
QUERY_SERVICES = ("sts", "iam")
REST_JSON_SERVICES = ("guardduty", "securityhub", "access-analyzer", "account", "ram")


def server_error(service, status):
    """A 5xx answer in `service`'s own error shape, as AWS sends one:
    (status, headers, body). Codes are AWS's common ones: ServiceUnavailable
    (503), InternalFailure (500); EC2 and S3 say Unavailable and InternalError."""
    unavailable = status == 503
    message = "Service is unavailable" if unavailable else "An internal error occurred"
    request_id = "fault-proxy-server-error"
    if service == "ec2":
        code = "Unavailable" if unavailable else "InternalError"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return status, [("Content-Type", "text/xml")], body.encode()
    if service in QUERY_SERVICES:
        code = "ServiceUnavailable" if unavailable else "InternalFailure"
        body = (f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if service in ("s3", "s3control"):
        code = "ServiceUnavailable" if unavailable else "InternalError"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>")
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    code = "ServiceUnavailable" if unavailable else "InternalFailure"
    if service in REST_JSON_SERVICES:
        return status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                        ("x-amzn-ErrorType", code)], json.dumps({"message": message}).encode()
    # JSON 1.0/1.1: organizations, cloudtrail, config, kms, sso, route53resolver
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)], \
        json.dumps({"__type": code, "message": message}).encode()


def take_fault(account, service, lookup):
    """The fault this request gets, or None: `account`'s fault for `service`,
    while it has answers left to fault (a throttle applies to LookupEvents
    only). Counts it."""
    with LOCK:
        fault = FAULTS.get((account, service))
        if fault is None or (fault["fault"] == "throttle" and not lookup):
            return None
        if fault["left"] is not None:
            if fault["left"] <= 0:
                return None
            fault["left"] -= 1
        served = FAULTED.setdefault(account, {}).setdefault(service, {})
        served[fault["fault"]] = served.get(fault["fault"], 0) + 1
        return fault


def lookup_rate_exceeded(account, region):
    """Whether a LookupEvents request now exceeds AWS's rate for the account
    and region (LOOKUP_RATE answered in the last second); an answered one is
    counted."""
    now = time.monotonic()
    with LOCK:
        recent = [t for t in SERVED_LOOKUPS.get((account, region), []) if now - t < 1.0]
        counts = LOOKUPS.setdefault(account, {"served": 0, "rate_throttled": 0})
        exceeded = len(recent) >= LOOKUP_RATE
        if exceeded:
            counts["rate_throttled"] += 1
        else:
            recent.append(now)
            counts["served"] += 1
        SERVED_LOOKUPS[(account, region)] = recent
        return exceeded


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _caller_account(self):
        """The account of the request's access key: learnt from AssumeRole
        answers; any other key (or none) is the management account's, as moto
        has it."""
        key = ACCESS_KEY.search(self.headers.get("Authorization", ""))
        return KEY_ACCOUNT.get(key.group(1) if key else None, SEED["accounts"]["management"])

    def _serve(self):
        try:
            self._forward()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a slow answer past its timeout).
            self.close_connection = True

    def _stats(self):
        with LOCK:
            stats = {"assume_role": ASSUMED, "faults": FAULTED, "lookup_events": LOOKUPS}
            return self._reply(200, json.dumps(stats).encode(), "application/json")

    def _reset(self):
        """Resets the connection: SO_LINGER 0, then the last reference to the
        socket closed, sends an RST instead of an orderly FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # holds a reference to the socket, which would keep it open
        self.connection.close()

    def _inject(self, fault, service):
        """Serves a test-only fault; True when the request is answered (or not) by it."""
        kind = fault["fault"]
        if kind == "reset":
            self._reset()
            return True
        if kind == "server_error":
            status, headers, data = server_error(service, fault.get("status", 503))
            self._send(status, headers, data)
            return True
        if kind == "throttle":
            self._reply(400, json.dumps(THROTTLED).encode(), "application/x-amz-json-1.1")
            return True
        if kind == "slow":
            time.sleep(fault["seconds"])
            return False  # then answered as usual, too late for the caller
        raise ValueError(f"unknown fault {kind}")

    def _forward(self):
        if self.path == "/__proxy/stats":
            return self._stats()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        scope = SCOPE.search(self.headers.get("Authorization", ""))
        region, service = scope.groups() if scope else ("", None)
        lookup = self.headers.get("X-Amz-Target", "").endswith("CloudTrail_20131101.LookupEvents")
        fault = take_fault(self._caller_account(), service, lookup)
        if fault and self._inject(fault, service):
            return None
        if service == "access-analyzer" and self.path.split("?")[0] == "/analyzer":
            return self._reply(200, json.dumps(analyzers(region)).encode(), "application/json")
        if lookup:
            account = self._caller_account()
            if lookup_rate_exceeded(account, region):
                return self._reply(400, json.dumps(THROTTLED).encode(), "application/x-amz-json-1.1")
            answer = lookup_events(account, region, body)
            return self._reply(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")
        if service == "guardduty" and self.command == "GET" and GUARDDUTY_ADMIN.match(self.path.split("?")[0]):
            if self._caller_account() == SEED["accounts"]["security"]:
                return self._reply(200, json.dumps(GUARDDUTY_ORG_CONFIG).encode(), "application/json")
            error = {"__type": "BadRequestException", "message": "The request is rejected because the current account is not the GuardDuty administrator account."}
            return self._reply(400, json.dumps(error).encode(), "application/json")
        if service == "account" and self.path.split("?")[0] == "/listRegions":
            account = self._caller_account()
            return self._reply(200, json.dumps(account_regions(account)).encode(), "application/json")
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        if form.get("Action") == ["AssumeRole"]:
            role = form.get("RoleArn", [""])[0]
            if any(f":{acct}:" in role for acct in DENY):
                return self._reply(403, DENIED.format(caller="arn:aws:iam::auditor", role=role).encode(), "text/xml")
            if any(f":{acct}:" in role for acct in OUTAGE):
                # An endpoint outage: the connection closes without an answer.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        headers = [(k, v) for k, v in resp.getheaders()
                   if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive")]
        headers, data = corrected(service, resp.status, headers, data)
        if form.get("Action") == ["AssumeRole"] and resp.status == 200:
            issued = ASSUMED_KEY.search(data)
            target = form.get("RoleArn", [""])[0].split(":")[4]
            with LOCK:
                if issued:
                    KEY_ACCOUNT[issued.group(1).decode()] = target
                ASSUMED[target] = ASSUMED.get(target, 0) + 1
                first = ASSUMED[target] == 1
            if target in EXPIRED and first:
                past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
                data = EXPIRATION.sub(f"<Expiration>{past}</Expiration>".encode(), data)
        conn.close()
        # A HEAD answer has no body, but its Content-Length is the object's
        # (S3 HeadObject): pass the emulator's on, not the empty body's.
        length = resp.getheader("Content-Length") if self.command == "HEAD" else None
        self._send(resp.status, headers, data, length)

    def _send(self, status, headers, data, length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", length if length is not None else str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, status, body, content_type):
        self._send(status, [("Content-Type", content_type)], body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
