//! Table-driven checks drawn from AWS documentation examples:
//! S3 bucket policies (TLS-only, SSE, VPC endpoint), IAM identity policies
//! (MFA, source IP) and SCPs (region lock, protected roles, tags, time).
//! Each row names the document it follows.

use auditpack_policy::{
    allows_public, denies, denies_unconditionally, parse_policy, DenyAnswer, PolicyError, Question,
    RequestContext,
};
use serde_json::{json, Value};

const BUCKET: &str = "arn:aws:s3:::amzn-s3-demo-bucket";
const BUCKET_OBJECTS: &str = "arn:aws:s3:::amzn-s3-demo-bucket/*";
const OBJECT: &str = "arn:aws:s3:::amzn-s3-demo-bucket/some/key";

/// What a row expects from [`denies`].
#[derive(Debug)]
enum Expect {
    /// Denied, and some denying statement needs no absent key.
    Full,
    /// Denied only thanks to keys absent from the context.
    Partial,
    /// Not denied; some reason contains this text.
    No(&'static str),
}

struct Case {
    name: &'static str,
    policy: Value,
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static str)],
    scp: bool,
    expect: Expect,
}

fn doc(statements: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The canonical TLS-only bucket statement (S3 user guide, "Enforce
/// encryption in transit" / aws:SecureTransport).
fn tls_statement() -> Value {
    json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, BUCKET_OBJECTS],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
    })
}

/// `base` with the fields of `patch` replaced (a `null` removes a field).
fn with(base: Value, patch: Value) -> Value {
    let (Value::Object(mut map), Value::Object(patch)) = (base, patch) else {
        panic!("with() takes two objects");
    };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(&k);
        } else {
            map.insert(k, v);
        }
    }
    Value::Object(map)
}

fn tls(patch: Value) -> Value {
    doc(json!([with(tls_statement(), patch)]))
}

/// The modern TLS 1.2 statement (re:Post "s3-enforce-modern-tls").
fn tls12(value: Value) -> Value {
    tls(json!({
        "Sid": "EnforceTLSv12orHigher",
        "Principal": { "AWS": "*" },
        "Condition": { "NumericLessThan": { "s3:TlsVersion": value } }
    }))
}

/// IAM user guide example "Denies access to AWS based on the source IP".
fn source_ip_policy() -> Value {
    doc(json!({
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "NotIpAddress": { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] },
            "Bool": { "aws:ViaAWSService": "false" }
        }
    }))
}

/// IAM user guide example "Allows MFA-authenticated IAM users to manage
/// their own credentials": the DenyAllExceptListedIfNoMFA statement.
fn mfa_policy() -> Value {
    doc(json!([{
        "Sid": "DenyAllExceptListedIfNoMFA",
        "Effect": "Deny",
        "NotAction": [
            "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
            "iam:ListMFADevices", "iam:ListVirtualMFADevices",
            "iam:ResyncMFADevice", "sts:GetSessionToken"
        ],
        "Resource": "*",
        "Condition": { "BoolIfExists": { "aws:MultiFactorAuthPresent": "false" } }
    }]))
}

/// Organizations SCP example "Deny access to AWS based on the requested
/// AWS Region".
fn region_scp() -> Value {
    doc(json!([{
        "Sid": "DenyAllOutsideEU",
        "Effect": "Deny",
        "NotAction": ["iam:*", "organizations:*", "route53:*", "support:*", "sts:*"],
        "Resource": "*",
        "Condition": {
            "StringNotEquals": { "aws:RequestedRegion": ["eu-central-1", "eu-west-1"] }
        }
    }]))
}

/// Organizations SCP example "Prevent IAM principals from making certain
/// changes" (except an admin role).
fn protected_role_scp() -> Value {
    doc(json!([{
        "Sid": "DenyAccessToASpecificRole",
        "Effect": "Deny",
        "Action": ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PutRolePolicy"],
        "Resource": ["arn:aws:iam::*:role/name-of-role-to-deny"],
        "Condition": {
            "ArnNotLike": { "aws:PrincipalARN": "arn:aws:iam::*:role/name-of-admin-role" }
        }
    }]))
}

/// S3 user guide: restrict a bucket to one VPC endpoint.
fn vpce_policy() -> Value {
    doc(json!([{
        "Sid": "Access-to-specific-VPCE-only",
        "Principal": "*",
        "Action": "s3:*",
        "Effect": "Deny",
        "Resource": [BUCKET, BUCKET_OBJECTS],
        "Condition": { "StringNotEquals": { "aws:SourceVpce": "vpce-1a2b3c4d" } }
    }]))
}

/// S3 user guide: deny uploads without SSE-KMS.
fn sse_policy() -> Value {
    doc(json!([
        {
            "Sid": "DenyIncorrectEncryptionHeader",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": BUCKET_OBJECTS,
            "Condition": {
                "StringNotEquals": { "s3:x-amz-server-side-encryption": "aws:kms" }
            }
        },
        {
            "Sid": "DenyUnencryptedObjectUploads",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": BUCKET_OBJECTS,
            "Condition": { "Null": { "s3:x-amz-server-side-encryption": "true" } }
        }
    ]))
}

/// Multivalued-key examples (aws:TagKeys) from the IAM user guide's
/// "Set operators for multivalued context keys".
fn tag_keys(operator: &str, values: Value) -> Value {
    doc(json!([{
        "Sid": "TagRule",
        "Effect": "Deny",
        "Action": ["ec2:CreateTags"],
        "Resource": "*",
        "Condition": { operator: { "aws:TagKeys": values } }
    }]))
}

/// A bucket-wide deny of everything under one condition (used for the
/// operator rows).
fn deny_all_if(operator: &str, key: &str, values: Value) -> Value {
    doc(json!([{
        "Sid": "Cond",
        "Effect": "Deny",
        "Principal": { "AWS": "*" },
        "Action": "*",
        "Resource": "*",
        "Condition": { operator: { key: values } }
    }]))
}

fn case(
    name: &'static str,
    policy: Value,
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        name,
        policy,
        action,
        resource,
        context,
        scp: false,
        expect,
    }
}

fn scp(mut c: Case) -> Case {
    c.scp = true;
    c
}

const HTTP: &[(&str, &str)] = &[("aws:SecureTransport", "false")];
const HTTPS: &[(&str, &str)] = &[("aws:SecureTransport", "true")];
const NONE: &[(&str, &str)] = &[];

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Expect::{Full, No, Partial};
    vec![
        // --- canonical TLS-only bucket policy -------------------------------
        case("tls: object read over HTTP", tls(json!({})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: bucket listing over HTTP", tls(json!({})), "s3:ListBucket", BUCKET, HTTP, Full),
        case("tls: object pattern question", tls(json!({})), "s3:GetObject", BUCKET_OBJECTS, HTTP, Full),
        case("tls: HTTPS request not denied", tls(json!({})), "s3:GetObject", OBJECT, HTTPS, No("does not match the request")),
        case("tls: empty context", tls(json!({})), "s3:GetObject", OBJECT, NONE, No("also requires aws:SecureTransport")),
        case("tls: only PutObject", tls(json!({"Action": "s3:PutObject"})), "s3:GetObject", OBJECT, HTTP, No("covers only actions s3:PutObject")),
        case("tls: only PutObject, asked PutObject", tls(json!({"Action": ["s3:PutObject"]})), "s3:PutObject", OBJECT, HTTP, Full),
        case("tls: bucket ARN only, object asked", tls(json!({"Resource": BUCKET})), "s3:GetObject", OBJECT, HTTP, No("covers only resources")),
        case("tls: objects only (CIS form), object asked", tls(json!({"Resource": BUCKET_OBJECTS})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: objects only, bucket asked", tls(json!({"Resource": BUCKET_OBJECTS})), "s3:ListBucket", BUCKET, HTTP, No("covers only resources")),
        case("tls: other bucket", tls(json!({})), "s3:GetObject", "arn:aws:s3:::other-bucket/k", HTTP, No("covers only resources")),
        case("tls: resource case-sensitive", tls(json!({})), "s3:GetObject", "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/k", HTTP, No("covers only resources")),
        case("tls: one account principal", tls(json!({"Principal": {"AWS": "arn:aws:iam::111122223333:root"}})), "s3:GetObject", OBJECT, HTTP, No("applies only to principal AWS:arn:aws:iam::111122223333:root")),
        case("tls: AWS * principal", tls(json!({"Principal": {"AWS": "*"}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: list containing *", tls(json!({"Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: service principal", tls(json!({"Principal": {"Service": "cloudtrail.amazonaws.com"}})), "s3:GetObject", OBJECT, HTTP, No("applies only to principal Service:")),
        case("tls: Service * is not everyone", tls(json!({"Principal": {"Service": "*"}})), "s3:GetObject", OBJECT, HTTP, No("applies only to principal")),
        case("tls: NotPrincipal", tls(json!({"Principal": null, "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/admin"}})), "s3:GetObject", OBJECT, HTTP, No("NotPrincipal")),
        case("tls: no Principal in a bucket policy", tls(json!({"Principal": null})), "s3:GetObject", OBJECT, HTTP, No("has no Principal element")),
        case("tls: NotAction GetObject", tls(json!({"Action": null, "NotAction": ["s3:GetObject"]})), "s3:GetObject", OBJECT, HTTP, No("via NotAction s3:GetObject")),
        case("tls: NotAction GetObject, PutObject asked", tls(json!({"Action": null, "NotAction": ["s3:GetObject"]})), "s3:PutObject", OBJECT, HTTP, Full),
        case("tls: NotAction case-insensitive", tls(json!({"Action": null, "NotAction": "S3:GETOBJECT"})), "s3:GetObject", OBJECT, HTTP, No("NotAction")),
        case("tls: action upper case", tls(json!({"Action": "S3:*"})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: action prefix wildcard", tls(json!({"Action": "s3:Get*"})), "s3:GetObjectVersion", OBJECT, HTTP, Full),
        case("tls: action ? wildcard", tls(json!({"Action": "s3:?etObject"})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: service wildcard", tls(json!({"Action": "s*:GetObject"})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: Action *", tls(json!({"Action": "*"})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: NotResource elsewhere", tls(json!({"Resource": null, "NotResource": "arn:aws:s3:::amzn-s3-demo-bucket/public/*"})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: NotResource excludes key", tls(json!({"Resource": null, "NotResource": "arn:aws:s3:::amzn-s3-demo-bucket/public/*"})), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/public/x", HTTP, No("via NotResource")),
        case("tls: NotResource overlaps pattern question", tls(json!({"Resource": null, "NotResource": "arn:aws:s3:::amzn-s3-demo-bucket/public/*"})), "s3:GetObject", BUCKET_OBJECTS, HTTP, No("via NotResource")),
        case("tls: extra PrincipalAccount condition", tls(json!({"Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "111111111111"}}})), "s3:GetObject", OBJECT, HTTP, No("also requires aws:PrincipalAccount")),
        case("tls: BoolIfExists, key given", tls(json!({"Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: BoolIfExists, key absent", tls(json!({"Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}})), "s3:GetObject", OBJECT, NONE, Partial),
        case("tls: lower-case key", tls(json!({"Condition": {"Bool": {"aws:securetransport": "false"}}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: value False", tls(json!({"Condition": {"Bool": {"aws:SecureTransport": "False"}}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: JSON false", tls(json!({"Condition": {"Bool": {"aws:SecureTransport": false}}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: [\"false\"]", tls(json!({"Condition": {"Bool": {"aws:SecureTransport": ["false"]}}})), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: context FALSE", tls(json!({})), "s3:GetObject", OBJECT, &[("AWS:SECURETRANSPORT", "FALSE")], Full),
        case("tls: Statement as object", json!({"Version": "2012-10-17", "Statement": tls_statement()}), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: policy given as string", Value::String(tls(json!({})).to_string()), "s3:GetObject", OBJECT, HTTP, Full),
        case("tls: Allow is not a deny", tls(json!({"Effect": "Allow"})), "s3:GetObject", OBJECT, HTTP, No("no Deny statement")),
        case("tls: narrow + full statements", doc(json!([with(tls_statement(), json!({"Sid": "Narrow", "Action": "s3:PutObject"})), tls_statement()])), "s3:GetObject", OBJECT, HTTP, Full),
        // --- TLS 1.2 minimum (s3:TlsVersion) ----------------------------------
        case("tls12: TLS 1.0 denied", tls12(json!(1.2)), "s3:GetObject", OBJECT, &[("s3:TlsVersion", "1.0")], Full),
        case("tls12: TLS 1.2 allowed", tls12(json!(1.2)), "s3:GetObject", OBJECT, &[("s3:TlsVersion", "1.2")], No("does not match")),
        case("tls12: string value 1.1 denied", tls12(json!("1.2")), "s3:GetObject", OBJECT, &[("s3:TlsVersion", "1.1")], Full),
        case("tls12: plaintext HTTP NOT denied (key absent)", tls12(json!(1.2)), "s3:GetObject", OBJECT, HTTP, No("also requires s3:TlsVersion")),
        case("tls12: HTTP-allowing variant", tls(json!({"Condition": {"Bool": {"aws:SecureTransport": "true"}, "NumericLessThan": {"s3:TlsVersion": "1.2"}}})), "s3:GetObject", OBJECT, &[("aws:SecureTransport", "false"), ("s3:TlsVersion", "1.0")], No("does not match")),
        // --- identity policy: source IP ---------------------------------------
        scp(case("ip: outside ranges", source_ip_policy(), "ec2:RunInstances", "*", &[("aws:SourceIp", "198.51.100.7"), ("aws:ViaAWSService", "false")], Full)),
        scp(case("ip: inside range", source_ip_policy(), "ec2:RunInstances", "*", &[("aws:SourceIp", "192.0.2.10"), ("aws:ViaAWSService", "false")], No("does not match"))),
        scp(case("ip: ViaAWSService missing", source_ip_policy(), "ec2:RunInstances", "*", &[("aws:SourceIp", "198.51.100.7")], No("also requires aws:ViaAWSService"))),
        case("ip: principal absent without SCP flag", source_ip_policy(), "ec2:RunInstances", "*", &[("aws:SourceIp", "198.51.100.7"), ("aws:ViaAWSService", "false")], No("has no Principal element")),
        // --- identity policy: MFA --------------------------------------------
        scp(case("mfa: no MFA denies s3", mfa_policy(), "s3:GetObject", OBJECT, &[("aws:MultiFactorAuthPresent", "false")], Full)),
        scp(case("mfa: MFA present", mfa_policy(), "s3:GetObject", OBJECT, &[("aws:MultiFactorAuthPresent", "true")], No("does not match"))),
        scp(case("mfa: listed action exempt", mfa_policy(), "iam:EnableMFADevice", "*", &[("aws:MultiFactorAuthPresent", "false")], No("via NotAction iam:EnableMFADevice"))),
        scp(case("mfa: key absent (IfExists)", mfa_policy(), "s3:GetObject", OBJECT, NONE, Partial)),
        // --- SCP: region lock -------------------------------------------------
        scp(case("region: us-east-1 denied", region_scp(), "ec2:RunInstances", "*", &[("aws:RequestedRegion", "us-east-1")], Full)),
        scp(case("region: eu-west-1 allowed", region_scp(), "ec2:RunInstances", "*", &[("aws:RequestedRegion", "eu-west-1")], No("does not match"))),
        scp(case("region: global service exempt", region_scp(), "iam:CreateUser", "*", &[("aws:RequestedRegion", "us-east-1")], No("NotAction iam:*"))),
        scp(case("region: key absent (negated)", region_scp(), "ec2:RunInstances", "*", NONE, Partial)),
        // --- SCP: protected role (ArnNotLike) ----------------------------------
        scp(case("role: developer denied", protected_role_scp(), "iam:DeleteRole", "arn:aws:iam::123456789012:role/name-of-role-to-deny", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/dev")], Full)),
        scp(case("role: admin exempt", protected_role_scp(), "iam:DeleteRole", "arn:aws:iam::123456789012:role/name-of-role-to-deny", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/name-of-admin-role")], No("does not match"))),
        scp(case("role: other role", protected_role_scp(), "iam:DeleteRole", "arn:aws:iam::123456789012:role/other", &[("aws:PrincipalArn", "arn:aws:iam::123456789012:role/dev")], No("covers only resources"))),
        // --- bucket: VPC endpoint, SSE ---------------------------------------
        case("vpce: other endpoint", vpce_policy(), "s3:GetObject", OBJECT, &[("aws:SourceVpce", "vpce-99999999")], Full),
        case("vpce: allowed endpoint", vpce_policy(), "s3:GetObject", OBJECT, &[("aws:SourceVpce", "vpce-1a2b3c4d")], No("does not match")),
        case("sse: AES256 header denied", sse_policy(), "s3:PutObject", OBJECT, &[("s3:x-amz-server-side-encryption", "AES256")], Full),
        case("sse: aws:kms header allowed", sse_policy(), "s3:PutObject", OBJECT, &[("s3:x-amz-server-side-encryption", "aws:kms")], No("DenyUnencryptedObjectUploads' condition Null")),
        case("sse: no header (Null true)", sse_policy(), "s3:PutObject", OBJECT, NONE, Partial),
        // --- set operators ----------------------------------------------------
        scp(case("tags: ForAnyValue hit", tag_keys("ForAnyValue:StringEquals", json!(["secret"])), "ec2:CreateTags", "*", &[("aws:TagKeys", "env"), ("aws:TagKeys", "secret")], Full)),
        scp(case("tags: ForAnyValue miss", tag_keys("ForAnyValue:StringEquals", json!(["secret"])), "ec2:CreateTags", "*", &[("aws:TagKeys", "env")], No("does not match"))),
        scp(case("tags: ForAnyValue absent", tag_keys("ForAnyValue:StringEquals", json!(["secret"])), "ec2:CreateTags", "*", NONE, No("also requires aws:TagKeys"))),
        scp(case("tags: ForAllValues all match", tag_keys("ForAllValues:StringLike", json!("Created*")), "ec2:CreateTags", "*", &[("aws:TagKeys", "CreatedBy"), ("aws:TagKeys", "CreatedAt")], Full)),
        scp(case("tags: ForAllValues one misses", tag_keys("ForAllValues:StringLike", json!("Created*")), "ec2:CreateTags", "*", &[("aws:TagKeys", "CreatedBy"), ("aws:TagKeys", "Owner")], No("does not match"))),
        scp(case("tags: ForAllValues absent is true", tag_keys("ForAllValues:StringLike", json!("Created*")), "ec2:CreateTags", "*", NONE, Partial)),
        scp(case("tags: ForAllValues:StringNotEquals", tag_keys("ForAllValues:StringNotEquals", json!(["env", "owner"])), "ec2:CreateTags", "*", &[("aws:TagKeys", "secret")], Full)),
        // --- other operators --------------------------------------------------
        case("date: after cutoff", deny_all_if("DateGreaterThan", "aws:CurrentTime", json!("2020-04-01T00:00:00Z")), "s3:GetObject", OBJECT, &[("aws:CurrentTime", "2021-01-01T00:00:00Z")], Full),
        case("date: before cutoff", deny_all_if("DateGreaterThan", "aws:CurrentTime", json!("2020-04-01T00:00:00Z")), "s3:GetObject", OBJECT, &[("aws:CurrentTime", "2019-12-31T23:59:59Z")], No("does not match")),
        case("date: epoch policy value", deny_all_if("DateLessThan", "aws:EpochTime", json!(1_600_000_000)), "s3:GetObject", OBJECT, &[("aws:EpochTime", "2019-01-01T00:00:00Z")], Full),
        case("numeric: MFA age too old", deny_all_if("NumericGreaterThan", "aws:MultiFactorAuthAge", json!("3600")), "s3:GetObject", OBJECT, &[("aws:MultiFactorAuthAge", "7200")], Full),
        case("numeric: not a number", deny_all_if("NumericGreaterThan", "aws:MultiFactorAuthAge", json!("3600")), "s3:GetObject", OBJECT, &[("aws:MultiFactorAuthAge", "old")], No("does not match")),
        case("string: OR over values", deny_all_if("StringEquals", "aws:RequestedRegion", json!(["us-east-1", "us-west-2"])), "s3:GetObject", OBJECT, &[("aws:RequestedRegion", "us-west-2")], Full),
        case("string: StringEquals case-sensitive", deny_all_if("StringEquals", "aws:RequestedRegion", json!("us-east-1")), "s3:GetObject", OBJECT, &[("aws:RequestedRegion", "US-EAST-1")], No("does not match")),
        case("string: IgnoreCase", deny_all_if("StringEqualsIgnoreCase", "aws:RequestedRegion", json!("us-east-1")), "s3:GetObject", OBJECT, &[("aws:RequestedRegion", "US-EAST-1")], Full),
        case("string: negated NOR", deny_all_if("StringNotEquals", "aws:RequestedRegion", json!(["us-east-1", "us-west-2"])), "s3:GetObject", OBJECT, &[("aws:RequestedRegion", "us-east-1")], No("does not match")),
        case("string: StringNotEqualsIgnoreCase", deny_all_if("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", json!("Audit")), "s3:GetObject", OBJECT, &[("aws:PrincipalTag/team", "dev")], Full),
        case("string: StringLike", deny_all_if("StringLike", "s3:prefix", json!("home/*")), "s3:ListBucket", BUCKET, &[("s3:prefix", "home/alice/")], Full),
        case("string: StringNotLike", deny_all_if("StringNotLike", "s3:prefix", json!("home/*")), "s3:ListBucket", BUCKET, &[("s3:prefix", "home/alice/")], No("does not match")),
        case("arn: ArnEquals with wildcard", deny_all_if("ArnEquals", "aws:SourceArn", json!("arn:aws:sns:*:123456789012:topic")), "s3:GetObject", OBJECT, &[("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic")], Full),
        case("arn: ArnLike component mismatch", deny_all_if("ArnLike", "aws:SourceArn", json!("arn:aws:sns:*:123456789012:*")), "s3:GetObject", OBJECT, &[("aws:SourceArn", "arn:aws:sqs:us-east-1:123456789012:q")], No("does not match")),
        case("ip: IPv6 IpAddress", deny_all_if("IpAddress", "aws:SourceIp", json!("2001:db8::/32")), "s3:GetObject", OBJECT, &[("aws:SourceIp", "2001:db8::42")], Full),
        case("null: false needs the key", deny_all_if("Null", "aws:TokenIssueTime", json!("false")), "s3:GetObject", OBJECT, &[("aws:TokenIssueTime", "2020-01-01T00:00:00Z")], Full),
        case("unknown operator", deny_all_if("StringSortOf", "aws:RequestedRegion", json!("x")), "s3:GetObject", OBJECT, &[("aws:RequestedRegion", "x")], No("unknown condition operator 'StringSortOf'")),
        scp(case("scp: no Resource element", doc(json!({"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})), "s3:GetObject", OBJECT, HTTP, Full)),
        case("bucket: no Resource element", doc(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})), "s3:GetObject", OBJECT, HTTP, No("has no Resource element")),
    ]
}

fn ask(c: &Case) -> DenyAnswer {
    let context = c
        .context
        .iter()
        .fold(RequestContext::new(), |ctx, (k, v)| ctx.with(k, *v));
    let mut q = Question::new(c.action, c.resource).with_request_context(context);
    if c.scp {
        q = q.for_scp();
    }
    denies(&c.policy, &q).unwrap_or_else(|e| panic!("{}: {e}", c.name))
}

fn verdict_ok(expect: &Expect, answer: &DenyAnswer) -> bool {
    match expect {
        Expect::Full => answer.is_full_deny(),
        Expect::Partial => answer.is_denied() && !answer.is_full_deny(),
        Expect::No(text) => answer.reasons().iter().any(|r| r.contains(text)),
    }
}

#[test]
fn documentation_table() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} rows", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let answer = ask(c);
            (!verdict_ok(&c.expect, &answer))
                .then(|| format!("{}: expected {:?}, got {answer:?}", c.name, c.expect))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn denied_answer_names_statements_and_extras() {
    let q = Question::new("s3:GetObject", OBJECT).for_scp();
    let answer = denies(&mfa_policy(), &q).expect("parses");
    let DenyAnswer::Denied {
        statement_sids,
        extra_conditions,
    } = answer
    else {
        panic!("expected a deny, got {answer:?}");
    };
    assert_eq!(statement_sids, ["DenyAllExceptListedIfNoMFA"]);
    assert_eq!(extra_conditions.len(), 1);
    assert_eq!(extra_conditions[0].key, "aws:MultiFactorAuthPresent");
    assert!(extra_conditions[0].to_string().contains("IfExists"));
}

#[test]
fn unnamed_statements_are_numbered() {
    let policy = doc(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}
    ]));
    let q = Question::new("s3:GetObject", OBJECT);
    let answer = denies(&policy, &q).expect("parses");
    assert_eq!(
        answer.reasons(),
        ["statement #2 covers only actions s3:PutObject"]
    );
}

#[test]
fn scp_unconditional_denies() {
    let leave_org = doc(json!({
        "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"
    }));
    let full_access = doc(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    let docs = [full_access.clone(), leave_org];
    assert!(denies_unconditionally(&docs, "organizations:LeaveOrganization").expect("ok"));
    assert!(denies_unconditionally(&docs, "Organizations:leaveorganization").expect("ok"));
    assert!(!denies_unconditionally(&docs, "organizations:CreateAccount").expect("ok"));
    assert!(
        !denies_unconditionally(&[full_access], "organizations:LeaveOrganization").expect("ok")
    );

    let wildcard = doc(json!({"Effect": "Deny", "Action": "cloudtrail:Stop*", "Resource": "*"}));
    assert!(denies_unconditionally(&[wildcard], "cloudtrail:StopLogging").expect("ok"));

    let not_action = doc(json!({"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}));
    assert!(
        denies_unconditionally(std::slice::from_ref(&not_action), "ec2:RunInstances").expect("ok")
    );
    assert!(!denies_unconditionally(&[not_action], "iam:CreateUser").expect("ok"));

    let conditional = doc(json!({
        "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*",
        "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}
    }));
    assert!(
        !denies_unconditionally(&[conditional], "organizations:LeaveOrganization").expect("ok")
    );

    let narrow_resource = doc(json!({
        "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::logs"
    }));
    assert!(!denies_unconditionally(&[narrow_resource], "s3:DeleteBucket").expect("ok"));

    let not_resource = doc(json!({
        "Effect": "Deny", "Action": "s3:DeleteBucket", "NotResource": "arn:aws:s3:::scratch"
    }));
    assert!(!denies_unconditionally(&[not_resource], "s3:DeleteBucket").expect("ok"));

    let no_resource = doc(json!({"Effect": "Deny", "Action": "s3:DeleteBucket"}));
    assert!(denies_unconditionally(&[no_resource], "s3:DeleteBucket").expect("ok"));

    let bad = json!({"Statement": 3});
    assert!(denies_unconditionally(&[bad], "s3:DeleteBucket").is_err());
}

#[test]
fn public_access() {
    // S3 user guide: "Granting read-only permission to a public anonymous user".
    let public_read = doc(json!({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": BUCKET_OBJECTS
    }));
    assert!(allows_public(&public_read, "s3:GetObject").expect("ok"));
    assert!(allows_public(&public_read, "s3:Get*").expect("ok"));
    assert!(allows_public(&public_read, "s3:*").expect("ok"));
    assert!(!allows_public(&public_read, "s3:PutObject").expect("ok"));

    // CloudTrail bucket policy: service principal with aws:SourceArn.
    let cloudtrail = doc(json!({
        "Sid": "AWSCloudTrailWrite", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": BUCKET_OBJECTS,
        "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}
    }));
    assert!(!allows_public(&cloudtrail, "s3:PutObject").expect("ok"));

    let org_only = doc(json!({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": BUCKET_OBJECTS,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    }));
    assert!(!allows_public(&org_only, "s3:GetObject").expect("ok"));

    let https_only = doc(json!({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": BUCKET_OBJECTS,
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}
    }));
    assert!(allows_public(&https_only, "s3:GetObject").expect("ok"));

    let negated = doc(json!({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}
    }));
    assert!(allows_public(&negated, "s3:GetObject").expect("ok"));

    let any_ip = doc(json!({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}
    }));
    assert!(allows_public(&any_ip, "s3:GetObject").expect("ok"));

    let office_ip = doc(json!({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
    }));
    assert!(!allows_public(&office_ip, "s3:GetObject").expect("ok"));

    let not_principal = doc(json!({
        "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject", "Resource": "*"
    }));
    assert!(allows_public(&not_principal, "s3:GetObject").expect("ok"));

    let identity = doc(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
    assert!(!allows_public(&identity, "s3:GetObject").expect("ok"));

    let not_action = doc(json!({
        "Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*", "Resource": "*"
    }));
    assert!(allows_public(&not_action, "s3:GetObject").expect("ok"));
    assert!(!allows_public(&not_action, "s3:DeleteObject").expect("ok"));
}

#[test]
fn malformed_documents_are_errors() {
    let bad: Vec<(Value, &str)> = vec![
        (json!(42), "policy document"),
        (json!("{not json"), "not valid JSON"),
        (json!("[1, 2]"), "policy document"),
        (json!({"Version": "2012-10-17"}), "missing Statement"),
        (json!({"Statement": "x"}), "invalid Statement"),
        (json!({"Statement": [1]}), "statement is not a JSON object"),
        (
            json!({"Statement": {"Action": "s3:*", "Resource": "*"}}),
            "missing Effect",
        ),
        (
            json!({"Statement": {"Effect": "deny", "Action": "s3:*"}}),
            "case-sensitive",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Resource": "*"}}),
            "missing Action",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "NotAction": "b"}}),
            "both present",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": [1]}}),
            "list items must be strings",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Principal": "arn:aws:iam::1:root"}}),
            "invalid Principal",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Principal": {"Robot": "*"}}}),
            "unknown key Robot",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Principal": "*", "NotPrincipal": "*"}}),
            "both present",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Condition": []}}),
            "invalid Condition",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Condition": {"Bool": "x"}}}),
            "invalid Condition",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Condition": {"Bool": {"k": {"x": 1}}}}}),
            "bad value",
        ),
        (
            json!({"Statement": {"Effect": "Deny", "Action": "a", "Sid": 5}}),
            "invalid Sid",
        ),
    ];
    for (value, expected) in bad {
        let err: PolicyError = parse_policy(&value).expect_err(&value.to_string());
        let text = err.to_string();
        assert!(text.contains(expected), "{value}: {text}");
        let q = Question::new("s3:GetObject", OBJECT);
        assert!(denies(&value, &q).is_err());
    }
}

#[test]
fn empty_statement_list_is_not_a_deny() {
    let q = Question::new("s3:GetObject", OBJECT).with_context("aws:SecureTransport", "false");
    let answer = denies(&json!({"Statement": []}), &q).expect("parses");
    assert!(!answer.is_denied());
    assert_eq!(answer.reasons(), ["the policy has no Deny statement"]);
}
