"""What the collection benchmark's recorder and server both need to know about
an AWS SDK request: which service, region and access key signed it, and a
stable signature of the operation (the key a recorded answer is stored under).

Routing follows the SDK's own signals, never guesses from the URL alone:
* `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request`
  gives the access key, region and service;
* JSON 1.1 services (Organizations, CloudTrail, Config) name the operation in
  `X-Amz-Target`; query services (STS, IAM) in the form body's `Action=`;
  REST services (S3 path-style, S3 Control, GuardDuty) by method, path and query.

Standard library only. Test and benchmark support, not product code.
"""
import json
import re
import urllib.parse

CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def scope(headers):
    """(access_key, region, service) from the SigV4 Authorization header."""
    m = CREDENTIAL.search(headers.get("authorization", ""))
    if not m:
        return "", "us-east-1", ""
    return m.group(1), m.group(2), m.group(3)


def form(body):
    """A query-protocol body as a dict of single values."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def protocol(service):
    """Which wire protocol (and so which error shape) a service uses."""
    if service in ("sts", "iam", "ec2"):
        return "query"  # EC2's errors have their own shape: see server.throttle
    if service in ("s3", "s3control"):
        return "restxml"
    if service in ("guardduty", "securityhub", "ram", "access-analyzer", "account"):
        return "restjson"
    return "json"  # organizations, cloudtrail, config, kms, sso, route53resolver


def signature(method, path, headers, body):
    """A stable description of the operation and its parameters, without
    pagination tokens: the key a recorded answer is stored under.
    Returns (signature, operation name for logs, pagination token or None)."""
    target = headers.get("x-amz-target")
    if target:
        params = json.loads(body or b"{}")
        token = params.pop("NextToken", None)
        if target.endswith(".LookupEvents"):
            # The window ends at the time of collection: not part of what is asked.
            params.pop("StartTime", None)
            params.pop("EndTime", None)
        return f"T {target} {json.dumps(params, sort_keys=True)}", target.split(".")[-1], token
    if b"Action=" in (body or b""):
        params = form(body)
        params.pop("Version", None)
        token = params.pop("Marker", None)
        action = params.get("Action", "")
        return f"Q {json.dumps(params, sort_keys=True)}", action, token
    base, _, query = path.partition("?")
    parts = sorted(p for p in query.split("&") if p and not p.startswith("x-id="))
    op = base.rstrip("/").rsplit("/", 1)[-1] or "ListBuckets"
    if parts:
        op = parts[0].split("=")[0]
    return f"R {method} {base}?{'&'.join(parts)}", op, None
