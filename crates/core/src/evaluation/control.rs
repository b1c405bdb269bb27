//! Control definitions: the validated `Control` that evaluation can trust. The
//! file format and its validation live in `control/lint.rs`, which collects
//! *every* problem of a file, each with its line and field, so an author fixes
//! them in one pass.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::expr::Expr;
use crate::catalog::{find_operation, CallScope, OperationSpec};
use crate::org::Role;

/// Names every control can read without declaring them.
pub(crate) const BUILTIN_VARIABLES: &[&str] =
    &["account", "region", "home_region", "org", "run", "params"];

/// One problem in a control file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The field, as a dotted path (`assertions[2].expect`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the problem is the file (or folder) as a whole, not a line of it.
        match self.line {
            0 => write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.field,
                self.message
            ),
            line => write!(
                f,
                "{}:{line}: {}: {}",
                self.file.display(),
                self.field,
                self.message
            ),
        }
    }
}

/// How severe a failure of the control is (used by `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Low,
    /// Should be fixed this quarter.
    Medium,
    /// A guardrail is missing.
    High,
    /// Evidence integrity or detection is at stake.
    Critical,
}

impl Severity {
    /// The name as written in files and flags (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Which accounts a control looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountSelector {
    /// Every active account.
    All,
    /// Active accounts with this role (the management account is always `management`).
    Role(Role),
}

/// Which regions a control looks at in each of its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionSelector {
    /// Once per account (global services).
    Global,
    /// The run's home region only.
    Home,
    /// Every region of the run.
    Each,
}

/// Whose evidence a binding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRef {
    /// The scope item's own account.
    Scope,
    /// The account with this role (exactly one must exist).
    Role(Role),
    /// Every active account, bound as a map account id → data, for controls
    /// that compare an account with others (`baseline.consistency`). An
    /// account whose document cannot be used is left out of the map (it
    /// only narrows the comparison), except the scope item's own: when that
    /// one is unusable the binding is unavailable for the item (NOT ASSESSED
    /// with the reason), so no account is judged without its own evidence.
    All,
}

/// Which region folder a binding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRef {
    /// The scope item's region.
    Scope,
    /// The home region.
    Home,
    /// The `global` folder.
    Global,
}

/// Which qualified documents a binding reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QualifierRef {
    /// The operation takes no qualifier.
    None,
    /// Every qualified document, bound as a map qualifier → data.
    All,
    /// `qualifier = "account"`: only the document qualified by the scope
    /// item's account id (an operation called once per account, such as
    /// Organizations' ListTagsForResource), bound as the same one-entry map
    /// `{ <account id>: data }`, so `tags[account.id]` reads it either way. The
    /// item then cites its own document, not every account's: with `"*"` each
    /// of N accounts cited N documents.
    ScopeAccount,
}

/// A name bound to evidence.
#[derive(Debug, Clone)]
pub struct EvidenceBinding {
    /// Variable name in expressions.
    pub name: String,
    /// The operation.
    pub operation: &'static OperationSpec,
    /// Whose evidence.
    pub account: AccountRef,
    /// Which region.
    pub region: RegionRef,
    /// Which qualified documents.
    pub qualifier: QualifierRef,
}

/// A name computed from other names before the assertions run.
#[derive(Debug, Clone)]
pub struct Define {
    /// Variable name.
    pub name: String,
    /// Its expression.
    pub expr: Expr,
}

/// What an assertion means when its `for_each` list is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenEmpty {
    /// Nothing to check is a failure (e.g. no log bucket at all).
    Fail,
    /// Nothing to check is fine (e.g. no IAM users with passwords).
    Pass,
    /// Nothing to check means the evidence is insufficient.
    NotAssessed,
}

/// One requirement of a control.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// Short id, unique in the control.
    pub id: String,
    /// The requirement in plain words.
    pub requirement: String,
    /// Optional list of resources to check one by one.
    pub for_each: Option<Expr>,
    /// Name each resource is bound to.
    pub item_var: String,
    /// How to name a resource in messages (default: the item itself).
    pub resource: Option<Expr>,
    /// Must be true for the requirement to hold.
    pub expect: Expr,
    /// Values quoted in failure messages, by label.
    pub quote: Vec<(String, Expr)>,
    /// Why a failure matters, appended to its message.
    pub message: Option<String>,
    /// Meaning of an empty `for_each`.
    pub when_empty: WhenEmpty,
    /// What `expect` being false means: a failure (the default), or, for a
    /// requirement about the evidence itself (does it cover the period?),
    /// that the rest could not be assessed (`when_false = "not_assessed"`).
    pub when_false: WhenFalse,
}

/// A CloudTrail event that changes what a control tests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeEvent {
    /// `eventSource`, e.g. `cloudtrail.amazonaws.com`.
    pub source: String,
    /// `eventName`, e.g. `StopLogging`.
    pub name: String,
}

impl std::fmt::Display for ChangeEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.name)
    }
}

/// What an assertion means when its `expect` is false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFalse {
    /// The requirement is not met: FAIL.
    Fail,
    /// The evidence does not reach far enough to judge: NOT ASSESSED, with
    /// the quoted values saying how far it reaches.
    NotAssessed,
}

impl Control {
    /// Where the change events of a scope item in `item_region` are read:
    /// its own region for a regional control, else the home region (where
    /// global services record theirs). Collection and evaluation both ask here.
    pub fn change_events_region(&self, item_region: Option<&str>, home_region: &str) -> String {
        match (self.regions, item_region) {
            (RegionSelector::Each, Some(region)) => region.to_string(),
            _ => home_region.to_string(),
        }
    }
}

impl Assertion {
    /// Every expression of the assertion, for reference checks.
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.for_each
            .iter()
            .chain(self.resource.iter())
            .chain(std::iter::once(&self.expect))
            .chain(self.quote.iter().map(|(_, e)| e))
    }
}

/// A validated control.
#[derive(Debug, Clone)]
pub struct Control {
    /// Stable id, e.g. `logarchive.immutable`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Trust Services Criteria it supports.
    pub tsc: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// What the control is for.
    pub objective: String,
    /// The auditor-facing test procedure.
    pub procedure: String,
    /// What to change when the control fails, and where in the usual
    /// Terraform layout (docs/controls.md, "Remediation") it lives: shown
    /// beside every failure, so whoever reads a finding also reads the fix.
    pub remediation: String,
    /// Accounts in scope.
    pub accounts: AccountSelector,
    /// Regions in scope.
    pub regions: RegionSelector,
    /// Parameter defaults.
    pub params: BTreeMap<String, Json>,
    /// Evidence bindings.
    pub evidence: Vec<EvidenceBinding>,
    /// Derived names, in order.
    pub defines: Vec<Define>,
    /// Requirements.
    pub assertions: Vec<Assertion>,
    /// CloudTrail event-history lookups the control reads (`Username=root`,
    /// `EventName=ConsoleLogin`): each is a `cloudtrail:LookupEvents` query,
    /// over the part of the audit period the history still holds, whose
    /// answer is the qualifier of that name.
    pub lookups: Vec<String>,
    /// The changes that could break the control, `eventSource:eventName`
    /// (`cloudtrail.amazonaws.com:StopLogging`): over the audit period, each
    /// one made outside the trusted change process is an exception of the
    /// control (see `engine::period`).
    pub changes: Vec<ChangeEvent>,
    /// For a change that switches a safeguard off, the event that switches it
    /// back on (`StopLogging` → `StartLogging`), so an exception says when the
    /// setting was restored.
    pub restored_by: BTreeMap<String, String>,
    /// The report shows its requirements × items matrix (`matrix = true`):
    /// for controls whose requirements are settings compared across accounts.
    pub matrix: bool,
    /// The file it came from (for a built-in control, `built-in/<name>.toml`).
    pub file: PathBuf,
    /// The file's exact text (bundled so results can be re-derived).
    pub source_text: String,
    /// Compiled into auditpack, or read from a `--controls` folder.
    pub origin: ControlOrigin,
    /// For a manual control (`kind = "manual"`): the attachment it needs.
    /// Such a control has no evidence bindings or assertions; it is judged
    /// from `attachments/` (see `engine::manual`).
    pub manual: Option<ManualRule>,
}

/// What a manual control requires of its attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualRule {
    /// The attachment in words (the report's requirement).
    pub requires: String,
    /// Dated at most this many days before the period's end (or before the
    /// collection, while the period runs).
    pub max_age_days: Option<u32>,
    /// Dated inside the audit period.
    pub within_period: bool,
}

/// Where a control definition came from: `controls list` shows it and
/// `results.json` records it, so an auditor can tell the shipped catalog from
/// a team's own controls (the file's SHA-256 says which version of either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlOrigin {
    /// The catalog compiled into this auditpack binary.
    BuiltIn,
    /// A file of a `--controls` folder.
    Custom,
}

impl ControlOrigin {
    /// `built-in` or `custom`, as `controls list` and `results.json` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlOrigin::BuiltIn => "built-in",
            ControlOrigin::Custom => "custom",
        }
    }
}

mod lint;

pub use lint::{parse_control, toml_to_json};
