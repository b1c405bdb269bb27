#!/usr/bin/env python3
"""Records what moto answers the real collector, for the benchmark server.

Like tests/emulator/fault_proxy.py (which it does not change): forwards every
request to moto unchanged, answers `sts:AssumeRole` into the DENY accounts with
AccessDenied, and also appends each exchange (the request's signing scope and
operation signature, the answer's status, content type, request id and body)
as one JSON line to LOG. bench/collect/build_recording.py turns that log into
bench/collect/recording.json. Listens on 127.0.0.1 only.

Usage: record_proxy.py LISTEN_PORT UPSTREAM_URL DENY_ACCOUNT_ID[,ID...] LOG
"""
import http.client
import http.server
import json
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsproto  # noqa: E402

PORT, UPSTREAM = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2])
DENY, LOG = set(sys.argv[3].split(",")), sys.argv[4]
assert UPSTREAM.hostname == "127.0.0.1", "the proxy only forwards to a loopback emulator"
LOCK = threading.Lock()

DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}</Message></Error>
  <RequestId>fault-proxy-denied</RequestId>
</ErrorResponse>"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        form = awsproto.form(body) if b"Action=" in body else {}
        if form.get("Action") == "AssumeRole" and any(f":{a}:" in form.get("RoleArn", "") for a in DENY):
            data = DENIED.format(caller="arn:aws:iam::auditor", role=form["RoleArn"]).encode()
            return self._reply(403, [("Content-Type", "text/xml")], data)
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=fwd)
        resp = conn.getresponse()
        data = resp.read()
        out = [(k, v) for k, v in resp.getheaders()
               if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive")]
        conn.close()
        key, region, service = awsproto.scope(headers)
        sig, op, token = awsproto.signature(self.command, self.path, headers, body)
        entry = {"key": key, "region": region, "service": service, "sig": sig, "op": op, "token": token,
                 "status": resp.status, "headers": {k.lower(): v for k, v in out}, "body": data.decode("utf-8", "replace")}
        with LOCK, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self._reply(resp.status, out, data)

    def _reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
