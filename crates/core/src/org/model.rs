//! `org.json`: the organization and its account population.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The role an account plays in a multi-account Organization.
///
/// A fixed list, so that a typo in a control's scope or in `auditpack.toml` is an
/// error rather than a control that silently selects nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The management (payer) account: Organizations, billing, SSO.
    Management,
    /// Security tooling: GuardDuty and Security Hub delegated administrator.
    Security,
    /// Immutable log storage: CloudTrail and Config logs.
    LogArchive,
    /// Shared networking (Transit Gateway, DNS, egress).
    Network,
    /// Shared services (CI, artifact stores, directory).
    SharedServices,
    /// Application workloads (dev, staging, prod).
    Workload,
    /// Experiments with no production data.
    Sandbox,
}

impl Role {
    /// Every role, in the order reports list them.
    pub(crate) const ALL: [Role; 7] = [
        Role::Management,
        Role::Security,
        Role::LogArchive,
        Role::Network,
        Role::SharedServices,
        Role::Workload,
        Role::Sandbox,
    ];

    /// The role's name as written in files (`log-archive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Management => "management",
            Role::Security => "security",
            Role::LogArchive => "log-archive",
            Role::Network => "network",
            Role::SharedServices => "shared-services",
            Role::Workload => "workload",
            Role::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown account role '{s}' (known: {})", known.join(", "))
            })
    }
}

/// An account's state in Organizations (the `State` field; the older `Status`
/// field, retired by AWS on 2026-09-09, used the first three values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// In scope.
    Active,
    /// Out of scope, listed as such.
    Suspended,
    /// Out of scope, listed as such.
    PendingClosure,
    /// Closed (Organizations lists a closed account for 90 days): out of
    /// scope, listed as such.
    Closed,
}

impl AccountStatus {
    /// The state of one `Accounts[]` item of Organizations' `ListAccounts`
    /// answer: `State` (current API), else the retired `Status`.
    ///
    /// Fails closed: a state auditpack does not know (or none at all) keeps
    /// the account in scope, so its controls are evaluated or visibly NOT
    /// ASSESSED; it never silently leaves every control's population.
    pub fn from_list_accounts_item(account: &serde_json::Value) -> Self {
        let state = account["State"]
            .as_str()
            .or_else(|| account["Status"].as_str())
            .unwrap_or_default();
        match state {
            "SUSPENDED" => AccountStatus::Suspended,
            "PENDING_CLOSURE" => AccountStatus::PendingClosure,
            "CLOSED" => AccountStatus::Closed,
            _ => AccountStatus::Active,
        }
    }

    /// The state's name as written in `org.json` (`PENDING_CLOSURE`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
            AccountStatus::PendingClosure => "PENDING_CLOSURE",
            AccountStatus::Closed => "CLOSED",
        }
    }
}

/// The organization itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// `o-…` id.
    pub id: String,
    /// Organization ARN.
    pub arn: String,
    /// The management account's id.
    pub management_account_id: String,
    /// `ALL` or `CONSOLIDATED_BILLING` (SCPs need `ALL`).
    pub feature_set: String,
}

/// One member account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// 12-digit id.
    pub id: String,
    /// Account name.
    pub name: String,
    /// Root email.
    pub email: String,
    /// Status in Organizations.
    pub status: AccountStatus,
    /// OU path from the root, e.g. `Root/Workloads/Prod`.
    pub ou_path: String,
    /// The role assigned by config (the management account is found by itself); `null` when unassigned.
    pub role: Option<Role>,
    /// When the account joined, RFC 3339.
    pub joined_at: String,
    /// Account tags (untrusted text: escaped wherever shown).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Whether collection reached the account (its audit role could be assumed):
    /// written by `collect` for active accounts, absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable: Option<bool>,
}

impl Account {
    /// Active accounts are in scope; suspended and closing ones are listed but excluded.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// Contents of `org.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// Format version.
    pub schema_version: u32,
    /// The organization.
    pub organization: Organization,
    /// Every account, sorted by id.
    pub accounts: Vec<Account>,
}

impl Org {
    /// Accounts in scope (active), sorted by id.
    pub fn active_accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(|a| a.is_active())
    }

    /// Active accounts with a role.
    pub fn accounts_with_role(&self, role: Role) -> impl Iterator<Item = &Account> {
        self.active_accounts().filter(move |a| a.role == Some(role))
    }

    /// The account with this id: found by a binary search, as the accounts
    /// are sorted by id (a walk of them for each account looked up was
    /// quadratic at 10,000 accounts), and by a walk when they are not.
    pub fn account(&self, id: &str) -> Option<&Account> {
        match self.accounts.binary_search_by(|a| a.id.as_str().cmp(id)) {
            Ok(n) => Some(&self.accounts[n]),
            Err(_) => self.accounts.iter().find(|a| a.id == id),
        }
    }

    /// Account ids listed more than once, sorted. An organization holds each
    /// account once: a repeated entry would be evaluated twice, and two
    /// entries of one id with different states leave which one counts to the
    /// reader, so such an `org.json` is refused, never read.
    pub fn repeated_account_ids(&self) -> Vec<&str> {
        let mut seen = std::collections::BTreeSet::new();
        let mut repeated = std::collections::BTreeSet::new();
        for account in &self.accounts {
            if !seen.insert(account.id.as_str()) {
                repeated.insert(account.id.as_str());
            }
        }
        repeated.into_iter().collect()
    }
}
