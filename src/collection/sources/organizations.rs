//! AWS Organizations, read from the management account (or a delegated read-only
//! account). Discovery (`crate::discovery::live`) makes the listing calls
//! (organization, accounts, roots, OUs, tags); this source collects what controls
//! read beyond that: service control policies and their targets, delegated
//! administrators and trusted service access.

use serde_json::{json, Value};

use super::{op, rfc3339};
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use crate::collection::{CallScope::Global, OperationSpec};

const FROM_POLICIES: Option<&str> = Some("organizations:ListPolicies");
const PER_PARENT: Option<&str> = Some("parent id");

/// `organizations:DescribeOrganization`.
pub const DESCRIBE_ORGANIZATION: OperationSpec = op(
    "organizations",
    "DescribeOrganization",
    &["organizations:DescribeOrganization"],
    Global,
    None,
    None,
);
/// `organizations:ListAccounts`.
pub const LIST_ACCOUNTS: OperationSpec = op(
    "organizations",
    "ListAccounts",
    &["organizations:ListAccounts"],
    Global,
    None,
    None,
);
/// `organizations:ListRoots`.
pub const LIST_ROOTS: OperationSpec = op(
    "organizations",
    "ListRoots",
    &["organizations:ListRoots"],
    Global,
    None,
    None,
);
/// `organizations:ListOrganizationalUnitsForParent`.
pub const LIST_OUS: OperationSpec = op(
    "organizations",
    "ListOrganizationalUnitsForParent",
    &["organizations:ListOrganizationalUnitsForParent"],
    Global,
    PER_PARENT,
    Some("organizations:ListRoots"),
);
/// `organizations:ListAccountsForParent`.
pub const LIST_ACCOUNTS_FOR_PARENT: OperationSpec = op(
    "organizations",
    "ListAccountsForParent",
    &["organizations:ListAccountsForParent"],
    Global,
    PER_PARENT,
    Some("organizations:ListRoots"),
);
/// `organizations:ListTagsForResource` (per account, only when role rules select by tag).
pub const LIST_TAGS: OperationSpec = op(
    "organizations",
    "ListTagsForResource",
    &["organizations:ListTagsForResource"],
    Global,
    Some("account id"),
    Some("organizations:ListAccounts"),
);
/// `organizations:ListPolicies` (qualifier: the policy type).
pub const LIST_POLICIES: OperationSpec = op(
    "organizations",
    "ListPolicies",
    &["organizations:ListPolicies"],
    Global,
    Some("policy type"),
    None,
);
/// `organizations:DescribePolicy`.
pub const DESCRIBE_POLICY: OperationSpec = op(
    "organizations",
    "DescribePolicy",
    &["organizations:DescribePolicy"],
    Global,
    Some("policy id"),
    FROM_POLICIES,
);
/// `organizations:ListTargetsForPolicy`.
pub const LIST_TARGETS: OperationSpec = op(
    "organizations",
    "ListTargetsForPolicy",
    &["organizations:ListTargetsForPolicy"],
    Global,
    Some("policy id"),
    FROM_POLICIES,
);
/// `organizations:ListDelegatedAdministrators`.
pub const LIST_DELEGATED_ADMINS: OperationSpec = op(
    "organizations",
    "ListDelegatedAdministrators",
    &["organizations:ListDelegatedAdministrators"],
    Global,
    None,
    None,
);
/// `organizations:ListDelegatedServicesForAccount` (per delegated administrator).
pub const LIST_DELEGATED_SERVICES: OperationSpec = op(
    "organizations",
    "ListDelegatedServicesForAccount",
    &["organizations:ListDelegatedServicesForAccount"],
    Global,
    Some("account id"),
    Some("organizations:ListDelegatedAdministrators"),
);
/// `organizations:ListAWSServiceAccessForOrganization`.
pub const LIST_SERVICE_ACCESS: OperationSpec = op(
    "organizations",
    "ListAWSServiceAccessForOrganization",
    &["organizations:ListAWSServiceAccessForOrganization"],
    Global,
    None,
    None,
);

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_ORGANIZATION,
    LIST_ACCOUNTS,
    LIST_ROOTS,
    LIST_OUS,
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_TAGS,
    LIST_POLICIES,
    DESCRIBE_POLICY,
    LIST_TARGETS,
    LIST_DELEGATED_ADMINS,
    LIST_DELEGATED_SERVICES,
    LIST_SERVICE_ACCESS,
];

const SCP: &str = "SERVICE_CONTROL_POLICY";

/// Collects policies, delegated administrators and service access.
pub async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
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
    if ctx.needs(&LIST_SERVICE_ACCESS) {
        ctx.call(
            &LIST_SERVICE_ACCESS,
            None,
            json!({}),
            service_access(&client),
        )
        .await?;
    }
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
        if ctx.needs(&DESCRIBE_POLICY) {
            ctx.call(
                &DESCRIBE_POLICY,
                Some(id),
                json!({"PolicyId": id}),
                describe_policy(client, id),
            )
            .await?;
        }
        if ctx.needs(&LIST_TARGETS) {
            ctx.call(
                &LIST_TARGETS,
                Some(id),
                json!({"PolicyId": id}),
                list_targets(client, id),
            )
            .await?;
        }
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
    Ok(Answer::single(
        json!({"Policy": policy}),
        1,
        aws_types::request_id::RequestId::request_id(&out),
    ))
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
