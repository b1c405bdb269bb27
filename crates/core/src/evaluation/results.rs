//! `results.json`: the pure, serialisable outcome of an evaluation. Every output
//! (report, bundle, gate) reads this type; nothing else decides a verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Severity, Verdict};
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
    pub status: Verdict,
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
    pub status: Verdict,
    /// One line (or a few) saying why.
    pub message: String,
    /// Per-requirement verdicts.
    pub assertions: Vec<AssertionResult>,
    /// Every evidence file read for this item.
    pub evidence: Vec<EvidenceRef>,
    /// The waiver that turned this item's FAIL or NOT_ASSESSED into WAIVED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// For a control that declares `changes`: what happened to it during the
    /// audit period (its verdict is the `period-changes` requirement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<ItemPeriod>,
}

/// The changes a control declares, as made in one account × region during
/// the audit period.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemPeriod {
    /// The part of the period the event history covered (`start`/`end`).
    pub window: Option<CollectionWindow>,
    /// The part of the period not covered (`<from> to <to>`), when any: not
    /// assessed for the period, never assumed quiet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncovered: Option<String>,
    /// Successful changes by a trusted principal (`[changes]` in auditpack.toml).
    pub managed: Vec<ChangeRecord>,
    /// Successful changes by anyone else: exceptions of the control.
    pub exceptions: Vec<ChangeRecord>,
    /// Changes attempted and refused (an `errorCode`): the guardrail held.
    pub refused: Vec<ChangeRecord>,
}

/// One change event, as an auditor samples it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// `eventTime`.
    pub time: String,
    /// `eventSource:eventName`.
    pub event: String,
    /// `eventID`, to find the record in the trail.
    pub event_id: Option<String>,
    /// `userIdentity.type` (IAMUser, AssumedRole, Root, …).
    pub identity_type: Option<String>,
    /// `userIdentity.arn`.
    pub principal: Option<String>,
    /// The role a session was issued from (`sessionContext.sessionIssuer.arn`).
    pub session_issuer: Option<String>,
    /// Whether the session was MFA-authenticated, where CloudTrail says.
    pub mfa: Option<bool>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `requestParameters`, as recorded.
    pub request_parameters: Option<serde_json::Value>,
    /// `errorCode`, for a refused attempt.
    pub error_code: Option<String>,
    /// When the setting was switched back (`restored_by`), for an exception.
    pub restored_at: Option<String>,
    /// The waiver that accepted this one exception (a `[[waiver]]` with its
    /// `event_id`), when any: the exception stays listed, with who accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
}

/// A waiver as applied to one item: who accepted which verdict, why, until when.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppliedWaiver {
    /// The verdict the evidence gave (FAIL or NOT_ASSESSED); never hidden.
    pub original_status: Verdict,
    /// Why the exception is accepted.
    pub reason: String,
    /// Who accepted it.
    pub approver: String,
    /// Ticket or risk-register reference.
    pub ticket: String,
    /// Last day (inclusive, `YYYY-MM-DD`) on which it waives.
    pub expires: String,
}

impl ItemResult {
    /// `account/region`, or the account alone for a global check.
    pub(crate) fn place(&self) -> String {
        match &self.region {
            Some(region) => format!("{}/{region}", self.account_id),
            None => self.account_id.clone(),
        }
    }
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
    pub status: Verdict,
    /// Control-level note: why it is disabled or why it has no population.
    pub message: Option<String>,
    /// Objective.
    pub objective: String,
    /// Test procedure.
    pub procedure: String,
    /// What to change when the control fails, and where it usually lives
    /// (absent in results written before control files carried it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
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
    /// Where the definition came from: compiled into auditpack (`built-in`)
    /// or a `--controls` folder (`custom`). Not re-derived by `verify
    /// --reevaluate` (a bundle's controls are always read from the bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::evaluation::ControlOrigin>,
    /// SHA-256 of the control file's bytes (the bundle's `data/controls/` copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// One entry per scope item.
    pub results: Vec<ItemResult>,
    /// Account × region pairs of the scope that were not judged because the
    /// account has not enabled the region (its `account:ListRegions`
    /// evidence says so): neither a pass nor NOT ASSESSED.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_scope: Vec<OutOfScope>,
    /// The control file asks the report for its requirements × items matrix.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub matrix: bool,
}

/// A region the account has not enabled, and the evidence that says so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutOfScope {
    /// Account id.
    pub account_id: String,
    /// Account name.
    pub account_name: String,
    /// The region.
    pub region: String,
    /// Its `RegionOptStatus` (`DISABLED`, `ENABLING`, …; absent when not listed).
    pub region_opt_status: Option<String>,
    /// The account's `account:ListRegions` evidence.
    pub evidence: EvidenceRef,
}

impl ControlResult {
    /// The items whose verdict `selects`, and one line for the first of them
    /// (`place: first line of its message`), or the control's own note when
    /// there is no such item: what a CI log or summary shows for the control.
    pub(crate) fn findings(&self, selects: impl Fn(Verdict) -> bool) -> (usize, String) {
        let mut matching = self.results.iter().filter(|r| selects(r.status));
        let first = matching.next();
        let count = usize::from(first.is_some()) + matching.count();
        let line = first
            .map(|r| {
                let message = r.message.lines().next().unwrap_or_default();
                format!("{}: {message}", r.place())
            })
            .or_else(|| self.message.clone())
            .unwrap_or_default();
        (count, line)
    }
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
    /// WAIVED (absent in results written before waivers existed).
    #[serde(default)]
    pub waived: usize,
}

impl Counts {
    /// Counts a list of verdicts.
    pub(crate) fn of(statuses: impl IntoIterator<Item = Verdict>) -> Counts {
        let mut c = Counts::default();
        for s in statuses {
            match s {
                Verdict::Pass => c.pass += 1,
                Verdict::Fail => c.fail += 1,
                Verdict::NotAssessed => c.not_assessed += 1,
                Verdict::Disabled => c.disabled += 1,
                Verdict::Waived => c.waived += 1,
            }
        }
        c
    }

    /// Total.
    pub(crate) fn total(&self) -> usize {
        self.pass + self.fail + self.not_assessed + self.disabled + self.waived
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

impl Summary {
    /// Counts the verdicts of `controls` and of their items.
    pub(crate) fn of(controls: &[ControlResult]) -> Summary {
        Summary {
            controls: Counts::of(controls.iter().map(|c| c.status)),
            items: Counts::of(
                controls
                    .iter()
                    .flat_map(|c| c.results.iter().map(|r| r.status)),
            ),
        }
    }
}

/// When the evidence was collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionWindow {
    /// `run.json` `started_at`.
    pub start: String,
    /// `run.json` `finished_at`.
    pub end: String,
}

/// The `results.json` version this auditpack writes. 2 added the audit
/// period as dates, the per-item `period` section (changes of the period) and
/// the `period-changes` requirement that makes an item's status the worse of
/// its point-in-time and period verdicts (`docs/results-format.md`, "Versions").
pub const RESULTS_SCHEMA_VERSION: u32 = 2;

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
    /// The period's first and last instants, from `run.json` (absent for
    /// runs recorded before periods were dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_dates: Option<crate::evidence::period::PeriodDates>,
    /// The period had not ended when the evidence was collected: the
    /// verdicts describe the period to date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub period_to_date: bool,
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
    /// The exceptions register as applied: every waiver with its state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverRecord>,
    /// Evidence no API gives (`attachments/`), with what each supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::evidence::attachments::Attachment>,
    /// Every Trust Services Criterion in scope, with the controls and
    /// attachments that evidence it, and those nothing evidences yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<super::criteria::CriterionCoverage>,
}

/// Whether a waiver took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    /// Unexpired and it waived at least one item.
    Active,
    /// Past its expiry date at collection time: it waived nothing.
    Expired,
    /// Unexpired but matched no failing or unassessed item: the exception is
    /// no longer needed (or names the wrong control, account or region).
    Stale,
}

/// One entry of the exceptions register and what it did in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverRecord {
    /// Control id.
    pub control: String,
    /// Account, or every account when absent.
    pub account: Option<String>,
    /// Region, or every region when absent.
    pub region: Option<String>,
    /// One period exception (its CloudTrail `eventID`), when the waiver
    /// accepts a single change rather than whole items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Why.
    pub reason: String,
    /// Who accepted it.
    pub approver: String,
    /// Ticket reference.
    pub ticket: String,
    /// Last valid day, `YYYY-MM-DD`.
    pub expires: String,
    /// What it did.
    pub state: WaiverState,
    /// Items it waived (active), or would have waived (expired).
    pub items: usize,
    /// Where it is written (`waivers.toml:12`).
    pub source: String,
}
