#!/usr/bin/env python3
"""Evidence-locker buckets in the emulator (moto implements S3 Object Lock:
COMPLIANCE retention refuses deletes, conditional writes refuse an existing
key), for tests/locker.rs.

Usage: locker.py ENDPOINT setup
         creates evidence-locker (COMPLIANCE, 400 days), short-locker
         (COMPLIANCE, 30 days), governance-locker (GOVERNANCE, 400 days) and
         plain-bucket (no Object Lock)
       locker.py ENDPOINT delete BUCKET KEY
         tries to delete every version of KEY; prints "refused: CODE" or "deleted"
"""
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT, ACTION = sys.argv[1], sys.argv[2]
assert ENDPOINT.startswith("http://127.0.0.1:"), "loopback emulator only"
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="AKIAAUDITPACKSEED000",
                  aws_secret_access_key="seed-secret-not-used", config=Config(s3={"addressing_style": "path"}))

if ACTION == "setup":
    for bucket, mode, days in [("evidence-locker", "COMPLIANCE", 400), ("short-locker", "COMPLIANCE", 30),
                               ("governance-locker", "GOVERNANCE", 400)]:
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}})
    s3.create_bucket(Bucket="plain-bucket")
    print("ok")
elif ACTION == "delete":
    bucket, key = sys.argv[3], sys.argv[4]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert versions, f"no version of {key}"
    try:
        for v in versions:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
        print("deleted")
    except ClientError as error:
        print("refused:", error.response["Error"]["Code"])
