//! `run.json`: what one collection run was, so dates in results and reports come
//! from the evidence and not from the wall clock (which keeps bundles reproducible).

use serde::{Deserialize, Serialize};

use crate::org::Scope;

/// The collecting tool, as recorded in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    /// Tool name (`auditpack`).
    pub name: String,
    /// Tool version.
    pub version: String,
}

/// Contents of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// Format version.
    pub schema_version: u32,
    /// The tool that collected.
    pub tool: ToolInfo,
    /// The audit period label, e.g. `2026-Q4`.
    pub period: String,
    /// The period's first and last instants, resolved from the label
    /// (absent in runs recorded before periods were dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_dates: Option<super::period::PeriodDates>,
    /// When collection started, RFC 3339 UTC.
    pub started_at: String,
    /// When collection ended, RFC 3339 UTC.
    pub finished_at: String,
    /// The home region (where global calls and the organization trail live).
    pub home_region: String,
    /// Every region collected.
    pub regions: Vec<String>,
    /// The command line of the run (credentials are never passed on it).
    pub command_line: Vec<String>,
    /// ARN of the identity that ran the collection in the management account.
    pub caller_arn: String,
    /// The accounts this run set out to collect; absent for the whole
    /// organization (`collect --ou/--accounts` make a shard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// For a tree made by `auditpack merge`: the shard runs it joins, in the
    /// order given. Empty for a tree written by one `collect`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardRun>,
}

/// One shard of a merged run, as its own `run.json` recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRun {
    /// The shard's evidence folder, as given to `merge`.
    pub folder: String,
    /// When the shard's collection started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Its command line.
    pub command_line: Vec<String>,
    /// The identity that collected it.
    pub caller_arn: String,
    /// What it set out to collect (absent: the whole organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The accounts whose folders the merged tree took from this shard.
    pub accounts: Vec<String>,
    /// Files of this shard left out of the merged tree: discovery evidence in
    /// an account folder another shard owns (that shard's copy is kept).
    pub files_not_copied: Vec<String>,
}
