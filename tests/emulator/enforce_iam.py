#!/usr/bin/env python3
"""Prepares a seeded moto organization for a least-privilege run, then turns on
moto's IAM enforcement.

* management account: an IAM user `auditpack-ci` whose only permissions are the
  policy file given (exactly `auditpack iam-policy`) plus sts:AssumeRole on the
  audit role;
* every member account in the seed: a role `AuditpackReadOnly` trusting that user,
  with exactly the same policy;
* then POST /moto-api/reset-auth 0: from the next request on, moto checks
  signatures and policies.

Usage: enforce_iam.py ENDPOINT_URL SEED_JSON POLICY_JSON   (prints the user's keys as JSON)
"""
import json
import sys
import urllib.request

import boto3

ENDPOINT, SEED, POLICY = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
assert ENDPOINT.startswith("http://127.0.0.1:"), "only a loopback emulator"
ROLE = "AuditpackReadOnly"
BASE = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="AKIAAUDITPACKSEED000",
            aws_secret_access_key="seed-secret-not-used")

management = SEED["accounts"]["management"]
iam = boto3.client("iam", **BASE)
iam.create_user(UserName="auditpack-ci")
iam.put_user_policy(UserName="auditpack-ci", PolicyName="auditpack-evidence", PolicyDocument=POLICY)
iam.put_user_policy(UserName="auditpack-ci", PolicyName="assume-audit-role", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::*:role/{ROLE}"}]}))
key = iam.create_access_key(UserName="auditpack-ci")["AccessKey"]

trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": f"arn:aws:iam::{management}:user/auditpack-ci"}}]})
sts = boto3.client("sts", **BASE)
for name, account in SEED["accounts"].items():
    if account == management or name == "closed" or account in SEED["unreachable"]:
        continue
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="seed")["Credentials"]
    member = boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    member.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    member.put_role_policy(RoleName=ROLE, PolicyName="auditpack-evidence", PolicyDocument=POLICY)

urllib.request.urlopen(urllib.request.Request(f"{ENDPOINT}/moto-api/reset-auth", data=b"0", method="POST",
                                              headers={"Content-Type": "text/plain"}))
# Self-check: enforcement is on (an action outside the policy is denied), and the
# user's own keys work.
user = boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                    aws_secret_access_key=key["SecretAccessKey"])
try:
    user.list_roles()
    enforced = False
except user.exceptions.ClientError as error:
    enforced = error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
json.dump({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"], "role_name": ROLE,
           "enforcement_verified": enforced}, sys.stdout)
print()
