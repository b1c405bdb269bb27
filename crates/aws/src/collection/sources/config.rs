//! AWS Config: recorders, their status, delivery channels and aggregators.
//!
//! Config's API names the members of recorders, their status and delivery
//! channels in lowerCamel (`recordingGroup.allSupported`) and everything else in
//! PascalCase; evidence keeps both as the API reference spells them.

use aws_sdk_config::types::{
    ConfigurationAggregator, ConfigurationRecorder, ConfigurationRecorderStatus, DeliveryChannel,
    RecordingGroup, RecordingMode,
};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::config::*;

/// Collects what the controls need of Config in this region.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_config::Client::new(&ctx.config);
    // Independent calls: made concurrently (the account's limit still applies).
    futures::try_join!(
        ctx.call_if_needed(&DESCRIBE_RECORDERS, None, json!({}), recorders(client)),
        ctx.call_if_needed(
            &DESCRIBE_RECORDER_STATUS,
            None,
            json!({}),
            recorder_status(client)
        ),
        ctx.call_if_needed(
            &DESCRIBE_DELIVERY_CHANNELS,
            None,
            json!({}),
            delivery_channels(client)
        ),
        ctx.call_if_needed(&DESCRIBE_AGGREGATORS, None, json!({}), aggregators(client)),
    )?;
    Ok(())
}

async fn recorders(client: &aws_sdk_config::Client) -> Result<Answer, CallError> {
    let out = client.describe_configuration_recorders().send().await?;
    let items: Vec<Value> = out
        .configuration_recorders()
        .iter()
        .map(recorder_json)
        .collect();
    let n = items.len();
    Ok(Answer::single(
        json!({"ConfigurationRecorders": items}),
        n,
        &out,
    ))
}

fn recorder_json(r: &ConfigurationRecorder) -> Value {
    json!({
        "arn": r.arn(),
        "name": r.name(),
        "roleARN": r.role_arn(),
        "recordingGroup": r.recording_group().map(recording_group_json),
        "recordingMode": r.recording_mode().map(recording_mode_json),
        "recordingScope": r.recording_scope().map(|s| s.as_str()),
        "servicePrincipal": r.service_principal(),
    })
}

fn resource_types(types: &[aws_sdk_config::types::ResourceType]) -> Vec<&str> {
    types.iter().map(|t| t.as_str()).collect()
}

fn recording_group_json(g: &RecordingGroup) -> Value {
    json!({
        "allSupported": g.all_supported(),
        "includeGlobalResourceTypes": g.include_global_resource_types(),
        "resourceTypes": resource_types(g.resource_types()),
        "exclusionByResourceTypes": g.exclusion_by_resource_types().map(|e| json!({"resourceTypes": resource_types(e.resource_types())})),
        "recordingStrategy": g.recording_strategy().map(|s| json!({"useOnly": s.use_only().map(|u| u.as_str())})),
    })
}

fn recording_mode_json(m: &RecordingMode) -> Value {
    json!({
        "recordingFrequency": m.recording_frequency().as_str(),
        "recordingModeOverrides": m.recording_mode_overrides().iter().map(|o| json!({
            "description": o.description(),
            "resourceTypes": resource_types(o.resource_types()),
            "recordingFrequency": o.recording_frequency().as_str(),
        })).collect::<Vec<_>>(),
    })
}

async fn recorder_status(client: &aws_sdk_config::Client) -> Result<Answer, CallError> {
    let out = client
        .describe_configuration_recorder_status()
        .send()
        .await?;
    let items: Vec<Value> = out
        .configuration_recorders_status()
        .iter()
        .map(recorder_status_json)
        .collect();
    let n = items.len();
    Ok(Answer::single(
        json!({"ConfigurationRecordersStatus": items}),
        n,
        &out,
    ))
}

fn recorder_status_json(s: &ConfigurationRecorderStatus) -> Value {
    json!({
        "arn": s.arn(),
        "name": s.name(),
        "recording": s.recording(),
        "lastStatus": s.last_status().map(|l| l.as_str()),
        "lastStartTime": s.last_start_time().map(rfc3339),
        "lastStopTime": s.last_stop_time().map(rfc3339),
        "lastErrorCode": s.last_error_code(),
        "lastErrorMessage": s.last_error_message(),
        "lastStatusChangeTime": s.last_status_change_time().map(rfc3339),
        "servicePrincipal": s.service_principal(),
    })
}

async fn delivery_channels(client: &aws_sdk_config::Client) -> Result<Answer, CallError> {
    let out = client.describe_delivery_channels().send().await?;
    let items: Vec<Value> = out
        .delivery_channels()
        .iter()
        .map(delivery_channel_json)
        .collect();
    let n = items.len();
    Ok(Answer::single(json!({"DeliveryChannels": items}), n, &out))
}

fn delivery_channel_json(c: &DeliveryChannel) -> Value {
    json!({
        "name": c.name(),
        "s3BucketName": c.s3_bucket_name(),
        "s3KeyPrefix": c.s3_key_prefix(),
        "s3KmsKeyArn": c.s3_kms_key_arn(),
        "snsTopicARN": c.sns_topic_arn(),
        "configSnapshotDeliveryProperties": c.config_snapshot_delivery_properties().map(|p| json!({
            "deliveryFrequency": p.delivery_frequency().map(|f| f.as_str()),
        })),
    })
}

async fn aggregators(client: &aws_sdk_config::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .describe_configuration_aggregators()
            .into_paginator()
            .send(),
        "ConfigurationAggregators",
        |page| {
            page.configuration_aggregators()
                .iter()
                .map(aggregator_json)
                .collect()
        },
    )
    .await
}

fn aggregator_json(a: &ConfigurationAggregator) -> Value {
    json!({
        "ConfigurationAggregatorName": a.configuration_aggregator_name(),
        "ConfigurationAggregatorArn": a.configuration_aggregator_arn(),
        "OrganizationAggregationSource": a.organization_aggregation_source().map(|o| json!({
            "RoleArn": o.role_arn(),
            "AwsRegions": o.aws_regions(),
            "AllAwsRegions": o.all_aws_regions(),
        })),
        "AccountAggregationSources": a.account_aggregation_sources().iter().map(|s| json!({
            "AccountIds": s.account_ids(),
            "AwsRegions": s.aws_regions(),
            "AllAwsRegions": s.all_aws_regions(),
        })).collect::<Vec<_>>(),
        "CreationTime": a.creation_time().map(rfc3339),
        "LastUpdatedTime": a.last_updated_time().map(rfc3339),
        "CreatedBy": a.created_by(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::types::{
        AccountAggregationSource, ConfigSnapshotDeliveryProperties, MaximumExecutionFrequency,
        OrganizationAggregationSource, RecorderStatus, RecordingFrequency, ResourceType,
    };
    use aws_smithy_types::DateTime;

    #[test]
    fn recorder_uses_lower_camel_names() {
        let r = ConfigurationRecorder::builder()
            .name("default")
            .role_arn("arn:aws:iam::1:role/config")
            .recording_group(
                RecordingGroup::builder()
                    .all_supported(true)
                    .include_global_resource_types(true)
                    .resource_types(ResourceType::Bucket)
                    .build(),
            )
            .recording_mode(
                RecordingMode::builder()
                    .recording_frequency(RecordingFrequency::Continuous)
                    .build()
                    .unwrap(),
            )
            .build();
        let v = json!({"ConfigurationRecorders": [recorder_json(&r)]});
        let r = &v["ConfigurationRecorders"][0];
        assert_eq!(r["name"], "default");
        assert_eq!(r["roleARN"], "arn:aws:iam::1:role/config");
        assert_eq!(r["recordingGroup"]["allSupported"], true);
        assert_eq!(r["recordingGroup"]["includeGlobalResourceTypes"], true);
        assert_eq!(
            r["recordingGroup"]["resourceTypes"],
            json!(["AWS::S3::Bucket"])
        );
        assert_eq!(r["recordingMode"]["recordingFrequency"], "CONTINUOUS");
    }

    #[test]
    fn recorder_status_uses_lower_camel_names() {
        let s = ConfigurationRecorderStatus::builder()
            .name("default")
            .recording(true)
            .last_status(RecorderStatus::Success)
            .last_start_time(DateTime::from_secs(1_767_225_600))
            .build();
        let v = recorder_status_json(&s);
        assert_eq!(v["name"], "default");
        assert_eq!(v["recording"], true);
        // AWS spells the status "Success" (docs/evidence-sources.md says "SUCCESS").
        assert_eq!(v["lastStatus"], "Success");
        assert_eq!(v["lastStartTime"], "2026-01-01T00:00:00Z");
        assert_eq!(v["lastErrorCode"], Value::Null);
    }

    #[test]
    fn delivery_channel_uses_lower_camel_names() {
        let c = DeliveryChannel::builder()
            .name("default")
            .s3_bucket_name("acme-config")
            .sns_topic_arn("arn:aws:sns:us-east-1:1:config")
            .config_snapshot_delivery_properties(
                ConfigSnapshotDeliveryProperties::builder()
                    .delivery_frequency(MaximumExecutionFrequency::TwentyFourHours)
                    .build(),
            )
            .build();
        let v = delivery_channel_json(&c);
        assert_eq!(v["s3BucketName"], "acme-config");
        assert_eq!(v["snsTopicARN"], "arn:aws:sns:us-east-1:1:config");
        assert_eq!(
            v["configSnapshotDeliveryProperties"]["deliveryFrequency"],
            "TwentyFour_Hours"
        );
        assert_eq!(v["s3KeyPrefix"], Value::Null);
    }

    #[test]
    fn aggregator_uses_pascal_names() {
        let a = ConfigurationAggregator::builder()
            .configuration_aggregator_name("org")
            .organization_aggregation_source(
                OrganizationAggregationSource::builder()
                    .role_arn("arn:aws:iam::1:role/agg")
                    .all_aws_regions(true)
                    .build()
                    .unwrap(),
            )
            .account_aggregation_sources(
                AccountAggregationSource::builder()
                    .account_ids("1")
                    .build()
                    .unwrap(),
            )
            .build();
        let v = aggregator_json(&a);
        assert_eq!(v["ConfigurationAggregatorName"], "org");
        assert_eq!(
            v["OrganizationAggregationSource"]["RoleArn"],
            "arn:aws:iam::1:role/agg"
        );
        assert_eq!(v["OrganizationAggregationSource"]["AllAwsRegions"], true);
        assert_eq!(v["OrganizationAggregationSource"]["AwsRegions"], json!([]));
        assert_eq!(
            v["AccountAggregationSources"][0]["AccountIds"],
            json!(["1"])
        );
    }
}
