//! `results.json`: the pure, serialisable outcome of an evaluation. Every output
//! (report, bundle, gate) reads this type; nothing else decides a verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Severity, Status};
use crate::evidence::ToolInfo;

/// A piece of evidence an item's verdict rests on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Path relative to the evidence root (inside a bundle: under `data/evidence/`).
    pub path: String,
    /// SHA-256 of the file, as read during evaluation.
    pub sha256: String,
}

/// The verdict of one requirement for one scope item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionResult {
    /// The assertion's id.
    pub id: String,
    /// Its verdict.
    pub status: Status,
    /// What failed, or what could not be assessed; empty on a pass.
    pub message: String,
}

/// The verdict of one control for one account (or account × region).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    /// The account.
    pub account_id: String,
    /// Its name, for readers.
    pub account_name: String,
    /// The region, `null` for a global check.
    pub region: Option<String>,
    /// Combined verdict of every assertion.
    pub status: Status,
    /// One line (or a few) saying why.
    pub message: String,
    /// Per-requirement verdicts.
    pub assertions: Vec<AssertionResult>,
    /// Every evidence file read for this item.
    pub evidence: Vec<EvidenceRef>,
}

/// An assertion as shown to auditors: the requirement and the exact test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionInfo {
    /// Id.
    pub id: String,
    /// Requirement in plain words.
    pub requirement: String,
    /// The resources it iterates over (CEL), if any.
    pub for_each: Option<String>,
    /// The CEL expression that must hold.
    pub expect: String,
}

/// A control's outcome across its whole population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    /// Control id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Trust Services Criteria.
    pub tsc: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// PASS only when every scope item passes.
    pub status: Status,
    /// Control-level note: why it is disabled or why it has no population.
    pub message: Option<String>,
    /// Objective.
    pub objective: String,
    /// Test procedure.
    pub procedure: String,
    /// Which accounts (`all` or a role).
    pub scope_accounts: String,
    /// Which regions (`global`, `home`, `each`).
    pub scope_regions: String,
    /// Parameters used.
    pub params: BTreeMap<String, serde_json::Value>,
    /// The requirements and their tests.
    pub assertions: Vec<AssertionInfo>,
    /// The control file, relative to the controls folder (inside a bundle: `data/controls/`).
    pub file: String,
    /// One entry per scope item.
    pub results: Vec<ItemResult>,
}

/// Counts by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// PASS.
    pub pass: usize,
    /// FAIL.
    pub fail: usize,
    /// NOT_ASSESSED.
    pub not_assessed: usize,
    /// DISABLED.
    pub disabled: usize,
}

impl Counts {
    /// Counts a list of verdicts.
    pub fn of(statuses: impl IntoIterator<Item = Status>) -> Counts {
        let mut c = Counts::default();
        for s in statuses {
            match s {
                Status::Pass => c.pass += 1,
                Status::Fail => c.fail += 1,
                Status::NotAssessed => c.not_assessed += 1,
                Status::Disabled => c.disabled += 1,
            }
        }
        c
    }

    /// Total.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.not_assessed + self.disabled
    }
}

/// Summary counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// By control.
    pub controls: Counts,
    /// By scope item (control × account × region).
    pub items: Counts,
}

/// When the evidence was collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionWindow {
    /// `run.json` `started_at`.
    pub start: String,
    /// `run.json` `finished_at`.
    pub end: String,
}

/// Contents of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Format version.
    pub schema_version: u32,
    /// Tool that evaluated.
    pub tool: ToolInfo,
    /// `o-…`.
    pub organization_id: String,
    /// Management account id.
    pub management_account_id: String,
    /// Period label from `run.json`.
    pub period: String,
    /// Taken from `run.json` (`finished_at`), not the wall clock, so the same
    /// evidence always gives the same results.
    pub generated_at: String,
    /// Collection window.
    pub collection_window: CollectionWindow,
    /// The home region.
    pub home_region: String,
    /// Regions in scope.
    pub regions: Vec<String>,
    /// Counts.
    pub summary: Summary,
    /// Every control, sorted by id.
    pub controls: Vec<ControlResult>,
}
