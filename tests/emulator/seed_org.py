#!/usr/bin/env python3
"""Seeds a moto server with a realistic AWS Organization for auditpack's end-to-end tests.

The organization has a management account (moto's default account), and
security, log-archive, network, dev and prod member accounts, plus a staging
account whose audit role cannot be assumed (the fault proxy denies it). It is
compliant by default, with deliberate faults:

* dev, eu-west-1: no GuardDuty detector;
* prod, eu-west-1: the Config recorder is stopped;
* log-archive: the Config log bucket uses GOVERNANCE retention and expires objects after 30 days;
* staging: its role cannot be assumed (see fault_proxy.py);
* dev, eu-west-1: its VPC has no flow log; prod, eu-west-1: EBS encryption by
  default is off; network, eu-west-1: its VPC has no DNS query logging;
* prod, us-east-1: a Transit Gateway outside the network account, accepting
  attachments automatically (the network account's gateway is compliant);
* dev: no account-level S3 Block Public Access; a KMS key without automatic rotation; its IAM user has a console
  password and no MFA (the security account's break-glass user has MFA);
* Security Hub is off in the sandbox account; Access Analyzer is not part of
  the emulator: fault_proxy.py serves it from the fixture this seed prints (an
  organization analyzer in the security account in us-east-1, none in eu-west-1);
* cloudtrail:LookupEvents is not in the emulator: the fault proxy serves this
  seed's `event_history` (a root sign-in in prod; a password sign-in without
  MFA in dev);
* account:ListRegions (for `--regions all`) is not in the emulator either: the
  fault proxy answers it from this seed's `account_regions` fixture, where the
  opt-in region af-south-1 is enabled in the dev account only;
* sandbox: no role is assigned to it, and its OU name carries HTML, an untrusted
  string the report must escape;
* an old sandbox account is closed (out of scope, listed as such).

Usage: seed_org.py ENDPOINT_URL  (prints a JSON description of the org on stdout)
Only ever talks to the given loopback endpoint.
"""
import http.client
import json
import sys
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config

ENDPOINT = sys.argv[1]
assert ENDPOINT.startswith("http://127.0.0.1:"), "the seed only talks to a loopback emulator"
HOME, OTHER = "us-east-1", "eu-west-1"
REGIONS = [HOME, OTHER]
ROLE = "OrganizationAccountAccessRole"
BASE = dict(endpoint_url=ENDPOINT, aws_access_key_id="AKIAAUDITPACKSEED000", aws_secret_access_key="seed-secret-not-used")

urllib.request.urlopen(urllib.request.Request(f"{ENDPOINT}/moto-api/reset", method="POST"))


def client(service, region=HOME, creds=None):
    kw = dict(BASE, region_name=region)
    if creds:
        kw.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    return boto3.client(service, config=cfg, **kw)


def assume(account_id):
    sts = client("sts")
    return sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed")["Credentials"]


org = client("organizations")
organization = org.create_organization(FeatureSet="ALL")["Organization"]
management = organization["MasterAccountId"]
root = org.list_roots()["Roots"][0]["Id"]
org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
ous = {}
SANDBOX_OU = "Sandbox <script>alert('ou')"
for path in ["Security", "Infrastructure", "Workloads", "Workloads/Prod", "Workloads/NonProd", SANDBOX_OU]:
    parent = ous.get(path.rsplit("/", 1)[0], root) if "/" in path else root
    ous[path] = org.create_organizational_unit(ParentId=parent, Name=path.rsplit("/", 1)[-1])["OrganizationalUnit"]["Id"]

accounts = {}
for key, name, ou in [("security", "acme-security", "Security"), ("log-archive", "acme-log-archive", "Security"),
                      ("network", "acme-network", "Infrastructure"), ("dev", "acme-dev", "Workloads/NonProd"),
                      ("prod", "acme-prod", "Workloads/Prod"), ("staging", "acme-staging", "Workloads/NonProd"),
                      ("sandbox", "acme-sandbox", SANDBOX_OU), ("closed", "acme-sandbox-old", SANDBOX_OU)]:
    status = org.create_account(Email=f"aws+{key}@acme.example", AccountName=name)["CreateAccountStatus"]
    accounts[key] = status["AccountId"]
    org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ous[ou])
accounts["management"] = management
try:
    org.close_account(AccountId=accounts["closed"])
except Exception as error:  # an emulator without CloseAccount keeps it active
    print(f"close_account: {error}", file=sys.stderr)

guardrails = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "DenyLeaveOrg", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
        {"Sid": "ProtectCloudTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"], "Resource": "*"},
        {"Sid": "ProtectGuardDuty", "Effect": "Deny", "Action": ["guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount", "guardduty:UpdateDetector"], "Resource": "*"},
        {"Sid": "ProtectConfig", "Effect": "Deny", "Action": ["config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel"], "Resource": "*"},
    ],
}
policy = org.create_policy(Content=json.dumps(guardrails), Description="Security guardrails", Name="acme-security-guardrails",
                           Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
org.attach_policy(PolicyId=policy, TargetId=root)
SECURITY_SERVICES = ["guardduty.amazonaws.com", "securityhub.amazonaws.com", "access-analyzer.amazonaws.com"]
for principal in ["cloudtrail.amazonaws.com", "config.amazonaws.com", *SECURITY_SERVICES]:
    org.enable_aws_service_access(ServicePrincipal=principal)
# Security Hub's delegation is made by securityhub:EnableOrganizationAdminAccount
# below; AWS registers it in Organizations by itself, moto does not (and refuses
# to register securityhub.amazonaws.com directly), so the emulator's
# organization lacks it: org.delegated-administrators and securityhub.coverage
# report it missing there.
for principal in ["guardduty.amazonaws.com", "access-analyzer.amazonaws.com"]:
    org.register_delegated_administrator(AccountId=accounts["security"], ServicePrincipal=principal)
# Owner and cost-center tags on every account but the sandbox ones (the fault).
for key, acct in accounts.items():
    if key not in ("sandbox", "closed"):
        org.tag_resource(ResourceId=acct, Tags=[{"Key": "owner", "Value": f"{key}-team"}, {"Key": "cost-center", "Value": "CC-1001"}])

creds = {key: assume(acct) for key, acct in accounts.items() if key not in ("management", "closed")}
creds["management"] = None

# Log archive: the CloudTrail bucket is compliant, the Config bucket is not.
log_creds = creds["log-archive"]
s3 = client("s3", creds=log_creds)
trail_bucket, config_bucket = "acme-org-cloudtrail-logs", "acme-org-config-logs"
tls_policy = lambda bucket: json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/*"}]})
for bucket, mode, expire_days in [(trail_bucket, "COMPLIANCE", 2555), (config_bucket, "GOVERNANCE", 30)]:
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": 400}}})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"arn:aws:kms:{HOME}:{accounts['security']}:key/logs"}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_policy(bucket))
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": expire_days}}]})
s3.create_bucket(Bucket="acme-access-logs")

# Organization trail in the management account, delivering to the log archive.
ct = client("cloudtrail")
ct.create_trail(Name="acme-org-trail", S3BucketName=trail_bucket, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True,
                IsOrganizationTrail=True, EnableLogFileValidation=True, KmsKeyId=f"arn:aws:kms:{HOME}:{accounts['security']}:key/trail")
ct.put_event_selectors(TrailName="acme-org-trail", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
ct.start_logging(Name="acme-org-trail")

# GuardDuty delegated to the security account; detectors everywhere except dev in eu-west-1.
for region in REGIONS:
    client("guardduty", region).enable_organization_admin_account(AdminAccountId=accounts["security"])
for key in ["management", "security", "log-archive", "network", "dev", "prod", "staging", "sandbox"]:
    for region in REGIONS:
        if (key, region) == ("dev", OTHER):
            continue
        client("guardduty", region, creds[key]).create_detector(Enable=True)

# Config recorders everywhere; prod's recorder in eu-west-1 is stopped.
for key in ["management", "security", "log-archive", "network", "dev", "prod", "staging", "sandbox"]:
    for region in REGIONS:
        cfg = client("config", region, creds[key])
        acct = accounts[key]
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{acct}:role/aws-config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == HOME}})
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": config_bucket})
        if (key, region) != ("prod", OTHER):
            cfg.start_configuration_recorder(ConfigurationRecorderName="default")
client("config", HOME, creds["security"]).put_configuration_aggregator(
    ConfigurationAggregatorName="acme-org-aggregator",
    OrganizationAggregationSource={"RoleArn": f"arn:aws:iam::{accounts['security']}:role/aws-config-aggregator", "AllAwsRegions": True})

# A password policy everywhere; dev has an IAM user with a console password.
for key in ["management", "security", "log-archive", "network", "dev", "prod", "staging"]:
    client("iam", HOME, creds[key]).update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True, RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True, MaxPasswordAge=90, PasswordReusePrevention=24)
iam_dev = client("iam", HOME, creds["dev"])
iam_dev.create_user(UserName="legacy-ci")
iam_dev.create_login_profile(UserName="legacy-ci", Password="Correct-Horse-Battery-9")

# Network: every VPC logs all traffic to the log archive and its DNS queries too,
# except the planted faults; EBS encryption by default on everywhere but one region.
flow_bucket, dns_bucket = "acme-org-flow-logs", "acme-org-dns-logs"
for bucket in (flow_bucket, dns_bucket):
    s3.create_bucket(Bucket=bucket)
REACHABLE = ["management", "security", "log-archive", "network", "dev", "prod", "sandbox"]
for key in REACHABLE:
    for region in REGIONS:
        ec2 = client("ec2", region, creds[key])
        vpc_ids = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["OwnerId"] == accounts[key]]
        if (key, region) != ("prod", OTHER):
            ec2.enable_ebs_encryption_by_default()
        if (key, region) != ("dev", OTHER):
            created = ec2.create_flow_logs(ResourceIds=vpc_ids, ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                                           LogDestination=f"arn:aws:s3:::{flow_bucket}")
            assert not created.get("Unsuccessful"), created["Unsuccessful"]
        if (key, region) != ("network", OTHER):
            resolver = client("route53resolver", region, creds[key])
            config_id = resolver.create_resolver_query_log_config(
                Name="acme-dns", DestinationArn=f"arn:aws:s3:::{dns_bucket}", CreatorRequestId=f"seed-{key}-{region}")["ResolverQueryLogConfig"]["Id"]
            for vpc_id in vpc_ids:
                resolver.associate_resolver_query_log_config(ResolverQueryLogConfigId=config_id, ResourceId=vpc_id)
        # Security Hub everywhere but the sandbox account.
        if key != "sandbox":
            client("securityhub", region, creds[key]).enable_security_hub(EnableDefaultStandards=False)
client("ec2", HOME, creds["network"]).create_transit_gateway(
    Description="acme core network", Options={"AutoAcceptSharedAttachments": "disable"})
client("ec2", HOME, creds["prod"]).create_transit_gateway(
    Description="shadow network", Options={"AutoAcceptSharedAttachments": "enable"})
for region in REGIONS:
    client("securityhub", region).enable_organization_admin_account(AdminAccountId=accounts["security"])
    client("securityhub", region, creds["security"]).update_organization_configuration(
        AutoEnable=False, AutoEnableStandards="NONE", OrganizationConfiguration={"ConfigurationType": "CENTRAL", "Status": "ENABLED"})

# Account-level S3 Block Public Access everywhere but the dev account. (S3
# Control addresses <account-id>.<host>: the seed talks to the emulator without
# that prefix; the collector reaches it through a hosts mapping, see
# scripts/make-samples.sh.)
def put_account_public_access_block(account_id, creds):
    """s3control:PutPublicAccessBlock, sent to the loopback emulator with the
    Host header AWS's endpoint would have (no name resolution needed)."""
    port = urllib.parse.urlparse(ENDPOINT).port
    flags = "".join(f"<{f}>true</{f}>" for f in ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"])
    body = f'<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">{flags}</PublicAccessBlockConfiguration>'
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    key_id = creds["AccessKeyId"] if creds else BASE["aws_access_key_id"]
    headers = {"Host": f"{account_id}.127.0.0.1:{port}", "x-amz-account-id": account_id,
               "Authorization": f"AWS4-HMAC-SHA256 Credential={key_id}/20260101/{HOME}/s3/aws4_request, SignedHeaders=host, Signature=0"}
    if creds:
        headers["X-Amz-Security-Token"] = creds["SessionToken"]
    conn.request("PUT", "/v20180820/configuration/publicAccessBlock", body=body.encode(), headers=headers)
    answer = conn.getresponse()
    assert answer.status < 300, (answer.status, answer.read())
    conn.close()


for key in REACHABLE:
    if key != "dev":
        put_account_public_access_block(accounts[key], creds[key])

# KMS: the security account's key rotates, the dev account's does not.
for key, rotate in [("security", True), ("dev", False)]:
    kms = client("kms", HOME, creds[key])
    key_id = kms.create_key(Description=f"acme {key} data key")["KeyMetadata"]["KeyId"]
    if rotate:
        kms.enable_key_rotation(KeyId=key_id)

# The security account's break-glass user has a console password and MFA.
iam_sec = client("iam", HOME, creds["security"])
iam_sec.create_user(UserName="break-glass")
iam_sec.create_login_profile(UserName="break-glass", Password="Correct-Horse-Battery-10")
serial = iam_sec.create_virtual_mfa_device(VirtualMFADeviceName="break-glass")["VirtualMFADevice"]["SerialNumber"]
iam_sec.enable_mfa_device(UserName="break-glass", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")

def event_history():
    """CloudTrail event history the fault proxy serves for cloudtrail:LookupEvents
    (moto has none): raw records without their time (the proxy places them in
    the window asked, in this order). Changes (below); the prod account's root user signed in (with MFA); in
    the dev account an IAM user signed in with a password and no MFA, and a
    person through Identity Center (MFA at the identity provider)."""
    prod, dev = accounts["prod"], accounts["dev"]
    signin = lambda acct, identity, mfa: {
        "eventVersion": "1.09", "userIdentity": identity, "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": HOME, "sourceIPAddress": "203.0.113.9", "userAgent": "Mozilla/5.0",
        "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": mfa},
        "eventType": "AwsConsoleSignIn", "recipientAccountId": acct}
    management, log_archive = accounts["management"], accounts["log-archive"]
    person = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{management}:user/mallory",
              "accountId": management, "userName": "mallory",
              "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}}
    pipeline = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:ci", "arn": f"arn:aws:sts::{log_archive}:assumed-role/terraform-apply/ci",
                "accountId": log_archive, "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{log_archive}:role/terraform-apply"},
                                                            "attributes": {"mfaAuthenticated": "false"}}}
    write = lambda acct, source, name, identity, **extra: dict({
        "eventVersion": "1.09", "userIdentity": identity, "eventSource": source, "eventName": name, "awsRegion": HOME,
        "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15", "requestParameters": {}, "eventType": "AwsApiCall",
        "recipientAccountId": acct}, **extra)
    return [
        # Changes of the period (ReadOnly=false): a person stops the organization
        # trail and starts it again an hour later; the Terraform pipeline changes
        # the log bucket's policy (a managed change); a DeleteDetector in dev is
        # refused by the SCP.
        {"account": management, "region": HOME, "lookup": "ReadOnly=false",
         "events": [write(management, "cloudtrail.amazonaws.com", "StopLogging", person),
                    write(management, "cloudtrail.amazonaws.com", "StartLogging", person)]},
        {"account": log_archive, "region": HOME, "lookup": "ReadOnly=false",
         "events": [write(log_archive, "s3.amazonaws.com", "PutBucketPolicy", pipeline)]},
        {"account": dev, "region": HOME, "lookup": "ReadOnly=false",
         "events": [write(dev, "guardduty.amazonaws.com", "DeleteDetector",
                          dict(person, arn=f"arn:aws:iam::{dev}:user/legacy-ci", accountId=dev),
                          errorCode="AccessDenied", errorMessage="explicit deny in a service control policy")]},
        {"account": prod, "region": HOME, "lookup": "Username=root",
         "events": [signin(prod, {"type": "Root", "principalId": prod, "arn": f"arn:aws:iam::{prod}:root", "accountId": prod}, "Yes")]},
        {"account": dev, "region": HOME, "lookup": "EventName=ConsoleLogin",
         "events": [signin(dev, {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{dev}:user/legacy-ci",
                                 "accountId": dev, "userName": "legacy-ci"}, "No"),
                    signin(dev, {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@acme.example",
                                 "arn": f"arn:aws:sts::{dev}:assumed-role/AWSReservedSSO_Admin_1/alice@acme.example",
                                 "accountId": dev}, "No")]},
    ]


json.dump({"organization_id": organization["Id"], "home_region": HOME, "regions": REGIONS, "accounts": accounts,
           "role_name": ROLE, "unreachable": [accounts["staging"]],
           "access_analyzer": {"account": accounts["security"], "regions": [HOME]},
           "account_regions": {"default": REGIONS, "opt_in": "af-south-1", "opt_in_enabled": [accounts["dev"]]},
           "event_history": event_history()},
          sys.stdout, indent=2)
print()
