//! The coverage record (`data/coverage.json`): which accounts Organizations
//! listed as in scope, which were collected, and which failed and why.
//!
//! A bundle that silently leaves out an account looks cleaner than one that
//! names it, so the record is written from `org.json` and the evidence file
//! list at report time, and `verify` rebuilds it from the bag's own `org.json`
//! and manifest: an edited record, or evidence removed with the manifest
//! recomputed to match, shows up as a difference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::org::Org;

/// Where the coverage statement lives in the bag.
pub(crate) const COVERAGE_JSON: &str = "data/coverage.json";

/// Contents of `data/coverage.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Format version (1).
    pub schema_version: u32,
    /// `o-…`.
    pub organization_id: String,
    /// Active accounts of the organization: the population that must be covered.
    pub expected: Vec<String>,
    /// Expected accounts reached, with evidence.
    pub collected: Vec<String>,
    /// Expected accounts not collected, with the reason.
    pub failed: Vec<FailedAccount>,
    /// Accounts listed by Organizations but not active (suspended, closing).
    pub out_of_scope: Vec<String>,
    /// Accounts with evidence that are not active members (should be empty).
    pub unexpected: Vec<String>,
    /// Evidence files per account.
    pub evidence_files: BTreeMap<String, usize>,
}

/// An expected account that was not collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedAccount {
    /// Account id.
    pub account_id: String,
    /// Why.
    pub reason: String,
}

/// Builds the record from the organization and the evidence files' paths
/// (relative to the evidence root: `<account>/<region>/<service>/<file>`).
pub(crate) fn coverage(
    org: &Org,
    evidence_paths: impl IntoIterator<Item = impl AsRef<str>>,
) -> Coverage {
    let mut files: BTreeMap<String, usize> = BTreeMap::new();
    for path in evidence_paths {
        let path = path.as_ref();
        // Attachments (`attachments/…`) belong to no account.
        if path.starts_with(&format!("{}/", super::attachments::ATTACHMENTS_DIR)) {
            continue;
        }
        if let Some((account, _)) = path.split_once('/') {
            *files.entry(account.to_string()).or_default() += 1;
        }
    }
    let active: BTreeSet<&str> = org.active_accounts().map(|a| a.id.as_str()).collect();
    let mut collected = Vec::new();
    let mut failed = Vec::new();
    for account in org.active_accounts() {
        let id = account.id.clone();
        if account.reachable == Some(false) {
            failed.push(FailedAccount {
                reason: format!(
                    "its audit role could not be assumed or its endpoint reached (see {id}/global/sts/AssumeRole.json)"
                ),
                account_id: id,
            });
        } else if files.get(&id).copied().unwrap_or(0) == 0 {
            // `collect` records `reachable` for every account it selects, so
            // none at all means the account was outside a shard's selection.
            let reason = match account.reachable {
                None => "not collected: outside this run's --ou/--accounts selection, or in no merged shard",
                Some(_) => "no evidence was collected",
            };
            failed.push(FailedAccount {
                account_id: id,
                reason: reason.into(),
            });
        } else {
            collected.push(id);
        }
    }
    Coverage {
        schema_version: 1,
        organization_id: org.organization.id.clone(),
        expected: active.iter().map(|s| s.to_string()).collect(),
        collected,
        failed,
        out_of_scope: org
            .accounts
            .iter()
            .filter(|a| !a.is_active())
            .map(|a| a.id.clone())
            .collect(),
        unexpected: files
            .keys()
            .filter(|id| !active.contains(id.as_str()))
            .cloned()
            .collect(),
        evidence_files: files,
    }
}

/// The record as written into the bag (pretty JSON, newline-terminated).
pub(crate) fn coverage_json(coverage: &Coverage) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(coverage).expect("coverage serialises");
    bytes.push(b'\n');
    bytes
}

impl Coverage {
    /// One line for people: `8 expected, 7 collected, 1 failed (…)`.
    pub(crate) fn summary(&self) -> String {
        let mut line = format!(
            "{} account(s) expected (active in org.json), {} collected, {} failed",
            self.expected.len(),
            self.collected.len(),
            self.failed.len()
        );
        if !self.out_of_scope.is_empty() {
            line.push_str(&format!(", {} out of scope", self.out_of_scope.len()));
        }
        if !self.unexpected.is_empty() {
            line.push_str(&format!(
                ", evidence from {} account(s) not in the organization: {}",
                self.unexpected.len(),
                self.unexpected.join(", ")
            ));
        }
        line
    }
}

/// Checks the bag's record against one rebuilt from its `org.json` and the
/// evidence paths its manifest lists; each difference is a message naming
/// `data/coverage.json`.
pub(crate) fn check(recorded: &[u8], rebuilt: &Coverage) -> Result<Coverage, Vec<String>> {
    let file = COVERAGE_JSON;
    let recorded: Coverage =
        serde_json::from_slice(recorded).map_err(|e| vec![format!("{file}: unreadable ({e})")])?;
    if &recorded == rebuilt {
        return Ok(recorded);
    }
    let mut problems = Vec::new();
    let mut differs = |field: &str, a: String, b: String| {
        if a != b {
            problems.push(format!(
                "{file}: {field} is {a}, but data/org.json and the bundle's evidence give {b}"
            ));
        }
    };
    differs(
        "expected",
        format!("{:?}", recorded.expected),
        format!("{:?}", rebuilt.expected),
    );
    differs(
        "collected",
        format!("{:?}", recorded.collected),
        format!("{:?}", rebuilt.collected),
    );
    let failed = |c: &Coverage| {
        format!(
            "{:?}",
            c.failed.iter().map(|f| &f.account_id).collect::<Vec<_>>()
        )
    };
    differs("failed", failed(&recorded), failed(rebuilt));
    differs(
        "evidence_files",
        format!("{:?}", recorded.evidence_files),
        format!("{:?}", rebuilt.evidence_files),
    );
    if problems.is_empty() {
        problems.push(format!(
            "{file}: differs from the record rebuilt from data/org.json and the evidence"
        ));
    }
    Err(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Org {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "organization": {"id": "o-x", "arn": "a", "management_account_id": "111111111111", "feature_set": "ALL"},
            "accounts": [
                {"id": "111111111111", "name": "m", "email": "m@x", "status": "ACTIVE", "ou_path": "Root", "role": "management", "joined_at": "t", "reachable": true},
                {"id": "222222222222", "name": "s", "email": "s@x", "status": "ACTIVE", "ou_path": "Root", "role": null, "joined_at": "t", "reachable": false},
                {"id": "333333333333", "name": "d", "email": "d@x", "status": "ACTIVE", "ou_path": "Root", "role": null, "joined_at": "t"},
                {"id": "444444444444", "name": "c", "email": "c@x", "status": "SUSPENDED", "ou_path": "Root", "role": null, "joined_at": "t"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn expected_collected_failed() {
        let c = coverage(
            &org(),
            [
                "111111111111/global/iam/GetAccountSummary.json",
                "111111111111/us-east-1/config/DescribeConfigurationRecorders.json",
                "222222222222/global/sts/AssumeRole.json",
                "999999999999/global/iam/GetAccountSummary.json",
            ],
        );
        assert_eq!(c.expected, ["111111111111", "222222222222", "333333333333"]);
        assert_eq!(c.collected, ["111111111111"]);
        let failed: Vec<&str> = c.failed.iter().map(|f| f.account_id.as_str()).collect();
        assert_eq!(failed, ["222222222222", "333333333333"]);
        assert!(c.failed[0].reason.contains("could not be assumed"));
        assert!(c.failed[1]
            .reason
            .contains("outside this run's --ou/--accounts"));
        assert_eq!(c.out_of_scope, ["444444444444"]);
        assert_eq!(c.unexpected, ["999999999999"]);
        assert_eq!(c.evidence_files["111111111111"], 2);
        assert!(check(&coverage_json(&c), &c).is_ok());

        let mut edited = c.clone();
        edited.failed.clear();
        edited.collected.push("222222222222".into());
        let problems = check(&coverage_json(&edited), &c).unwrap_err();
        assert!(
            problems
                .iter()
                .all(|p| p.starts_with("data/coverage.json: ")),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
