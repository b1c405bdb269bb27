//! `run.json`: what one collection run was, so dates in results and reports come
//! from the evidence and not from the wall clock (which keeps bundles reproducible).

use serde::{Deserialize, Serialize};

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
}
