#!/usr/bin/env python3
"""Remediates one of seed_org.py's deliberate faults, as a team would between two
quarters: starts the prod account's stopped Config recorder in eu-west-1.

Usage: remediate.py ENDPOINT_URL PROD_ACCOUNT_ID   (only talks to a loopback endpoint)
"""
import sys

import boto3

ENDPOINT, PROD = sys.argv[1], sys.argv[2]
assert ENDPOINT.startswith("http://127.0.0.1:"), "only a loopback emulator"
BASE = dict(endpoint_url=ENDPOINT, aws_access_key_id="AKIAAUDITPACKSEED000", aws_secret_access_key="seed-secret-not-used")
creds = boto3.client("sts", region_name="us-east-1", **BASE).assume_role(
    RoleArn=f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole", RoleSessionName="remediate")["Credentials"]
config = boto3.client("config", region_name="eu-west-1", endpoint_url=ENDPOINT, aws_access_key_id=creds["AccessKeyId"],
                      aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
config.start_configuration_recorder(ConfigurationRecorderName="default")
print("started the Config recorder of", PROD, "in eu-west-1")
