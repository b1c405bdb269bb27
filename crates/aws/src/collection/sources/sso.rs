//! IAM Identity Center (sso-admin): the instances an account sees in a region.

use aws_sdk_ssoadmin::types::InstanceMetadata;
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::sso::*;

/// Collects the instance list.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_ssoadmin::Client::new(&ctx.config);
    ctx.call_if_needed(&LIST_INSTANCES, None, json!({}), instances(client))
        .await
}

async fn instances(client: &aws_sdk_ssoadmin::Client) -> Result<Answer, CallError> {
    paginate(
        client.list_instances().into_paginator().send(),
        "Instances",
        |page| page.instances().iter().map(instance_json).collect(),
    )
    .await
}

fn instance_json(i: &InstanceMetadata) -> Value {
    json!({
        "InstanceArn": i.instance_arn(),
        "IdentityStoreId": i.identity_store_id(),
        "OwnerAccountId": i.owner_account_id(),
        "Name": i.name(),
        "Status": i.status().map(|v| v.as_str()),
        "CreatedDate": i.created_date().map(rfc3339),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssoadmin::types::InstanceStatus;

    #[test]
    fn instance_member_names() {
        let i = InstanceMetadata::builder()
            .instance_arn("arn:aws:sso:::instance/ssoins-1")
            .owner_account_id("111111111111")
            .status(InstanceStatus::Active)
            .build();
        let v = instance_json(&i);
        assert_eq!(v["InstanceArn"], "arn:aws:sso:::instance/ssoins-1");
        assert_eq!(v["OwnerAccountId"], "111111111111");
        assert_eq!(v["Status"], "ACTIVE");
    }
}
