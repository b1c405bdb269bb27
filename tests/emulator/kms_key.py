#!/usr/bin/env python3
"""Creates an asymmetric signing key (ECC_NIST_P256, SIGN_VERIFY) in the emulator's
KMS, standing in for the security account's bundle-signing key.

Usage: kms_key.py ENDPOINT_URL
Prints {"key_arn": ..., "public_key_pem": ...} as JSON. Only talks to a loopback endpoint.
"""
import base64
import json
import sys
import textwrap

import boto3

ENDPOINT = sys.argv[1]
assert ENDPOINT.startswith("http://127.0.0.1:"), "only a loopback emulator"
kms = boto3.client("kms", endpoint_url=ENDPOINT, region_name="us-east-1",
                   aws_access_key_id="AKIAAUDITPACKSEED000", aws_secret_access_key="seed-secret-not-used")
key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="auditpack bundle signing")["KeyMetadata"]
der = kms.get_public_key(KeyId=key["Arn"])["PublicKey"]
pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)) + "\n-----END PUBLIC KEY-----\n"
json.dump({"key_arn": key["Arn"], "public_key_pem": pem}, sys.stdout)
print()
