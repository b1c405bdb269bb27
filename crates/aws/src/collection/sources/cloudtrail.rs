//! CloudTrail: trails (including shadow copies of organization trails), their
//! status and event selectors, and the event history's lookups (`lookup`).
//!
//! `DescribeTrails` runs in every region with `includeShadowTrails`, so a region's
//! answer also lists multi-region and organization trails homed elsewhere. Status
//! and selectors are read once per trail: in the trail's home region and in the
//! account that owns it (a member account cannot read the management account's
//! organization trail, and reading a multi-region trail in every region would
//! only repeat the same answer).

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, EventSelector, Trail,
};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::cloudtrail::*;

mod lookup;

/// Collects the trails and the event-history lookups (independent).
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    futures::try_join!(collect_trails(ctx), lookup::collect(ctx))?;
    Ok(())
}

/// Collects the trails of this region, then the status and selectors of the
/// trails this account owns and that are homed in this region.
async fn collect_trails(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    if ![&DESCRIBE_TRAILS, &GET_TRAIL_STATUS, &GET_EVENT_SELECTORS]
        .iter()
        .any(|s| ctx.needs(s))
    {
        return Ok(());
    }
    let client = aws_sdk_cloudtrail::Client::new(&ctx.config);
    let Some(listing) = ctx
        .call(
            &DESCRIBE_TRAILS,
            None,
            json!({"includeShadowTrails": true}),
            describe_trails(&client),
        )
        .await?
    else {
        return Ok(());
    };
    let Some(region) = ctx
        .region
        .map(String::from)
        .or_else(|| ctx.config.region().map(|r| r.to_string()))
    else {
        return Ok(());
    };
    let arns = owned_trails_homed_in(&listing, &region, &ctx.session.account_id);
    let client = &client;
    let calls = arns.iter().map(|arn| async move {
        ctx.call_if_needed(
            &GET_TRAIL_STATUS,
            Some(arn),
            json!({"Name": arn}),
            trail_status(client, arn),
        )
        .await?;
        ctx.call_if_needed(
            &GET_EVENT_SELECTORS,
            Some(arn),
            json!({"TrailName": arn}),
            event_selectors(client, arn),
        )
        .await?;
        Ok::<_, RecordError>(())
    });
    futures::future::try_join_all(calls).await?;
    Ok(())
}

/// ARNs of the trails in a `DescribeTrails` answer whose home region is `region`
/// and whose ARN names `account_id` as owner.
fn owned_trails_homed_in(listing: &Value, region: &str, account_id: &str) -> Vec<String> {
    listing["trailList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["HomeRegion"].as_str() == Some(region))
        .filter_map(|t| t["TrailARN"].as_str())
        .filter(|arn| arn.split(':').nth(4) == Some(account_id))
        .map(String::from)
        .collect()
}

async fn describe_trails(client: &aws_sdk_cloudtrail::Client) -> Result<Answer, CallError> {
    let out = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await?;
    let trails: Vec<Value> = out.trail_list().iter().map(trail_json).collect();
    let n = trails.len();
    Ok(Answer::single(json!({"trailList": trails}), n, &out))
}

fn trail_json(t: &Trail) -> Value {
    let mut v = json!({
        "Name": t.name(),
        "TrailARN": t.trail_arn(),
        "HomeRegion": t.home_region(),
        "S3BucketName": t.s3_bucket_name(),
        "S3KeyPrefix": t.s3_key_prefix(),
        "SnsTopicARN": t.sns_topic_arn(),
        "IncludeGlobalServiceEvents": t.include_global_service_events(),
        "IsMultiRegionTrail": t.is_multi_region_trail(),
        "IsOrganizationTrail": t.is_organization_trail(),
        "LogFileValidationEnabled": t.log_file_validation_enabled(),
        "KmsKeyId": t.kms_key_id(),
        "HasCustomEventSelectors": t.has_custom_event_selectors(),
        "HasInsightSelectors": t.has_insight_selectors(),
        "CloudWatchLogsLogGroupArn": t.cloud_watch_logs_log_group_arn(),
        "CloudWatchLogsRoleArn": t.cloud_watch_logs_role_arn(),
    });
    // As in AWS's answer, `KmsKeyId` is absent (not null) when the trail is not
    // encrypted, so `has(trail.KmsKeyId)` means "encrypted with KMS".
    if t.kms_key_id().is_none() {
        if let Some(map) = v.as_object_mut() {
            map.remove("KmsKeyId");
        }
    }
    v
}

async fn trail_status(client: &aws_sdk_cloudtrail::Client, arn: &str) -> Result<Answer, CallError> {
    let out = client.get_trail_status().name(arn).send().await?;
    Ok(Answer::single(trail_status_json(&out), 1, &out))
}

fn trail_status_json(s: &GetTrailStatusOutput) -> Value {
    json!({
        "IsLogging": s.is_logging(),
        "LatestDeliveryTime": s.latest_delivery_time().map(rfc3339),
        "LatestDeliveryError": s.latest_delivery_error(),
        "StartLoggingTime": s.start_logging_time().map(rfc3339),
        "StopLoggingTime": s.stop_logging_time().map(rfc3339),
        "LatestNotificationTime": s.latest_notification_time().map(rfc3339),
        "LatestNotificationError": s.latest_notification_error(),
        "LatestCloudWatchLogsDeliveryTime": s.latest_cloud_watch_logs_delivery_time().map(rfc3339),
        "LatestCloudWatchLogsDeliveryError": s.latest_cloud_watch_logs_delivery_error(),
        "LatestDigestDeliveryTime": s.latest_digest_delivery_time().map(rfc3339),
        "LatestDigestDeliveryError": s.latest_digest_delivery_error(),
    })
}

async fn event_selectors(
    client: &aws_sdk_cloudtrail::Client,
    arn: &str,
) -> Result<Answer, CallError> {
    let out = client.get_event_selectors().trail_name(arn).send().await?;
    let n = out.event_selectors().len() + out.advanced_event_selectors().len();
    Ok(Answer::single(event_selectors_json(&out), n, &out))
}

/// A trail uses either basic or advanced event selectors; as in AWS's answer,
/// only the list the trail uses is present.
fn event_selectors_json(o: &GetEventSelectorsOutput) -> Value {
    let mut v = json!({"TrailARN": o.trail_arn()});
    let map = v.as_object_mut().expect("an object");
    if let Some(selectors) = o.event_selectors.as_deref() {
        map.insert(
            "EventSelectors".into(),
            selectors.iter().map(event_selector_json).collect(),
        );
    }
    if let Some(selectors) = o.advanced_event_selectors.as_deref() {
        map.insert(
            "AdvancedEventSelectors".into(),
            selectors.iter().map(advanced_selector_json).collect(),
        );
    }
    v
}

fn event_selector_json(s: &EventSelector) -> Value {
    json!({
        "ReadWriteType": s.read_write_type().map(|t| t.as_str()),
        "IncludeManagementEvents": s.include_management_events(),
        "DataResources": s.data_resources().iter().map(|d| json!({"Type": d.r#type(), "Values": d.values()})).collect::<Vec<_>>(),
        "ExcludeManagementEventSources": s.exclude_management_event_sources(),
    })
}

fn advanced_selector_json(s: &AdvancedEventSelector) -> Value {
    json!({"Name": s.name(), "FieldSelectors": s.field_selectors().iter().map(field_selector_json).collect::<Vec<_>>()})
}

/// Operators the selector does not use are empty lists, so `'Management' in f.Equals` needs no guard.
fn field_selector_json(f: &AdvancedFieldSelector) -> Value {
    json!({
        "Field": f.field(),
        "Equals": f.equals(),
        "StartsWith": f.starts_with(),
        "EndsWith": f.ends_with(),
        "NotEquals": f.not_equals(),
        "NotStartsWith": f.not_starts_with(),
        "NotEndsWith": f.not_ends_with(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::{DataResource, ReadWriteType};
    use aws_smithy_types::DateTime;

    const ORG_TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org";

    #[test]
    fn trail_uses_describe_trails_member_names() {
        let t = Trail::builder()
            .name("org")
            .trail_arn(ORG_TRAIL)
            .home_region("us-east-1")
            .s3_bucket_name("logs")
            .is_organization_trail(true)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .log_file_validation_enabled(true)
            .kms_key_id("arn:aws:kms:us-east-1:222222222222:key/k")
            .build();
        let v = trail_json(&t);
        assert_eq!(v["Name"], "org");
        assert_eq!(v["TrailARN"], ORG_TRAIL);
        assert_eq!(v["HomeRegion"], "us-east-1");
        assert_eq!(v["S3BucketName"], "logs");
        assert_eq!(v["IsOrganizationTrail"], true);
        assert_eq!(v["IsMultiRegionTrail"], true);
        assert_eq!(v["IncludeGlobalServiceEvents"], true);
        assert_eq!(v["LogFileValidationEnabled"], true);
        assert_eq!(v["KmsKeyId"], "arn:aws:kms:us-east-1:222222222222:key/k");
        assert_eq!(
            v["S3KeyPrefix"],
            Value::Null,
            "missing members are null, not invented"
        );
    }

    #[test]
    fn unencrypted_trail_has_no_kms_key_id() {
        let v = trail_json(&Trail::builder().name("t").build());
        assert!(v.get("KmsKeyId").is_none());
        assert_eq!(v["IsOrganizationTrail"], Value::Null);
    }

    #[test]
    fn only_trails_homed_here_and_owned_by_the_account_are_followed() {
        let listing = json!({"trailList": [
            {"TrailARN": ORG_TRAIL, "HomeRegion": "us-east-1"},
            {"TrailARN": "arn:aws:cloudtrail:us-east-1:333333333333:trail/org-shadow", "HomeRegion": "us-east-1"},
            {"TrailARN": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/eu", "HomeRegion": "eu-west-1"},
        ]});
        assert_eq!(
            owned_trails_homed_in(&listing, "us-east-1", "111111111111"),
            vec![ORG_TRAIL.to_string()]
        );
        assert!(owned_trails_homed_in(&listing, "us-east-1", "444444444444").is_empty());
        assert!(owned_trails_homed_in(&json!({}), "us-east-1", "111111111111").is_empty());
    }

    #[test]
    fn trail_status_uses_get_trail_status_member_names() {
        let out = GetTrailStatusOutput::builder()
            .is_logging(true)
            .latest_delivery_time(DateTime::from_secs(1_767_225_600))
            .build();
        let v = trail_status_json(&out);
        assert_eq!(v["IsLogging"], true);
        assert_eq!(v["LatestDeliveryTime"], "2026-01-01T00:00:00Z");
        assert_eq!(v["LatestDeliveryError"], Value::Null);
        assert_eq!(v["StopLoggingTime"], Value::Null);
    }

    #[test]
    fn basic_event_selectors() {
        let selector = EventSelector::builder()
            .read_write_type(ReadWriteType::All)
            .include_management_events(true)
            .data_resources(
                DataResource::builder()
                    .r#type("AWS::S3::Object")
                    .values("arn:aws:s3")
                    .build(),
            )
            .build();
        let out = GetEventSelectorsOutput::builder()
            .trail_arn(ORG_TRAIL)
            .event_selectors(selector)
            .build();
        let v = event_selectors_json(&out);
        assert_eq!(v["TrailARN"], ORG_TRAIL);
        assert_eq!(v["EventSelectors"][0]["ReadWriteType"], "All");
        assert_eq!(v["EventSelectors"][0]["IncludeManagementEvents"], true);
        assert_eq!(
            v["EventSelectors"][0]["DataResources"][0]["Type"],
            "AWS::S3::Object"
        );
        assert_eq!(
            v["EventSelectors"][0]["DataResources"][0]["Values"],
            json!(["arn:aws:s3"])
        );
        assert_eq!(
            v["EventSelectors"][0]["ExcludeManagementEventSources"],
            json!([])
        );
        assert!(v.get("AdvancedEventSelectors").is_none());
    }

    #[test]
    fn advanced_event_selectors() {
        let field = AdvancedFieldSelector::builder()
            .field("eventCategory")
            .equals("Management")
            .build()
            .unwrap();
        let selector = AdvancedEventSelector::builder()
            .name("management")
            .field_selectors(field)
            .build()
            .unwrap();
        let out = GetEventSelectorsOutput::builder()
            .trail_arn(ORG_TRAIL)
            .advanced_event_selectors(selector)
            .build();
        let v = event_selectors_json(&out);
        let f = &v["AdvancedEventSelectors"][0]["FieldSelectors"][0];
        assert_eq!(v["AdvancedEventSelectors"][0]["Name"], "management");
        assert_eq!(f["Field"], "eventCategory");
        assert_eq!(f["Equals"], json!(["Management"]));
        for op in [
            "StartsWith",
            "EndsWith",
            "NotEquals",
            "NotStartsWith",
            "NotEndsWith",
        ] {
            assert_eq!(f[op], json!([]), "{op}");
        }
        assert!(v.get("EventSelectors").is_none());
    }
}
