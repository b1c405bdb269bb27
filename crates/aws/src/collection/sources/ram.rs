//! RAM: the resource shares an account owns and every principal they are
//! shared with.

use aws_sdk_ram::types::{
    ResourceOwner, ResourceShare, ResourceShareAssociation, ResourceShareAssociationType,
};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::ram::*;

/// Collects the account's own shares and their principal associations.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_ram::Client::new(&ctx.config);
    futures::try_join!(
        ctx.call_if_needed(
            &GET_RESOURCE_SHARES,
            None,
            json!({"resourceOwner": "SELF"}),
            resource_shares(client),
        ),
        ctx.call_if_needed(
            &GET_RESOURCE_SHARE_ASSOCIATIONS,
            None,
            json!({"associationType": "PRINCIPAL"}),
            principal_associations(client),
        ),
    )?;
    Ok(())
}

async fn resource_shares(client: &aws_sdk_ram::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .get_resource_shares()
            .resource_owner(ResourceOwner::SelfValue)
            .into_paginator()
            .send(),
        "ResourceShares",
        |page| page.resource_shares().iter().map(share_json).collect(),
    )
    .await
}

fn share_json(s: &ResourceShare) -> Value {
    json!({
        "ResourceShareArn": s.resource_share_arn(),
        "Name": s.name(),
        "OwningAccountId": s.owning_account_id(),
        "AllowExternalPrincipals": s.allow_external_principals(),
        "Status": s.status().map(|v| v.as_str()),
        "CreationTime": s.creation_time().map(rfc3339),
    })
}

async fn principal_associations(client: &aws_sdk_ram::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .get_resource_share_associations()
            .association_type(ResourceShareAssociationType::Principal)
            .into_paginator()
            .send(),
        "ResourceShareAssociations",
        |page| {
            page.resource_share_associations()
                .iter()
                .map(association_json)
                .collect()
        },
    )
    .await
}

fn association_json(a: &ResourceShareAssociation) -> Value {
    json!({
        "ResourceShareArn": a.resource_share_arn(),
        "ResourceShareName": a.resource_share_name(),
        "AssociatedEntity": a.associated_entity(),
        "AssociationType": a.association_type().map(|v| v.as_str()),
        "Status": a.status().map(|v| v.as_str()),
        "External": a.external(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ram::types::ResourceShareAssociationStatus;

    #[test]
    fn association_member_names() {
        let a = ResourceShareAssociation::builder()
            .resource_share_arn("arn:aws:ram:us-east-1:444444444444:resource-share/x")
            .associated_entity("999999999999")
            .association_type(ResourceShareAssociationType::Principal)
            .status(ResourceShareAssociationStatus::Associated)
            .external(true)
            .build();
        let v = association_json(&a);
        assert_eq!(v["AssociatedEntity"], "999999999999");
        assert_eq!(v["AssociationType"], "PRINCIPAL");
        assert_eq!(v["Status"], "ASSOCIATED");
        assert_eq!(v["External"], true);
    }
}
