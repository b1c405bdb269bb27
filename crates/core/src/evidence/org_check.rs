//! `org.json` checked against the discovery evidence it was made from.
//!
//! `org.json` decides each control's population: an account marked SUSPENDED
//! or left out is not evaluated. It is a summary `collect` writes from the
//! management account's `organizations:ListAccounts` answer, which is kept as
//! evidence beside it. Reading `org.json` alone would let an edit to it (an
//! ACTIVE account flipped to SUSPENDED, an account deleted) make that
//! account's failures vanish, so every reader that evaluates compares the two
//! and refuses a mismatch. Editing both consistently is caught only by the
//! bundle's signature (docs/limits.md).

use serde_json::Value;

use super::{EvidenceKey, EvidenceStore, RegionDir};
use crate::org::{AccountStatus, Org};

/// What the comparison found when it did not refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgCheck {
    /// Every account's state matched the recorded answer.
    Matched,
    /// The answer is not in the evidence or not usable (a shard that did
    /// not cover the management account, a failed call): nothing to compare.
    NotRecorded(String),
}

/// The first difference between `org.json` and the recorded answer, as one
/// sentence naming the account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OrgMismatch(pub String);

/// Where discovery's account listing is kept.
pub fn list_accounts_key(org: &Org) -> EvidenceKey {
    EvidenceKey {
        account_id: org.organization.management_account_id.clone(),
        region: RegionDir::Global,
        service: "organizations".into(),
        operation: "ListAccounts".into(),
        qualifier: None,
    }
}

/// Compares every account's state in `org` with the management account's
/// recorded `ListAccounts` answer.
pub fn check_org_against_discovery(
    store: &EvidenceStore,
    org: &Org,
) -> Result<OrgCheck, OrgMismatch> {
    let key = list_accounts_key(org);
    let path = key.relative_path();
    let Some(doc) = store.get(&key) else {
        return Ok(OrgCheck::NotRecorded(format!(
            "{path} is not in the evidence"
        )));
    };
    let envelope = match &doc.envelope {
        Ok(env) if env.is_usable() => env,
        _ => {
            let reason = doc.unusable_reason().unwrap_or_else(|| "not usable".into());
            return Ok(OrgCheck::NotRecorded(format!("{path}: {reason}")));
        }
    };
    compare(org, &envelope.data, &path)
}

/// The comparison itself, over the answer's `data`.
fn compare(org: &Org, data: &Value, path: &str) -> Result<OrgCheck, OrgMismatch> {
    let listed: Vec<(&str, AccountStatus)> = data["Accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = a["Id"].as_str().unwrap_or_default();
            (id, AccountStatus::from_list_accounts_item(a))
        })
        .collect();
    for (id, recorded) in &listed {
        let Some(account) = org.account(id) else {
            return Err(OrgMismatch(format!(
                "account {id} is in the recorded Organizations answer ({path}) but not in org.json; \
                 org.json must list every account discovery found"
            )));
        };
        if account.status != *recorded {
            return Err(OrgMismatch(format!(
                "account {id} is {} in org.json but {} in the recorded Organizations answer ({path}); \
                 org.json must agree with the discovery evidence",
                account.status.as_str(),
                recorded.as_str()
            )));
        }
    }
    if let Some(extra) = org
        .accounts
        .iter()
        .find(|a| !listed.iter().any(|(id, _)| *id == a.id))
    {
        return Err(OrgMismatch(format!(
            "account {} is in org.json but not in the recorded Organizations answer ({path})",
            extra.id
        )));
    }
    Ok(OrgCheck::Matched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn org(accounts: &[(&str, &str)]) -> Org {
        serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {"id": "o-1", "arn": "a", "management_account_id": "111111111111", "feature_set": "ALL"},
            "accounts": accounts.iter().map(|(id, status)| json!({
                "id": id, "name": "n", "email": "e", "status": status, "ou_path": "Root", "role": null, "joined_at": "t"
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn listing(accounts: &[(&str, Value)]) -> Value {
        json!({"Accounts": accounts.iter().map(|(id, state)| {
            let mut a = json!({"Id": id});
            for (k, v) in state.as_object().unwrap() { a[k] = v.clone(); }
            a
        }).collect::<Vec<_>>()})
    }

    #[test]
    fn matching_states_pass_and_state_wins_over_the_retired_status() {
        let o = org(&[("111111111111", "ACTIVE"), ("222222222222", "SUSPENDED")]);
        let data = listing(&[
            ("111111111111", json!({"State": "ACTIVE"})),
            (
                "222222222222",
                json!({"State": "SUSPENDED", "Status": "ACTIVE"}),
            ),
        ]);
        assert_eq!(compare(&o, &data, "p"), Ok(OrgCheck::Matched));
    }

    #[test]
    fn an_active_account_flipped_to_suspended_is_refused_naming_it() {
        let o = org(&[("111111111111", "ACTIVE"), ("222222222222", "SUSPENDED")]);
        let data = listing(&[
            ("111111111111", json!({"State": "ACTIVE"})),
            ("222222222222", json!({"State": "ACTIVE"})),
        ]);
        let err = compare(&o, &data, "p").unwrap_err().0;
        assert!(
            err.contains("account 222222222222 is SUSPENDED in org.json but ACTIVE"),
            "{err}"
        );
    }

    #[test]
    fn an_account_deleted_from_org_json_or_added_to_it_is_refused() {
        let data = listing(&[
            ("111111111111", json!({"State": "ACTIVE"})),
            ("222222222222", json!({"State": "ACTIVE"})),
        ]);
        let deleted = org(&[("111111111111", "ACTIVE")]);
        let err = compare(&deleted, &data, "p").unwrap_err().0;
        assert!(
            err.contains("account 222222222222 is in the recorded"),
            "{err}"
        );
        let added = org(&[
            ("111111111111", "ACTIVE"),
            ("222222222222", "ACTIVE"),
            ("333333333333", "ACTIVE"),
        ]);
        let err = compare(&added, &data, "p").unwrap_err().0;
        assert!(
            err.contains("account 333333333333 is in org.json but not"),
            "{err}"
        );
    }
}
