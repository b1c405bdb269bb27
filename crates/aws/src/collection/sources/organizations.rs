//! AWS Organizations, read from the management account (or a delegated read-only
//! account). Discovery (`crate::discovery`) makes the listing calls
//! (organization, accounts, roots, OUs, tags); this source collects what controls
//! read beyond that: service control policies and their targets, delegated
//! administrators and trusted service access.

use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::organizations::*;

const SCP: &str = "SERVICE_CONTROL_POLICY";

/// Collects policies, delegated administrators and service access.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = aws_sdk_organizations::Client::new(&ctx.config);
    if ctx.needs(&LIST_DELEGATED_ADMINS) {
        let admins = ctx
            .call(
                &LIST_DELEGATED_ADMINS,
                None,
                json!({}),
                delegated_admins(&client),
            )
            .await?;
        if ctx.needs(&LIST_DELEGATED_SERVICES) {
            let ids: Vec<String> = admins
                .iter()
                .flat_map(|d| {
                    d["DelegatedAdministrators"]
                        .as_array()
                        .into_iter()
                        .flatten()
                })
                .filter_map(|a| a["Id"].as_str().map(String::from))
                .collect();
            let client = &client;
            let calls = ids.iter().map(|id| async move {
                ctx.call(
                    &LIST_DELEGATED_SERVICES,
                    Some(id),
                    json!({"AccountId": id}),
                    delegated_services(client, id),
                )
                .await
            });
            futures::future::try_join_all(calls).await?;
        }
    }
    ctx.call_if_needed(
        &LIST_SERVICE_ACCESS,
        None,
        json!({}),
        service_access(&client),
    )
    .await?;
    let wants_policies = [&LIST_POLICIES, &DESCRIBE_POLICY, &LIST_TARGETS]
        .iter()
        .any(|s| ctx.needs(s));
    if !wants_policies {
        return Ok(());
    }
    let Some(listing) = ctx
        .call(
            &LIST_POLICIES,
            Some(SCP),
            json!({"Filter": SCP}),
            list_policies(&client),
        )
        .await?
    else {
        return Ok(());
    };
    let ids: Vec<String> = listing["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Id"].as_str().map(String::from))
        .collect();
    let client = &client;
    let calls = ids.iter().map(|id| async move {
        ctx.call_if_needed(
            &DESCRIBE_POLICY,
            Some(id),
            json!({"PolicyId": id}),
            describe_policy(client, id),
        )
        .await?;
        ctx.call_if_needed(
            &LIST_TARGETS,
            Some(id),
            json!({"PolicyId": id}),
            list_targets(client, id),
        )
        .await?;
        Ok::<_, RecordError>(())
    });
    futures::future::try_join_all(calls).await?;
    Ok(())
}

async fn delegated_admins(client: &aws_sdk_organizations::Client) -> Result<Answer, CallError> {
    let items_of = |page: &aws_sdk_organizations::operation::list_delegated_administrators::ListDelegatedAdministratorsOutput| -> Vec<Value> {
        page.delegated_administrators()
            .iter()
            .map(delegated_admin_json)
            .collect()
    };
    paginate(
        client
            .list_delegated_administrators()
            .into_paginator()
            .send(),
        "DelegatedAdministrators",
        items_of,
    )
    .await
}

async fn delegated_services(
    client: &aws_sdk_organizations::Client,
    account_id: &str,
) -> Result<Answer, CallError> {
    let items_of = |page: &aws_sdk_organizations::operation::list_delegated_services_for_account::ListDelegatedServicesForAccountOutput| -> Vec<Value> {
        page.delegated_services()
            .iter()
            .map(delegated_service_json)
            .collect()
    };
    paginate(
        client
            .list_delegated_services_for_account()
            .account_id(account_id)
            .into_paginator()
            .send(),
        "DelegatedServices",
        items_of,
    )
    .await
}

async fn service_access(client: &aws_sdk_organizations::Client) -> Result<Answer, CallError> {
    let items_of = |page: &aws_sdk_organizations::operation::list_aws_service_access_for_organization::ListAwsServiceAccessForOrganizationOutput| -> Vec<Value> {
        page.enabled_service_principals()
            .iter()
            .map(service_principal_json)
            .collect()
    };
    paginate(
        client
            .list_aws_service_access_for_organization()
            .into_paginator()
            .send(),
        "EnabledServicePrincipals",
        items_of,
    )
    .await
}

async fn list_policies(client: &aws_sdk_organizations::Client) -> Result<Answer, CallError> {
    paginate(
        client
            .list_policies()
            .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .into_paginator()
            .send(),
        "Policies",
        |page| page.policies().iter().map(policy_summary).collect(),
    )
    .await
}

use aws_sdk_organizations::types::{
    DelegatedAdministrator, DelegatedService, EnabledServicePrincipal, PolicyTargetSummary,
};

fn delegated_admin_json(a: &DelegatedAdministrator) -> Value {
    json!({
        "Id": a.id(), "Arn": a.arn(), "Email": a.email(), "Name": a.name(),
        "Status": a.status().map(|s| s.as_str()), "JoinedMethod": a.joined_method().map(|s| s.as_str()),
        "JoinedTimestamp": a.joined_timestamp().map(rfc3339), "DelegationEnabledDate": a.delegation_enabled_date().map(rfc3339),
    })
}

fn delegated_service_json(s: &DelegatedService) -> Value {
    json!({"ServicePrincipal": s.service_principal(), "DelegationEnabledDate": s.delegation_enabled_date().map(rfc3339)})
}

fn service_principal_json(s: &EnabledServicePrincipal) -> Value {
    json!({"ServicePrincipal": s.service_principal(), "DateEnabled": s.date_enabled().map(rfc3339)})
}

fn target_json(t: &PolicyTargetSummary) -> Value {
    json!({"TargetId": t.target_id(), "Arn": t.arn(), "Name": t.name(), "Type": t.r#type().map(|t| t.as_str())})
}

fn policy_summary(p: &aws_sdk_organizations::types::PolicySummary) -> Value {
    json!({"Id": p.id(), "Arn": p.arn(), "Name": p.name(), "Description": p.description(), "Type": p.r#type().map(|t| t.as_str()), "AwsManaged": p.aws_managed()})
}

async fn describe_policy(
    client: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<Answer, CallError> {
    let out = client.describe_policy().policy_id(id).send().await?;
    let policy = out.policy().map(|p| json!({"PolicySummary": p.policy_summary().map(policy_summary), "Content": p.content()}));
    Ok(Answer::single(json!({"Policy": policy}), 1, &out))
}

async fn list_targets(
    client: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<Answer, CallError> {
    let items_of = |page: &aws_sdk_organizations::operation::list_targets_for_policy::ListTargetsForPolicyOutput| -> Vec<Value> { page.targets().iter().map(target_json).collect() };
    paginate(
        client
            .list_targets_for_policy()
            .policy_id(id)
            .into_paginator()
            .send(),
        "Targets",
        items_of,
    )
    .await
}
