//! Which accounts one collection run covers: the whole organization, or one
//! shard of it (`collect --ou … --accounts …`), so that a large organization
//! can be collected by several CI jobs and merged (`auditpack merge`).
//!
//! The scope is recorded in `run.json`: a shard's evidence says what it set out
//! to cover, and an account it left out is NOT ASSESSED, never silently absent.

use serde::{Deserialize, Serialize};

use super::{Account, Org};

/// A `--ou`/`--accounts` selection that names nothing: the run stops (a typo
/// must not produce a shard that quietly covers less). Each variant names the
/// flag and the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// No active account is in or under the OU path.
    #[error(
        "--ou {ou:?} selects no active account; the organization's OU paths are: {}",
        .known.join(", ")
    )]
    EmptyOu {
        /// The OU path given.
        ou: String,
        /// The OU paths of the active accounts, sorted, to spot the typo.
        known: Vec<String>,
    },
    /// The account exists but is suspended or closed.
    #[error("--accounts {id}: the account is not active")]
    InactiveAccount {
        /// The account id given.
        id: String,
    },
    /// The organization has no such account.
    #[error("--accounts {id}: no such account in organization {organization_id}")]
    UnknownAccount {
        /// The account id given.
        id: String,
        /// The organization searched.
        organization_id: String,
    },
}

/// A shard's selection. Empty (both lists empty) means the whole organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// OU paths from the root (`Root/Workloads`): each selects the accounts in
    /// that OU and every OU below it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ou: Vec<String>,
    /// Account ids selected one by one (e.g. the management account, which
    /// sits in `Root` itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

impl Scope {
    /// A scope from the command line; OU paths lose a trailing `/`.
    pub fn new(ou: &[String], accounts: &[String]) -> Self {
        let mut ou: Vec<String> = ou
            .iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        let mut accounts = accounts.to_vec();
        ou.sort();
        ou.dedup();
        accounts.sort();
        accounts.dedup();
        Self { ou, accounts }
    }

    /// No selection: every active account.
    pub fn is_whole_organization(&self) -> bool {
        self.ou.is_empty() && self.accounts.is_empty()
    }

    /// Whether this run collects `account` (active or not; callers filter).
    pub fn selects(&self, account: &Account) -> bool {
        self.is_whole_organization()
            || self.accounts.contains(&account.id)
            || self.ou.iter().any(|ou| is_within(&account.ou_path, ou))
    }

    /// Refuses a selection that names nothing: an OU path with no active
    /// account in or under it, or an id that is not an active account. A typo
    /// must stop the run, not produce a shard that quietly covers less.
    pub fn check_against(&self, org: &Org) -> Result<(), ScopeError> {
        for ou in &self.ou {
            if !org.active_accounts().any(|a| is_within(&a.ou_path, ou)) {
                return Err(ScopeError::EmptyOu {
                    ou: ou.clone(),
                    known: active_ou_paths(org),
                });
            }
        }
        for id in &self.accounts {
            match org.account(id) {
                Some(account) if account.is_active() => {}
                Some(_) => return Err(ScopeError::InactiveAccount { id: id.clone() }),
                None => {
                    return Err(ScopeError::UnknownAccount {
                        id: id.clone(),
                        organization_id: org.organization.id.clone(),
                    })
                }
            }
        }
        Ok(())
    }

    /// The union of several shards' selections.
    pub(crate) fn union<'a>(scopes: impl IntoIterator<Item = &'a Scope>) -> Scope {
        let (mut ou, mut accounts) = (Vec::new(), Vec::new());
        for scope in scopes {
            ou.extend(scope.ou.iter().cloned());
            accounts.extend(scope.accounts.iter().cloned());
        }
        Scope::new(&ou, &accounts)
    }
}

/// The OU paths holding an active account, sorted and deduplicated.
fn active_ou_paths(org: &Org) -> Vec<String> {
    let mut known: Vec<String> = org.active_accounts().map(|a| a.ou_path.clone()).collect();
    known.sort_unstable();
    known.dedup();
    known
}

/// `Root/Workloads/Prod` is within `Root/Workloads`; `Root/WorkloadsOld` is not.
fn is_within(path: &str, ou: &str) -> bool {
    path == ou
        || path
            .strip_prefix(ou)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{AccountStatus, Organization};

    fn account(id: &str, ou_path: &str, status: AccountStatus) -> Account {
        Account {
            id: id.into(),
            name: id.into(),
            email: format!("{id}@example.com"),
            status,
            ou_path: ou_path.into(),
            role: None,
            joined_at: "2026-01-01T00:00:00Z".into(),
            tags: Default::default(),
            reachable: None,
        }
    }

    fn org() -> Org {
        Org {
            schema_version: 1,
            organization: Organization {
                id: "o-abc".into(),
                arn: "arn:aws:organizations::111111111111:organization/o-abc".into(),
                management_account_id: "111111111111".into(),
                feature_set: "ALL".into(),
            },
            accounts: vec![
                account("111111111111", "Root", AccountStatus::Active),
                account("222222222222", "Root/Workloads/Prod", AccountStatus::Active),
                account("333333333333", "Root/WorkloadsOld", AccountStatus::Active),
                account("444444444444", "Root/Closed", AccountStatus::Suspended),
            ],
        }
    }

    /// An account is found by its id whether `org.json` lists the accounts
    /// sorted by id (a binary search) or not (a walk), and no other id finds one.
    #[test]
    fn accounts_are_found_by_id_sorted_or_not() {
        let mut org = org();
        let ids: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
        for order in ["sorted", "reversed"] {
            for id in &ids {
                let found = org.account(id).map(|a| a.id.as_str());
                assert_eq!(found, Some(id.as_str()), "{order}");
            }
            for missing in ["", "000000000000", "222222222223", "999999999999"] {
                assert!(org.account(missing).is_none(), "{order}: {missing}");
            }
            org.accounts.reverse();
        }
    }

    #[test]
    fn an_ou_selects_itself_and_what_is_below_it_only() {
        let org = org();
        let scope = Scope::new(&["Root/Workloads/".into()], &[]);
        let selected: Vec<&str> = org
            .accounts
            .iter()
            .filter(|a| scope.selects(a))
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(selected, ["222222222222"]);
        assert_eq!(scope.ou, ["Root/Workloads"]);
        assert!(Scope::new(&["Root".into()], &[]).selects(&org.accounts[2]));
    }

    #[test]
    fn no_selection_is_the_whole_organization_and_ids_select_one_account() {
        let org = org();
        assert!(org.accounts.iter().all(|a| Scope::default().selects(a)));
        let management = Scope::new(&[], &["111111111111".into()]);
        assert!(management.selects(&org.accounts[0]));
        assert!(!management.selects(&org.accounts[1]));
    }

    #[test]
    fn a_selection_that_names_nothing_is_refused() {
        let org = org();
        let typo = Scope::new(&["Root/Workload".into()], &[]);
        let err = typo.check_against(&org).unwrap_err().to_string();
        assert!(
            err.contains("\"Root/Workload\" selects no active account"),
            "{err}"
        );
        assert!(err.contains("Root/Workloads/Prod"), "{err}");
        let suspended = Scope::new(&["Root/Closed".into()], &[]);
        assert!(suspended.check_against(&org).is_err());
        let unknown = Scope::new(&[], &["999999999999".into()]);
        assert_eq!(
            unknown.check_against(&org).unwrap_err().to_string(),
            "--accounts 999999999999: no such account in organization o-abc"
        );
        let inactive = Scope::new(&[], &["444444444444".into()]);
        assert_eq!(
            inactive.check_against(&org),
            Err(ScopeError::InactiveAccount {
                id: "444444444444".into()
            })
        );
        let good = Scope::new(&["Root/Workloads".into()], &["111111111111".into()]);
        assert_eq!(good.check_against(&org), Ok(()));
    }

    #[test]
    fn union_joins_and_sorts() {
        let a = Scope::new(&["Root/B".into()], &["2".into()]);
        let b = Scope::new(&["Root/A".into(), "Root/B".into()], &["1".into()]);
        assert_eq!(
            Scope::union([&a, &b]),
            Scope {
                ou: vec!["Root/A".into(), "Root/B".into()],
                accounts: vec!["1".into(), "2".into()],
            }
        );
    }
}
