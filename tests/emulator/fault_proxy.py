#!/usr/bin/env python3
"""A tiny HTTP proxy in front of moto: makes chosen accounts unreachable and
serves the one API the organization needs that moto lacks.

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

* Accounts the seed lists under `outage` (tests only) simulate an endpoint
  outage: an AssumeRole into them gets its connection dropped, no answer.
* Accounts listed under `expired_credentials` (tests only) get credentials
  that have already expired from their first AssumeRole (a run longer than
  the credentials' hour); `GET /__proxy/stats` counts the AssumeRole answers
  per account, so a test can see that the collector renewed them.

Everything else is forwarded unchanged. It listens on 127.0.0.1 only.

Usage: fault_proxy.py LISTEN_PORT UPSTREAM_URL SEED_JSON_FILE
"""
import datetime
import http.client
import socket
import http.server
import json
import re
import sys
import urllib.parse

PORT, UPSTREAM = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2])
with open(sys.argv[3]) as seed_file:
    SEED = json.load(seed_file)
DENY = set(SEED["unreachable"])
OUTAGE = set(SEED.get("outage", []))  # AssumeRole into these: the connection is dropped
EXPIRED = set(SEED.get("expired_credentials", []))  # their first credentials come already expired
ASSUMED = {}  # account id -> AssumeRole answers given (GET /__proxy/stats)
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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _caller_account(self):
        """The account of the request's access key: learnt from AssumeRole
        answers; any other key is the management account's, as moto has it."""
        key = ACCESS_KEY.search(self.headers.get("Authorization", "")).group(1)
        return KEY_ACCOUNT.get(key, SEED["accounts"]["management"])

    def _forward(self):
        if self.path == "/__proxy/stats":
            return self._reply(200, json.dumps({"assume_role": ASSUMED}).encode(), "application/json")
        scope = SCOPE.search(self.headers.get("Authorization", ""))
        if scope and scope.group(2) == "access-analyzer" and self.path.split("?")[0] == "/analyzer":
            return self._reply(200, json.dumps(analyzers(scope.group(1))).encode(), "application/json")
        if self.headers.get("X-Amz-Target", "").endswith("CloudTrail_20131101.LookupEvents"):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            account = self._caller_account()
            answer = lookup_events(account, scope.group(1) if scope else "", body)
            return self._reply(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")
        if scope and scope.group(2) == "guardduty" and self.command == "GET" and GUARDDUTY_ADMIN.match(self.path.split("?")[0]):
            if self._caller_account() == SEED["accounts"]["security"]:
                return self._reply(200, json.dumps(GUARDDUTY_ORG_CONFIG).encode(), "application/json")
            error = {"__type": "BadRequestException", "message": "The request is rejected because the current account is not the GuardDuty administrator account."}
            return self._reply(400, json.dumps(error).encode(), "application/json")
        if scope and scope.group(2) == "account" and self.path.split("?")[0] == "/listRegions":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            account = self._caller_account()
            return self._reply(200, json.dumps(account_regions(account)).encode(), "application/json")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
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
        headers, data = corrected(scope.group(2) if scope else None, resp.status, headers, data)
        if form.get("Action") == ["AssumeRole"] and resp.status == 200:
            issued = ASSUMED_KEY.search(data)
            target = form.get("RoleArn", [""])[0].split(":")[4]
            if issued:
                KEY_ACCOUNT[issued.group(1).decode()] = target
            ASSUMED[target] = ASSUMED.get(target, 0) + 1
            if target in EXPIRED and ASSUMED[target] == 1:
                past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
                data = EXPIRATION.sub(f"<Expiration>{past}</Expiration>".encode(), data)
        self.send_response(resp.status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    def _reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
