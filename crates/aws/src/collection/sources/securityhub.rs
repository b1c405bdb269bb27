//! Security Hub: whether it is on in an account × region, the account's
//! administrator, and the organization configuration (in the administrator).

use aws_sdk_securityhub::operation::describe_organization_configuration::DescribeOrganizationConfigurationOutput;
use serde_json::{json, Value};

use crate::collection::answer::{Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::securityhub::*;

/// Collects whichever of the three independent calls some control needs.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_securityhub::Client::new(&ctx.config);
    futures::try_join!(
        ctx.call_if_needed(&DESCRIBE_HUB, None, json!({}), hub(client)),
        ctx.call_if_needed(
            &GET_ADMINISTRATOR_ACCOUNT,
            None,
            json!({}),
            administrator(client),
        ),
        ctx.call_if_needed(
            &DESCRIBE_ORGANIZATION_CONFIGURATION,
            None,
            json!({}),
            organization_configuration(client),
        ),
    )?;
    Ok(())
}

async fn hub(client: &aws_sdk_securityhub::Client) -> Result<Answer, CallError> {
    let out = client.describe_hub().send().await?;
    let data = json!({
        "HubArn": out.hub_arn(),
        "SubscribedAt": out.subscribed_at(),
        "AutoEnableControls": out.auto_enable_controls(),
        "ControlFindingGenerator": out.control_finding_generator().map(|v| v.as_str()),
    });
    Ok(Answer::single(data, 1, &out))
}

async fn administrator(client: &aws_sdk_securityhub::Client) -> Result<Answer, CallError> {
    let out = client.get_administrator_account().send().await?;
    let data = json!({"Administrator": out.administrator().map(|a| json!({
        "AccountId": a.account_id(),
        "InvitationId": a.invitation_id(),
        "MemberStatus": a.member_status(),
    }))});
    Ok(Answer::single(data, 1, &out))
}

async fn organization_configuration(
    client: &aws_sdk_securityhub::Client,
) -> Result<Answer, CallError> {
    let out = client.describe_organization_configuration().send().await?;
    Ok(Answer::single(
        organization_configuration_json(&out),
        1,
        &out,
    ))
}

fn organization_configuration_json(out: &DescribeOrganizationConfigurationOutput) -> Value {
    json!({
        "AutoEnable": out.auto_enable(),
        "MemberAccountLimitReached": out.member_account_limit_reached(),
        "AutoEnableStandards": out.auto_enable_standards().map(|v| v.as_str()),
        "OrganizationConfiguration": out.organization_configuration().map(|c| json!({
            "ConfigurationType": c.configuration_type().map(|v| v.as_str()),
            "Status": c.status().map(|v| v.as_str()),
            "StatusMessage": c.status_message(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_securityhub::types::{
        OrganizationConfiguration, OrganizationConfigurationConfigurationType,
    };

    #[test]
    fn organization_configuration_member_names() {
        let out = DescribeOrganizationConfigurationOutput::builder()
            .auto_enable(true)
            .member_account_limit_reached(false)
            .organization_configuration(
                OrganizationConfiguration::builder()
                    .configuration_type(OrganizationConfigurationConfigurationType::Central)
                    .build(),
            )
            .build();
        let v = organization_configuration_json(&out);
        assert_eq!(v["AutoEnable"], true);
        assert_eq!(v["MemberAccountLimitReached"], false);
        assert_eq!(
            v["OrganizationConfiguration"]["ConfigurationType"],
            "CENTRAL"
        );
    }
}
