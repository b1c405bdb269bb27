//! EC2: the VPCs and flow logs of an account × region, whether new EBS volumes
//! are encrypted by default, and the Transit Gateways the account sees.

use aws_sdk_ec2::types::{FlowLog, Tag, TransitGateway, Vpc};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::ec2::*;

/// Collects whichever of the four calls some control needs (all independent).
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_ec2::Client::new(&ctx.config);
    futures::try_join!(
        ctx.call_if_needed(&DESCRIBE_VPCS, None, json!({}), vpcs(client)),
        ctx.call_if_needed(&DESCRIBE_FLOW_LOGS, None, json!({}), flow_logs(client)),
        ctx.call_if_needed(
            &GET_EBS_ENCRYPTION_BY_DEFAULT,
            None,
            json!({}),
            ebs_encryption_by_default(client),
        ),
        ctx.call_if_needed(
            &DESCRIBE_TRANSIT_GATEWAYS,
            None,
            json!({}),
            transit_gateways(client),
        ),
    )?;
    Ok(())
}

async fn vpcs(client: &aws_sdk_ec2::Client) -> Result<Answer, CallError> {
    paginate(
        client.describe_vpcs().into_paginator().send(),
        "Vpcs",
        |page| page.vpcs().iter().map(vpc_json).collect(),
    )
    .await
}

fn vpc_json(v: &Vpc) -> Value {
    json!({
        "VpcId": v.vpc_id(),
        "OwnerId": v.owner_id(),
        "CidrBlock": v.cidr_block(),
        "IsDefault": v.is_default(),
        "State": v.state().map(|s| s.as_str()),
        "Tags": tags_json(v.tags()),
    })
}

async fn flow_logs(client: &aws_sdk_ec2::Client) -> Result<Answer, CallError> {
    paginate(
        client.describe_flow_logs().into_paginator().send(),
        "FlowLogs",
        |page| page.flow_logs().iter().map(flow_log_json).collect(),
    )
    .await
}

fn flow_log_json(f: &FlowLog) -> Value {
    json!({
        "FlowLogId": f.flow_log_id(),
        "ResourceId": f.resource_id(),
        "FlowLogStatus": f.flow_log_status(),
        "DeliverLogsStatus": f.deliver_logs_status(),
        "DeliverLogsErrorMessage": f.deliver_logs_error_message(),
        "TrafficType": f.traffic_type().map(|t| t.as_str()),
        "LogDestinationType": f.log_destination_type().map(|t| t.as_str()),
        "LogDestination": f.log_destination(),
        "LogGroupName": f.log_group_name(),
        "DeliverCrossAccountRole": f.deliver_cross_account_role(),
        "MaxAggregationInterval": f.max_aggregation_interval(),
        "CreationTime": f.creation_time().map(rfc3339),
    })
}

async fn ebs_encryption_by_default(client: &aws_sdk_ec2::Client) -> Result<Answer, CallError> {
    let out = client.get_ebs_encryption_by_default().send().await?;
    let data = json!({
        "EbsEncryptionByDefault": out.ebs_encryption_by_default(),
        "SseType": out.sse_type().map(|t| t.as_str()),
    });
    Ok(Answer::single(data, 1, &out))
}

async fn transit_gateways(client: &aws_sdk_ec2::Client) -> Result<Answer, CallError> {
    paginate(
        client.describe_transit_gateways().into_paginator().send(),
        "TransitGateways",
        |page| {
            page.transit_gateways()
                .iter()
                .map(transit_gateway_json)
                .collect()
        },
    )
    .await
}

fn transit_gateway_json(t: &TransitGateway) -> Value {
    let options = t.options().map(|o| {
        json!({
            "AutoAcceptSharedAttachments": o.auto_accept_shared_attachments().map(|v| v.as_str()),
            "DefaultRouteTableAssociation": o.default_route_table_association().map(|v| v.as_str()),
            "DefaultRouteTablePropagation": o.default_route_table_propagation().map(|v| v.as_str()),
            "AmazonSideAsn": o.amazon_side_asn(),
        })
    });
    json!({
        "TransitGatewayId": t.transit_gateway_id(),
        "TransitGatewayArn": t.transit_gateway_arn(),
        "OwnerId": t.owner_id(),
        "State": t.state().map(|s| s.as_str()),
        "Description": t.description(),
        "CreationTime": t.creation_time().map(rfc3339),
        "Options": options,
        "Tags": tags_json(t.tags()),
    })
}

/// `[{Key, Value}]`, as the API spells tags.
fn tags_json(tags: &[Tag]) -> Value {
    tags.iter()
        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        AutoAcceptSharedAttachmentsValue, LogDestinationType, TrafficType, TransitGatewayOptions,
        TransitGatewayState,
    };

    #[test]
    fn flow_log_member_names() {
        let f = FlowLog::builder()
            .flow_log_id("fl-1")
            .resource_id("vpc-1")
            .flow_log_status("ACTIVE")
            .traffic_type(TrafficType::All)
            .log_destination_type(LogDestinationType::S3)
            .log_destination("arn:aws:s3:::acme-flow-logs/vpc/")
            .build();
        let v = flow_log_json(&f);
        assert_eq!(v["FlowLogId"], "fl-1");
        assert_eq!(v["ResourceId"], "vpc-1");
        assert_eq!(v["FlowLogStatus"], "ACTIVE");
        assert_eq!(v["TrafficType"], "ALL");
        assert_eq!(v["LogDestinationType"], "s3");
        assert_eq!(v["LogDestination"], "arn:aws:s3:::acme-flow-logs/vpc/");
        assert_eq!(v["DeliverLogsStatus"], Value::Null, "absent, not invented");
    }

    #[test]
    fn transit_gateway_options_are_kept() {
        let t = TransitGateway::builder()
            .transit_gateway_id("tgw-1")
            .owner_id("444444444444")
            .state(TransitGatewayState::Available)
            .options(
                TransitGatewayOptions::builder()
                    .auto_accept_shared_attachments(AutoAcceptSharedAttachmentsValue::Enable)
                    .build(),
            )
            .tags(Tag::builder().key("Name").value("<core>").build())
            .build();
        let v = transit_gateway_json(&t);
        assert_eq!(v["OwnerId"], "444444444444");
        assert_eq!(v["State"], "available");
        assert_eq!(v["Options"]["AutoAcceptSharedAttachments"], "enable");
        assert_eq!(v["Tags"][0]["Value"], "<core>");
    }
}
