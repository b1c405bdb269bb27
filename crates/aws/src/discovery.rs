//! Live discovery: the organization, every account (paginated), the OU tree and,
//! when role rules select by tag, account tags, read from the management account
//! (or a delegated read-only account). Every call is recorded as evidence in the
//! management account's `global/organizations/` folder.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Value};

use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use crate::collection::sources::rfc3339;
use auditpack_core::catalog::organizations::{
    DESCRIBE_ORGANIZATION, LIST_ACCOUNTS, LIST_ACCOUNTS_FOR_PARENT, LIST_OUS, LIST_ROOTS, LIST_TAGS,
};
use auditpack_core::evaluation::config::Config;
use auditpack_core::evidence::SCHEMA_VERSION;
use auditpack_core::org::{Account, AccountStatus, Org, Organization};

/// Why the organization could not be discovered.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// A listing call failed (its error envelope is in the evidence).
    #[error("cannot {step} in account {account}: {code}: {message}")]
    Call {
        /// What was being done.
        step: &'static str,
        /// The account asked.
        account: String,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// Evidence could not be written.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// Discovers the organization through `ctx` (the management account, global).
/// Each account's tags are read when role rules select by tag or a control
/// reads them (`tags_read`), once, here.
pub(crate) async fn discover(
    ctx: &RegionCtx<'_>,
    config: &Config,
    tags_read: bool,
) -> Result<Org, DiscoveryError> {
    let client = aws_sdk_organizations::Client::new(&ctx.config);
    let org = required(
        ctx,
        "describe the organization",
        ctx.call_detailed(
            &DESCRIBE_ORGANIZATION,
            None,
            json!({}),
            describe_organization(&client),
        )
        .await?,
    )?;
    // The account listing (then each account's tags) and the OU tree are
    // independent chains of calls: walked side by side.
    let read_tags = config.needs_tags() || tags_read;
    let accounts_and_tags = async {
        let mut listing = required(
            ctx,
            "list the accounts",
            ctx.call_detailed(&LIST_ACCOUNTS, None, json!({}), list_accounts(&client))
                .await?,
        )?;
        let listed = match listing["Accounts"].take() {
            Value::Array(accounts) => accounts,
            _ => Vec::new(),
        };
        let tags = match read_tags {
            true => all_account_tags(ctx, &client, &listed).await?,
            false => vec![BTreeMap::new(); listed.len()],
        };
        Ok::<_, DiscoveryError>(listed.into_iter().zip(tags).collect::<Vec<_>>())
    };
    let ou_tree = async {
        let roots = required(
            ctx,
            "list the roots",
            ctx.call_detailed(&LIST_ROOTS, None, json!({}), list_roots(&client))
                .await?,
        )?;
        walk_ou_tree(ctx, &client, &roots).await
    };
    let (listed, ou_paths) = futures::try_join!(accounts_and_tags, ou_tree)?;

    let o = &org["Organization"];
    let management_account_id = o["MasterAccountId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut accounts = Vec::new();
    for (a, tags) in listed {
        let id = a["Id"].as_str().unwrap_or_default().to_string();
        let mut account = Account {
            name: a["Name"].as_str().unwrap_or_default().into(),
            email: a["Email"].as_str().unwrap_or_default().into(),
            status: account_state(&a),
            ou_path: ou_paths
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "(unknown: OU listing failed)".into()),
            role: None,
            joined_at: a["JoinedTimestamp"].as_str().unwrap_or_default().into(),
            tags,
            id,
            reachable: None,
        };
        account.role = config.role_for(&account, &management_account_id);
        accounts.push(account);
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Org {
        schema_version: SCHEMA_VERSION,
        organization: Organization {
            id: o["Id"].as_str().unwrap_or_default().into(),
            arn: o["Arn"].as_str().unwrap_or_default().into(),
            management_account_id,
            feature_set: o["FeatureSet"].as_str().unwrap_or_default().into(),
        },
        accounts,
    })
}

/// Discovery cannot go on without these answers; the error names the call's failure.
fn required(
    ctx: &RegionCtx<'_>,
    step: &'static str,
    data: Result<Value, CallError>,
) -> Result<Value, DiscoveryError> {
    data.map_err(|e| DiscoveryError::Call {
        step,
        account: ctx.session.account_id.clone(),
        code: e.code,
        message: e.message,
    })
}

/// `Suspended` and closing accounts are kept (listed as out of scope); see
/// [`AccountStatus::from_list_accounts_item`].
fn account_state(account: &Value) -> AccountStatus {
    AccountStatus::from_list_accounts_item(account)
}

/// Breadth-first over the OU tree; returns account id → `Root/OU/OU` path.
async fn walk_ou_tree(
    ctx: &RegionCtx<'_>,
    client: &aws_sdk_organizations::Client,
    roots: &Value,
) -> Result<BTreeMap<String, String>, DiscoveryError> {
    let mut paths = BTreeMap::new();
    let mut queue: VecDeque<(String, String)> = roots["Roots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r["Id"].as_str()?.to_string(),
                r["Name"].as_str().unwrap_or("Root").to_string(),
            ))
        })
        .collect();
    while let Some((parent, path)) = queue.pop_front() {
        let params = json!({"ParentId": parent});
        let accounts = ctx
            .call(
                &LIST_ACCOUNTS_FOR_PARENT,
                Some(&parent),
                params.clone(),
                accounts_for_parent(client, &parent),
            )
            .await?;
        for a in accounts
            .iter()
            .flat_map(|d| d["Accounts"].as_array().into_iter().flatten())
        {
            if let Some(id) = a["Id"].as_str() {
                paths.insert(id.to_string(), path.clone());
            }
        }
        let ous = ctx
            .call(
                &LIST_OUS,
                Some(&parent),
                params,
                ous_for_parent(client, &parent),
            )
            .await?;
        for ou in ous
            .iter()
            .flat_map(|d| d["OrganizationalUnits"].as_array().into_iter().flatten())
        {
            if let (Some(id), Some(name)) = (ou["Id"].as_str(), ou["Name"].as_str()) {
                queue.push_back((id.to_string(), format!("{path}/{name}")));
            }
        }
    }
    Ok(paths)
}

/// How many `ListTagsForResource` calls discovery has in flight. One at a
/// time, 10,000 accounts took 832 s of a 30-minute run at 50 ms a call (the
/// benchmark, docs/performance.md); AWS does not publish Organizations' rate,
/// and its throttle is shared by everything that calls the management
/// account, so a few at a time, with throttled calls retried as every call is.
const TAG_READS_AT_ONCE: usize = 4;

/// The tags of each `listed` account, in listing order. The reads complete
/// in any order and are put back in listing order after: kept in order as
/// they ran (`buffered`), one throttled read waiting out its retry backoff
/// (a second, jittered) held the other three slots idle behind it, which
/// at a 5 % throttle rate cut 4 reads in flight to ~23 calls/s at 10,000
/// accounts.
async fn all_account_tags(
    ctx: &RegionCtx<'_>,
    client: &aws_sdk_organizations::Client,
    listed: &[Value],
) -> Result<Vec<BTreeMap<String, String>>, RecordError> {
    use futures::{StreamExt, TryStreamExt};
    let mut read: Vec<(usize, BTreeMap<String, String>)> =
        futures::stream::iter(listed.iter().enumerate())
            .map(|(at, a)| async move {
                let tags = account_tags(ctx, client, a["Id"].as_str().unwrap_or_default()).await?;
                Ok::<_, RecordError>((at, tags))
            })
            .buffer_unordered(TAG_READS_AT_ONCE)
            .try_collect()
            .await?;
    read.sort_unstable_by_key(|(at, _)| *at);
    Ok(read.into_iter().map(|(_, tags)| tags).collect())
}

async fn account_tags(
    ctx: &RegionCtx<'_>,
    client: &aws_sdk_organizations::Client,
    id: &str,
) -> Result<BTreeMap<String, String>, RecordError> {
    let data = ctx
        .call(
            &LIST_TAGS,
            Some(id),
            json!({"ResourceId": id}),
            list_tags(client, id),
        )
        .await?;
    Ok(data
        .iter()
        .flat_map(|d| d["Tags"].as_array().into_iter().flatten())
        .filter_map(|t| {
            Some((
                t["Key"].as_str()?.to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

async fn describe_organization(
    client: &aws_sdk_organizations::Client,
) -> Result<Answer, CallError> {
    let out = client.describe_organization().send().await?;
    let o = out.organization();
    let policy_types: Vec<Value> = o
        .map(|o| o.available_policy_types().iter().map(|p| json!({"Type": p.r#type().map(|t| t.as_str()), "Status": p.status().map(|s| s.as_str())})).collect())
        .unwrap_or_default();
    let data = json!({"Organization": o.map(|o| json!({
        "Id": o.id(), "Arn": o.arn(), "FeatureSet": o.feature_set().map(|f| f.as_str()),
        "MasterAccountArn": o.master_account_arn(), "MasterAccountId": o.master_account_id(),
        "MasterAccountEmail": o.master_account_email(), "AvailablePolicyTypes": policy_types,
    }))});
    Ok(Answer::single(data, 1, &out))
}

fn account_json(a: &aws_sdk_organizations::types::Account) -> Value {
    json!({
        "Id": a.id(), "Arn": a.arn(), "Email": a.email(), "Name": a.name(),
        "Status": a.status().map(|s| s.as_str()), "State": a.state().map(|s| s.as_str()),
        "JoinedMethod": a.joined_method().map(|m| m.as_str()),
        "JoinedTimestamp": a.joined_timestamp().map(rfc3339),
    })
}

async fn list_accounts(client: &aws_sdk_organizations::Client) -> Result<Answer, CallError> {
    paginate(
        client.list_accounts().into_paginator().send(),
        "Accounts",
        |page| page.accounts().iter().map(account_json).collect(),
    )
    .await
}

fn root_json(r: &aws_sdk_organizations::types::Root) -> Value {
    let types: Vec<Value> =
        r.policy_types().iter().map(|p| json!({"Type": p.r#type().map(|t| t.as_str()), "Status": p.status().map(|s| s.as_str())})).collect();
    json!({"Id": r.id(), "Arn": r.arn(), "Name": r.name(), "PolicyTypes": types})
}

async fn list_roots(client: &aws_sdk_organizations::Client) -> Result<Answer, CallError> {
    paginate(
        client.list_roots().into_paginator().send(),
        "Roots",
        |page| page.roots().iter().map(root_json).collect(),
    )
    .await
}

async fn accounts_for_parent(
    client: &aws_sdk_organizations::Client,
    parent: &str,
) -> Result<Answer, CallError> {
    paginate(
        client
            .list_accounts_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send(),
        "Accounts",
        |page| page.accounts().iter().map(account_json).collect(),
    )
    .await
}

async fn ous_for_parent(
    client: &aws_sdk_organizations::Client,
    parent: &str,
) -> Result<Answer, CallError> {
    paginate(
        client
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send(),
        "OrganizationalUnits",
        |page| {
            page.organizational_units()
                .iter()
                .map(|ou| json!({"Id": ou.id(), "Arn": ou.arn(), "Name": ou.name()}))
                .collect()
        },
    )
    .await
}

async fn list_tags(client: &aws_sdk_organizations::Client, id: &str) -> Result<Answer, CallError> {
    paginate(
        client
            .list_tags_for_resource()
            .resource_id(id)
            .into_paginator()
            .send(),
        "Tags",
        |page| {
            page.tags()
                .iter()
                .map(|t| json!({"Key": t.key(), "Value": t.value()}))
                .collect()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn state_wins_over_the_retired_status_and_unknown_states_stay_in_scope() {
        let state = |v: Value| account_state(&v);
        assert_eq!(
            state(json!({"State": "SUSPENDED", "Status": "ACTIVE"})),
            AccountStatus::Suspended
        );
        // After 2026-09-09 AWS returns State only.
        assert_eq!(state(json!({"State": "CLOSED"})), AccountStatus::Closed);
        assert_eq!(
            state(json!({"State": "PENDING_CLOSURE"})),
            AccountStatus::PendingClosure
        );
        assert_eq!(
            state(json!({"Status": "SUSPENDED"})),
            AccountStatus::Suspended
        );
        // Fail closed: never silently out of scope.
        assert_eq!(
            state(json!({"State": "PENDING_ACTIVATION"})),
            AccountStatus::Active
        );
        assert_eq!(state(json!({})), AccountStatus::Active);
    }
}
