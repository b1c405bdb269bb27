//! S3: buckets and their protection settings (log-archive immutability), and the
//! account-level Block Public Access setting (served by the `s3control` endpoint,
//! but an `s3:` IAM action, so it is listed under `s3`).
//!
//! S3 is global, but a bucket answers only in its own region (elsewhere: a 301
//! redirect). So each bucket's location is read first, from the home region, and
//! the bucket's other calls go to a client for the bucket's region.

use aws_sdk_s3::config::Region;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use aws_sdk_s3::types::{
    Bucket, LifecycleRule, LifecycleRuleFilter, ObjectLockConfiguration,
    ServerSideEncryptionConfiguration, Tag,
};
use serde_json::{json, Map, Value};

use super::rfc3339;
use crate::collection::answer::{Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::s3::*;
use auditpack_core::catalog::OperationSpec;

/// The calls made per bucket once its region is known.
const IN_BUCKET_REGION: [&OperationSpec; 6] = [
    &GET_OBJECT_LOCK,
    &GET_BUCKET_VERSIONING,
    &GET_BUCKET_PUBLIC_ACCESS_BLOCK,
    &GET_BUCKET_ENCRYPTION,
    &GET_BUCKET_POLICY,
    &GET_BUCKET_LIFECYCLE,
];

/// Collects the account-level Block Public Access setting, the bucket list and
/// each bucket's settings.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    if ctx.needs(&GET_ACCOUNT_PUBLIC_ACCESS_BLOCK) {
        let client = aws_sdk_s3control::Client::new(&ctx.config);
        let account = ctx.session.account_id.as_str();
        ctx.call(
            &GET_ACCOUNT_PUBLIC_ACCESS_BLOCK,
            None,
            json!({"AccountId": account}),
            account_pab(&client, account),
        )
        .await?;
    }
    let per_bucket =
        ctx.needs(&GET_BUCKET_LOCATION) || IN_BUCKET_REGION.iter().any(|s| ctx.needs(s));
    if !ctx.needs(&LIST_BUCKETS) && !per_bucket {
        return Ok(());
    }
    let home = s3_client(ctx, None);
    let Some(listing) = ctx
        .call(&LIST_BUCKETS, None, json!({}), list_buckets(&home))
        .await?
    else {
        return Ok(());
    };
    if !per_bucket {
        return Ok(());
    }
    let names: Vec<String> = listing["Buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["Name"].as_str().map(String::from))
        .collect();
    let home = &home;
    let calls = names.iter().map(|bucket| collect_bucket(ctx, home, bucket));
    futures::future::try_join_all(calls).await?;
    Ok(())
}

/// One bucket: its location (from the home region), then its settings from its region.
async fn collect_bucket(
    ctx: &RegionCtx<'_>,
    home: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<(), RecordError> {
    let params = json!({"Bucket": bucket});
    let location = ctx
        .call(
            &GET_BUCKET_LOCATION,
            Some(bucket),
            params,
            bucket_location(home, bucket),
        )
        .await?;
    // Without a location the calls still go out from the home region: a bucket
    // elsewhere then answers with its redirect, which is recorded as an error.
    let region = location.map(|l| bucket_region(l["LocationConstraint"].as_str()).to_string());
    let home_region = ctx.config.region().map(|r| r.as_ref());
    let local;
    let client = match region {
        Some(r) if home_region != Some(r.as_str()) => {
            local = s3_client(ctx, Some(r));
            &local
        }
        _ => home,
    };
    futures::try_join!(
        ctx.call_if_needed(
            &GET_OBJECT_LOCK,
            Some(bucket),
            json!({"Bucket": bucket}),
            object_lock(client, bucket)
        ),
        ctx.call_if_needed(
            &GET_BUCKET_VERSIONING,
            Some(bucket),
            json!({"Bucket": bucket}),
            versioning(client, bucket)
        ),
        ctx.call_if_needed(
            &GET_BUCKET_PUBLIC_ACCESS_BLOCK,
            Some(bucket),
            json!({"Bucket": bucket}),
            bucket_pab(client, bucket)
        ),
        ctx.call_if_needed(
            &GET_BUCKET_ENCRYPTION,
            Some(bucket),
            json!({"Bucket": bucket}),
            encryption(client, bucket)
        ),
        ctx.call_if_needed(
            &GET_BUCKET_POLICY,
            Some(bucket),
            json!({"Bucket": bucket}),
            policy(client, bucket)
        ),
        ctx.call_if_needed(
            &GET_BUCKET_LIFECYCLE,
            Some(bucket),
            json!({"Bucket": bucket}),
            lifecycle(client, bucket)
        ),
    )?;
    Ok(())
}

/// An S3 client for `region` (the home region when `None`).
fn s3_client(ctx: &RegionCtx<'_>, region: Option<String>) -> aws_sdk_s3::Client {
    let mut builder =
        aws_sdk_s3::config::Builder::from(&ctx.config).force_path_style(ctx.s3_path_style);
    if let Some(region) = region {
        builder = builder.region(Region::new(region));
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// The region of a bucket from its `LocationConstraint`: none (or empty) is
/// us-east-1, the legacy `EU` is eu-west-1.
fn bucket_region(constraint: Option<&str>) -> &str {
    match constraint {
        None | Some("") => "us-east-1",
        Some("EU") => "eu-west-1",
        Some(region) => region,
    }
}

async fn list_buckets(client: &aws_sdk_s3::Client) -> Result<Answer, CallError> {
    let mut answer = Answer::paginated();
    let mut buckets = Vec::new();
    let mut owner = Value::Null;
    let mut pages = client.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page?;
        answer.page(&page);
        buckets.extend(page.buckets().iter().map(bucket_json));
        if let Some(o) = page.owner() {
            owner = json!({"ID": o.id(), "DisplayName": o.display_name()});
        }
    }
    let n = buckets.len();
    Ok(answer.finish(json!({"Buckets": buckets, "Owner": owner}), n))
}

fn bucket_json(b: &Bucket) -> Value {
    json!({"Name": b.name(), "CreationDate": b.creation_date().map(rfc3339), "BucketRegion": b.bucket_region()})
}

async fn bucket_location(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client.get_bucket_location().bucket(bucket).send().await?;
    let constraint = out
        .location_constraint()
        .map(|c| c.as_str())
        .filter(|c| !c.is_empty());
    Ok(Answer::single(
        json!({"LocationConstraint": constraint}),
        1,
        &out,
    ))
}

async fn object_lock(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await?;
    let data =
        json!({"ObjectLockConfiguration": out.object_lock_configuration().map(object_lock_json)});
    Ok(Answer::single(data, 1, &out))
}

/// A default retention has either `Days` or `Years`; as in AWS's answer, the
/// other is absent (not null), so `has(r.Days)` tells which one.
fn object_lock_json(c: &ObjectLockConfiguration) -> Value {
    let rule = c.rule().map(|rule| {
        let retention = rule.default_retention().map(|r| {
            let mut m = Map::new();
            m.insert("Mode".into(), json!(r.mode().map(|m| m.as_str())));
            if let Some(days) = r.days() {
                m.insert("Days".into(), json!(days));
            }
            if let Some(years) = r.years() {
                m.insert("Years".into(), json!(years));
            }
            Value::Object(m)
        });
        json!({"DefaultRetention": retention})
    });
    // An absent rule is left out rather than null, so `has(...Rule)` is false
    // and a control fails (instead of erring) on a bucket without default retention.
    let mut out = json!({"ObjectLockEnabled": c.object_lock_enabled().map(|e| e.as_str())});
    if let Some(rule) = rule {
        out["Rule"] = rule;
    }
    out
}

async fn versioning(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client.get_bucket_versioning().bucket(bucket).send().await?;
    Ok(Answer::single(versioning_json(&out), 1, &out))
}

/// `{}` when versioning was never enabled, as AWS answers.
fn versioning_json(o: &GetBucketVersioningOutput) -> Value {
    let mut m = Map::new();
    if let Some(status) = o.status() {
        m.insert("Status".into(), json!(status.as_str()));
    }
    if let Some(mfa) = o.mfa_delete() {
        m.insert("MFADelete".into(), json!(mfa.as_str()));
    }
    Value::Object(m)
}

fn pab_json(
    block_acls: Option<bool>,
    ignore_acls: Option<bool>,
    block_policy: Option<bool>,
    restrict: Option<bool>,
) -> Value {
    json!({
        "BlockPublicAcls": block_acls,
        "IgnorePublicAcls": ignore_acls,
        "BlockPublicPolicy": block_policy,
        "RestrictPublicBuckets": restrict,
    })
}

fn bucket_pab_json(c: &aws_sdk_s3::types::PublicAccessBlockConfiguration) -> Value {
    pab_json(
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    )
}

fn account_pab_json(c: &aws_sdk_s3control::types::PublicAccessBlockConfiguration) -> Value {
    pab_json(
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    )
}

async fn bucket_pab(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await?;
    let data = json!({"PublicAccessBlockConfiguration": out.public_access_block_configuration().map(bucket_pab_json)});
    Ok(Answer::single(data, 1, &out))
}

async fn account_pab(
    client: &aws_sdk_s3control::Client,
    account_id: &str,
) -> Result<Answer, CallError> {
    let out = client
        .get_public_access_block()
        .account_id(account_id)
        .send()
        .await?;
    let data = json!({"PublicAccessBlockConfiguration": out.public_access_block_configuration().map(account_pab_json)});
    Ok(Answer::single(data, 1, &out))
}

async fn encryption(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client.get_bucket_encryption().bucket(bucket).send().await?;
    let config = out.server_side_encryption_configuration();
    let n = config.map_or(0, |c| c.rules().len());
    let data = json!({"ServerSideEncryptionConfiguration": config.map(encryption_json)});
    Ok(Answer::single(data, n, &out))
}

fn encryption_json(c: &ServerSideEncryptionConfiguration) -> Value {
    let rules: Vec<Value> = c
        .rules()
        .iter()
        .map(|r| {
            json!({
                "ApplyServerSideEncryptionByDefault": r.apply_server_side_encryption_by_default().map(|d| json!({
                    "SSEAlgorithm": d.sse_algorithm().as_str(),
                    "KMSMasterKeyID": d.kms_master_key_id(),
                })),
                "BucketKeyEnabled": r.bucket_key_enabled(),
                "BlockedEncryptionTypes": r.blocked_encryption_types().map(|b| json!({
                    "EncryptionType": b.encryption_type().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                })),
            })
        })
        .collect();
    json!({"Rules": rules})
}

async fn policy(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client.get_bucket_policy().bucket(bucket).send().await?;
    Ok(Answer::single(json!({"Policy": out.policy()}), 1, &out))
}

async fn lifecycle(client: &aws_sdk_s3::Client, bucket: &str) -> Result<Answer, CallError> {
    let out = client
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await?;
    let n = out.rules().len();
    Ok(Answer::single(lifecycle_json(&out), n, &out))
}

fn lifecycle_json(o: &GetBucketLifecycleConfigurationOutput) -> Value {
    json!({
        "Rules": o.rules().iter().map(lifecycle_rule_json).collect::<Vec<_>>(),
        "TransitionDefaultMinimumObjectSize": o.transition_default_minimum_object_size().map(|s| s.as_str()),
    })
}

fn lifecycle_rule_json(r: &LifecycleRule) -> Value {
    #[allow(deprecated)]
    let prefix = r.prefix();
    json!({
        "ID": r.id(),
        "Status": r.status().as_str(),
        "Prefix": prefix,
        "Filter": r.filter().map(lifecycle_filter_json),
        "Expiration": r.expiration().map(|e| json!({
            "Date": e.date().map(rfc3339), "Days": e.days(), "ExpiredObjectDeleteMarker": e.expired_object_delete_marker(),
        })),
        "Transitions": r.transitions().iter().map(|t| json!({
            "Date": t.date().map(rfc3339), "Days": t.days(), "StorageClass": t.storage_class().map(|s| s.as_str()),
        })).collect::<Vec<_>>(),
        "NoncurrentVersionExpiration": r.noncurrent_version_expiration().map(|e| json!({
            "NoncurrentDays": e.noncurrent_days(), "NewerNoncurrentVersions": e.newer_noncurrent_versions(),
        })),
        "NoncurrentVersionTransitions": r.noncurrent_version_transitions().iter().map(|t| json!({
            "NoncurrentDays": t.noncurrent_days(),
            "NewerNoncurrentVersions": t.newer_noncurrent_versions(),
            "StorageClass": t.storage_class().map(|s| s.as_str()),
        })).collect::<Vec<_>>(),
        "AbortIncompleteMultipartUpload": r.abort_incomplete_multipart_upload().map(|a| json!({
            "DaysAfterInitiation": a.days_after_initiation(),
        })),
    })
}

fn tag_json(t: &Tag) -> Value {
    json!({"Key": t.key(), "Value": t.value()})
}

fn lifecycle_filter_json(f: &LifecycleRuleFilter) -> Value {
    json!({
        "Prefix": f.prefix(),
        "Tag": f.tag().map(tag_json),
        "ObjectSizeGreaterThan": f.object_size_greater_than(),
        "ObjectSizeLessThan": f.object_size_less_than(),
        "And": f.and().map(|a| json!({
            "Prefix": a.prefix(),
            "Tags": a.tags().iter().map(tag_json).collect::<Vec<_>>(),
            "ObjectSizeGreaterThan": a.object_size_greater_than(),
            "ObjectSizeLessThan": a.object_size_less_than(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{
        BucketVersioningStatus, DefaultRetention, ExpirationStatus, LifecycleExpiration,
        ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionRule,
    };

    #[test]
    fn location_constraint_to_region() {
        assert_eq!(bucket_region(None), "us-east-1");
        assert_eq!(bucket_region(Some("")), "us-east-1");
        assert_eq!(bucket_region(Some("EU")), "eu-west-1");
        assert_eq!(bucket_region(Some("eu-central-1")), "eu-central-1");
    }

    #[test]
    fn bucket_uses_list_buckets_member_names() {
        let b = Bucket::builder()
            .name("acme-logs")
            .creation_date(aws_smithy_types::DateTime::from_secs(0))
            .build();
        let v = bucket_json(&b);
        assert_eq!(v["Name"], "acme-logs");
        assert_eq!(v["CreationDate"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn object_lock_compliance_retention() {
        let c = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .rule(
                ObjectLockRule::builder()
                    .default_retention(
                        DefaultRetention::builder()
                            .mode(ObjectLockRetentionMode::Compliance)
                            .days(2555)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let v = json!({"ObjectLockConfiguration": object_lock_json(&c)});
        assert_eq!(v["ObjectLockConfiguration"]["ObjectLockEnabled"], "Enabled");
        assert_eq!(
            v["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"],
            "COMPLIANCE"
        );
        assert_eq!(
            v["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"],
            2555
        );
        assert!(v["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
            .get("Years")
            .is_none());
    }

    #[test]
    fn object_lock_without_default_retention() {
        let c = ObjectLockConfiguration::builder()
            .object_lock_enabled(ObjectLockEnabled::Enabled)
            .build();
        let v = object_lock_json(&c);
        assert_eq!(v["ObjectLockEnabled"], "Enabled");
        assert!(v.get("Rule").is_none());
    }

    #[test]
    fn versioning_is_empty_when_never_enabled() {
        assert_eq!(
            versioning_json(&GetBucketVersioningOutput::builder().build()),
            json!({})
        );
        let on = GetBucketVersioningOutput::builder()
            .status(BucketVersioningStatus::Enabled)
            .build();
        assert_eq!(versioning_json(&on), json!({"Status": "Enabled"}));
    }

    #[test]
    fn public_access_block_member_names() {
        let c = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(false)
            .build();
        let v = bucket_pab_json(&c);
        assert_eq!(v["BlockPublicAcls"], true);
        assert_eq!(v["IgnorePublicAcls"], true);
        assert_eq!(v["BlockPublicPolicy"], false);
        assert_eq!(v["RestrictPublicBuckets"], Value::Null);
        let c = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        let v = json!({"PublicAccessBlockConfiguration": account_pab_json(&c)});
        for setting in [
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(
                v["PublicAccessBlockConfiguration"][setting], true,
                "{setting}"
            );
        }
    }

    #[test]
    fn encryption_member_names() {
        let c = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::AwsKms)
                            .kms_master_key_id("arn:aws:kms:us-east-1:1:key/k")
                            .build()
                            .unwrap(),
                    )
                    .bucket_key_enabled(true)
                    .build(),
            )
            .build()
            .unwrap();
        let v = encryption_json(&c);
        let default = &v["Rules"][0]["ApplyServerSideEncryptionByDefault"];
        assert_eq!(default["SSEAlgorithm"], "aws:kms");
        assert_eq!(default["KMSMasterKeyID"], "arn:aws:kms:us-east-1:1:key/k");
        assert_eq!(v["Rules"][0]["BucketKeyEnabled"], true);
    }

    #[test]
    fn lifecycle_member_names() {
        let rule = LifecycleRule::builder()
            .id("expire")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("AWSLogs/").build())
            .expiration(LifecycleExpiration::builder().days(2555).build())
            .build()
            .unwrap();
        let out = GetBucketLifecycleConfigurationOutput::builder()
            .rules(rule)
            .build();
        let v = lifecycle_json(&out);
        let r = &v["Rules"][0];
        assert_eq!(r["ID"], "expire");
        assert_eq!(r["Status"], "Enabled");
        assert_eq!(r["Filter"]["Prefix"], "AWSLogs/");
        assert_eq!(r["Expiration"]["Days"], 2555);
        assert_eq!(r["Transitions"], json!([]));
        assert_eq!(r["NoncurrentVersionExpiration"], Value::Null);
    }
}
