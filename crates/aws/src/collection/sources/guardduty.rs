//! GuardDuty: delegated administrator, detectors, organization configuration and membership.
//!
//! GuardDuty's wire format uses lowerCamel names; evidence uses the PascalCase
//! member names of the API reference's shapes (`RelationshipStatus`), as the
//! other sources do.

use aws_sdk_guardduty::operation::describe_organization_configuration::DescribeOrganizationConfigurationOutput;
use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{AdminAccount, Administrator};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::guardduty::*;
use auditpack_core::catalog::OperationSpec;

const PER_DETECTOR_OPS: [&OperationSpec; 3] = [
    &GET_DETECTOR,
    &DESCRIBE_ORGANIZATION_CONFIGURATION,
    &GET_ADMINISTRATOR_ACCOUNT,
];

/// Collects the delegated administrator, the detectors and, per detector, its
/// configuration, the organization configuration, members and administrator.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_guardduty::Client::new(&ctx.config);
    // The organization's admin accounts and the detectors are independent.
    futures::try_join!(
        ctx.call_if_needed(
            &LIST_ORGANIZATION_ADMIN_ACCOUNTS,
            None,
            json!({}),
            admin_accounts(client),
        ),
        collect_detectors(ctx, client),
    )?;
    Ok(())
}

/// The detector list, then each detector's calls (concurrently).
async fn collect_detectors(
    ctx: &RegionCtx<'_>,
    client: &aws_sdk_guardduty::Client,
) -> Result<(), RecordError> {
    let per_detector = PER_DETECTOR_OPS.iter().any(|s| ctx.needs(s));
    if !per_detector && !ctx.needs(&LIST_DETECTORS) {
        return Ok(());
    }
    let Some(listing) = ctx
        .call(&LIST_DETECTORS, None, json!({}), list_detectors(client))
        .await?
    else {
        return Ok(());
    };
    if !per_detector {
        return Ok(());
    }
    let ids: Vec<String> = listing["DetectorIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(String::from))
        .collect();
    let calls = ids.iter().map(|id| async move {
        let q = Some(id.as_str());
        let params = || json!({"DetectorId": id});
        futures::try_join!(
            ctx.call_if_needed(&GET_DETECTOR, q, params(), get_detector(client, id)),
            ctx.call_if_needed(
                &DESCRIBE_ORGANIZATION_CONFIGURATION,
                q,
                params(),
                organization_configuration(client, id),
            ),
            ctx.call_if_needed(
                &GET_ADMINISTRATOR_ACCOUNT,
                q,
                params(),
                administrator(client, id),
            ),
        )?;
        Ok::<_, RecordError>(())
    });
    futures::future::try_join_all(calls).await?;
    Ok(())
}

async fn admin_accounts(client: &aws_sdk_guardduty::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .list_organization_admin_accounts()
            .into_paginator()
            .send(),
        "AdminAccounts",
        |page| {
            page.admin_accounts()
                .iter()
                .map(admin_account_json)
                .collect()
        },
    )
    .await
}

fn admin_account_json(a: &AdminAccount) -> Value {
    json!({"AdminAccountId": a.admin_account_id(), "AdminStatus": a.admin_status().map(|s| s.as_str())})
}

async fn list_detectors(client: &aws_sdk_guardduty::Client) -> Result<Answer, CallError> {
    let mut answer = Answer::paginated();
    let mut ids: Vec<String> = Vec::new();
    let mut pages = client.list_detectors().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page?;
        answer.page(&page);
        ids.extend(page.detector_ids().iter().cloned());
    }
    let n = ids.len();
    Ok(answer.finish(json!({"DetectorIds": ids}), n))
}

async fn get_detector(client: &aws_sdk_guardduty::Client, id: &str) -> Result<Answer, CallError> {
    let out = client.get_detector().detector_id(id).send().await?;
    Ok(Answer::single(detector_json(&out), 1, &out))
}

fn detector_json(d: &GetDetectorOutput) -> Value {
    let features: Vec<Value> = d
        .features()
        .iter()
        .map(|f| {
            json!({
                "Name": f.name().map(|n| n.as_str()),
                "Status": f.status().map(|s| s.as_str()),
                "UpdatedAt": f.updated_at().map(rfc3339),
                "AdditionalConfiguration": f.additional_configuration().iter().map(|c| json!({
                    "Name": c.name().map(|n| n.as_str()),
                    "Status": c.status().map(|s| s.as_str()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "Status": d.status().map(|s| s.as_str()),
        "FindingPublishingFrequency": d.finding_publishing_frequency().map(|f| f.as_str()),
        "CreatedAt": d.created_at(),
        "UpdatedAt": d.updated_at(),
        "ServiceRole": d.service_role(),
        "Features": features,
    })
}

async fn organization_configuration(
    client: &aws_sdk_guardduty::Client,
    id: &str,
) -> Result<Answer, CallError> {
    let mut answer = Answer::paginated();
    let mut pages_read = Vec::new();
    let mut pages = client
        .describe_organization_configuration()
        .detector_id(id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page?;
        answer.page(&page);
        pages_read.push(page);
    }
    Ok(answer.finish(organization_configuration_json(&pages_read), 1))
}

/// The configuration from its pages: the settings from the first, the features of all.
fn organization_configuration_json(pages: &[DescribeOrganizationConfigurationOutput]) -> Value {
    let first = pages.first();
    #[allow(deprecated)]
    let auto_enable = first.and_then(|p| p.auto_enable());
    let features: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.features())
        .map(|f| {
            json!({
                "Name": f.name().map(|n| n.as_str()),
                "AutoEnable": f.auto_enable().map(|a| a.as_str()),
                "AdditionalConfiguration": f.additional_configuration().iter().map(|c| json!({
                    "Name": c.name().map(|n| n.as_str()),
                    "AutoEnable": c.auto_enable().map(|a| a.as_str()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "AutoEnable": auto_enable,
        "AutoEnableOrganizationMembers": first.and_then(|p| p.auto_enable_organization_members()).map(|a| a.as_str()),
        "MemberAccountLimitReached": first.and_then(|p| p.member_account_limit_reached()),
        "Features": features,
    })
}

async fn administrator(client: &aws_sdk_guardduty::Client, id: &str) -> Result<Answer, CallError> {
    let out = client
        .get_administrator_account()
        .detector_id(id)
        .send()
        .await?;
    let data = administrator_json(out.administrator());
    let n = usize::from(data.get("Administrator").is_some());
    Ok(Answer::single(data, n, &out))
}

/// `{}` when the account has no administrator, as AWS answers. The SDK fills a
/// missing `Administrator` (a required member) with an empty one; an
/// administrator without an account id is that filler, not an answer.
fn administrator_json(a: Option<&Administrator>) -> Value {
    match a.filter(|a| a.account_id().is_some_and(|id| !id.is_empty())) {
        Some(a) => json!({"Administrator": {
            "AccountId": a.account_id(),
            "InvitationId": a.invitation_id(),
            "RelationshipStatus": a.relationship_status(),
            "InvitedAt": a.invited_at(),
        }}),
        None => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_guardduty::types::{
        AdminStatus, AutoEnableMembers, DetectorFeatureConfigurationResult, DetectorFeatureResult,
        DetectorStatus, FeatureStatus, FindingPublishingFrequency, OrgFeature, OrgFeatureStatus,
        OrganizationFeatureConfigurationResult,
    };

    #[test]
    fn admin_account_member_names() {
        let a = AdminAccount::builder()
            .admin_account_id("222222222222")
            .admin_status(AdminStatus::Enabled)
            .build();
        assert_eq!(
            admin_account_json(&a),
            json!({"AdminAccountId": "222222222222", "AdminStatus": "ENABLED"})
        );
    }

    #[test]
    fn detector_member_names() {
        let out = GetDetectorOutput::builder()
            .status(DetectorStatus::Enabled)
            .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
            .created_at("2026-01-01T00:00:00.000Z")
            .service_role("arn:aws:iam::1:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty")
            .features(
                DetectorFeatureConfigurationResult::builder()
                    .name(DetectorFeatureResult::S3DataEvents)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .build();
        let v = detector_json(&out);
        assert_eq!(v["Status"], "ENABLED");
        assert_eq!(v["FindingPublishingFrequency"], "FIFTEEN_MINUTES");
        assert_eq!(v["CreatedAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["UpdatedAt"], Value::Null);
        assert_eq!(v["Features"][0]["Name"], "S3_DATA_EVENTS");
        assert_eq!(v["Features"][0]["Status"], "ENABLED");
    }

    #[test]
    fn organization_configuration_merges_features_of_all_pages() {
        let first = DescribeOrganizationConfigurationOutput::builder()
            .auto_enable_organization_members(AutoEnableMembers::All)
            .member_account_limit_reached(false)
            .features(
                OrganizationFeatureConfigurationResult::builder()
                    .name(OrgFeature::S3DataEvents)
                    .auto_enable(OrgFeatureStatus::New)
                    .build(),
            )
            .build();
        let second = DescribeOrganizationConfigurationOutput::builder()
            .member_account_limit_reached(false)
            .features(
                OrganizationFeatureConfigurationResult::builder()
                    .name(OrgFeature::EksAuditLogs)
                    .auto_enable(OrgFeatureStatus::None)
                    .build(),
            )
            .build();
        let v = organization_configuration_json(&[first, second]);
        assert_eq!(v["AutoEnableOrganizationMembers"], "ALL");
        assert_eq!(v["MemberAccountLimitReached"], false);
        assert_eq!(v["AutoEnable"], Value::Null);
        assert_eq!(
            v["Features"][0],
            json!({"Name": "S3_DATA_EVENTS", "AutoEnable": "NEW", "AdditionalConfiguration": []})
        );
        assert_eq!(v["Features"][1]["Name"], "EKS_AUDIT_LOGS");
        assert_eq!(v["Features"][1]["AutoEnable"], "NONE");
    }

    #[test]
    fn administrator_or_nothing() {
        let a = Administrator::builder()
            .account_id("222222222222")
            .invitation_id("i")
            .relationship_status("Enabled")
            .build();
        let v = administrator_json(Some(&a));
        assert_eq!(v["Administrator"]["AccountId"], "222222222222");
        assert_eq!(v["Administrator"]["RelationshipStatus"], "Enabled");
        assert_eq!(v["Administrator"]["InvitationId"], "i");
        assert_eq!(administrator_json(None), json!({}));
        let filler = Administrator::builder().build();
        assert_eq!(
            administrator_json(Some(&filler)),
            json!({}),
            "the SDK's stand-in for a missing member"
        );
    }
}
