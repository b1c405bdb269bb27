#!/usr/bin/env python3
"""A tiny HTTP proxy in front of moto that makes chosen accounts unreachable.

moto accepts every AssumeRole when IAM enforcement is off, so an account whose
audit role cannot be assumed has to be simulated: this proxy answers
`sts:AssumeRole` into the listed accounts with AccessDenied, exactly as AWS does,
and forwards everything else unchanged. It listens on 127.0.0.1 only.

Usage: fault_proxy.py LISTEN_PORT UPSTREAM_URL DENY_ACCOUNT_ID[,ID...]
"""
import http.client
import http.server
import sys
import urllib.parse

PORT, UPSTREAM, DENY = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2]), set(sys.argv[3].split(","))
assert UPSTREAM.hostname == "127.0.0.1", "the proxy only forwards to a loopback emulator"

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
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        if form.get("Action") == ["AssumeRole"]:
            role = form.get("RoleArn", [""])[0]
            if any(f":{acct}:" in role for acct in DENY):
                return self._reply(403, DENIED.format(caller="arn:aws:iam::auditor", role=role).encode(), "text/xml")
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive"):
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
