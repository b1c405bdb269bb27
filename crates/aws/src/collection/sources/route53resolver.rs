//! Route 53 Resolver: the query-logging configurations an account sees (its own
//! and those shared with it) and which VPCs are associated with them.

use aws_sdk_route53resolver::types::{ResolverQueryLogConfig, ResolverQueryLogConfigAssociation};
use serde_json::{json, Value};

use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::route53resolver::*;

/// Collects the configurations and the associations (independent calls).
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_route53resolver::Client::new(&ctx.config);
    futures::try_join!(
        ctx.call_if_needed(&LIST_QUERY_LOG_CONFIGS, None, json!({}), configs(client)),
        ctx.call_if_needed(
            &LIST_QUERY_LOG_CONFIG_ASSOCIATIONS,
            None,
            json!({}),
            associations(client),
        ),
    )?;
    Ok(())
}

async fn configs(client: &aws_sdk_route53resolver::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .list_resolver_query_log_configs()
            .into_paginator()
            .send(),
        "ResolverQueryLogConfigs",
        |page| {
            page.resolver_query_log_configs()
                .iter()
                .map(config_json)
                .collect()
        },
    )
    .await
}

fn config_json(c: &ResolverQueryLogConfig) -> Value {
    json!({
        "Id": c.id(),
        "Arn": c.arn(),
        "Name": c.name(),
        "OwnerId": c.owner_id(),
        "Status": c.status().map(|v| v.as_str()),
        "ShareStatus": c.share_status().map(|v| v.as_str()),
        "AssociationCount": c.association_count(),
        "DestinationArn": c.destination_arn(),
        "CreationTime": c.creation_time(),
    })
}

async fn associations(client: &aws_sdk_route53resolver::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .list_resolver_query_log_config_associations()
            .into_paginator()
            .send(),
        "ResolverQueryLogConfigAssociations",
        |page| {
            page.resolver_query_log_config_associations()
                .iter()
                .map(association_json)
                .collect()
        },
    )
    .await
}

fn association_json(a: &ResolverQueryLogConfigAssociation) -> Value {
    json!({
        "Id": a.id(),
        "ResolverQueryLogConfigId": a.resolver_query_log_config_id(),
        "ResourceId": a.resource_id(),
        "Status": a.status().map(|v| v.as_str()),
        "Error": a.error().map(|v| v.as_str()),
        "ErrorMessage": a.error_message(),
        "CreationTime": a.creation_time(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53resolver::types::ResolverQueryLogConfigAssociationStatus;

    #[test]
    fn association_member_names() {
        let a = ResolverQueryLogConfigAssociation::builder()
            .resolver_query_log_config_id("rqlc-1")
            .resource_id("vpc-1")
            .status(ResolverQueryLogConfigAssociationStatus::Active)
            .build();
        let v = association_json(&a);
        assert_eq!(v["ResolverQueryLogConfigId"], "rqlc-1");
        assert_eq!(v["ResourceId"], "vpc-1");
        assert_eq!(v["Status"], "ACTIVE");
    }
}
