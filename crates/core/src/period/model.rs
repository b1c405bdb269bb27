//! `period.json`: the Type II period package's findings, as written and read
//! back (by `verify --reevaluate`). Documented in docs/period.md; any change a
//! reader would notice bumps [`PERIOD_SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

use super::settings::Settings;
use crate::evaluation::Verdict;
use crate::evidence::ToolInfo;

/// The `period.json` version this auditpack writes and reads.
pub const PERIOD_SCHEMA_VERSION: u32 = 1;

/// The whole of `period.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodDoc {
    /// [`PERIOD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool that derived it.
    pub tool: ToolInfo,
    /// The AWS Organization.
    pub organization_id: String,
    /// The period: label and dates.
    pub period: PeriodSpan,
    /// How the runs' signatures were checked.
    pub signatures: String,
    /// Frequencies, allowed gaps, sample sizes.
    pub settings: Settings,
    /// The sampling seed actually used (printed, so the auditor can redraw).
    pub seed: String,
    /// Counts.
    pub summary: PeriodSummary,
    /// Every run used, in time order; timelines index into this list.
    pub runs: Vec<RunEntry>,
    /// Every bundle found and not used, with the reason.
    pub excluded: Vec<Excluded>,
    /// One entry per control seen in any run, by id.
    pub controls: Vec<ControlPeriod>,
}

/// The period's label and first and last instants (RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSpan {
    /// As given (`2026-Q4`).
    pub label: String,
    /// First instant.
    pub start: String,
    /// Last instant.
    pub end: String,
}

/// Counts over the package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// Runs used.
    pub runs: usize,
    /// Bundles excluded.
    pub excluded: usize,
    /// Controls by period verdict.
    pub pass: usize,
    /// Controls that failed at some time in the period.
    pub fail: usize,
    /// Controls without evidence for part of the period.
    pub not_assessed: usize,
    /// Controls whose only failures were waived.
    pub waived: usize,
    /// Controls disabled in every run.
    pub disabled: usize,
}

/// One run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    /// Where it was found: a path below `--bundles`, or the locker key.
    pub bundle: String,
    /// SHA-256 of the bundle file.
    pub sha256: String,
    /// The evidence-locker key, when read from the locker.
    pub locker_key: Option<String>,
    /// Collection window start (`run.json` `started_at`).
    pub started_at: String,
    /// Collection window end.
    pub finished_at: String,
    /// Who signed it (`principal (fingerprint)`), empty when unsigned.
    pub signers: Vec<String>,
    /// Its controls' verdicts: pass, fail, not assessed, waived, disabled.
    pub controls: [usize; 5],
}

/// A bundle found and not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    /// Where it was found.
    pub bundle: String,
    /// SHA-256 of the file, when it could be read.
    pub sha256: Option<String>,
    /// `tampered`, `untrusted-signature`, `other-organization`,
    /// `outside-period`, `duplicate`, `unreadable`, `unsupported`.
    pub kind: String,
    /// Why, in one sentence naming the file at fault.
    pub reason: String,
}

impl Excluded {
    /// An exclusion of the bundle found at `bundle`.
    pub fn new(bundle: &str, sha256: Option<String>, kind: &str, reason: String) -> Excluded {
        Excluded {
            bundle: bundle.to_string(),
            sha256,
            kind: kind.to_string(),
            reason,
        }
    }
}

/// A stretch of days, `YYYY-MM-DD` both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Days {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Number of days.
    pub days: i64,
}

/// From the first failing run to the first passing run after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureInterval {
    /// Collection start of the first failing run.
    pub from: String,
    /// Collection start of the first passing run after it; `null` when it
    /// still failed at the last run.
    pub to: Option<String>,
    /// Runs that failed in it.
    pub failing_runs: usize,
    /// True when every failure in it was waived.
    pub waived: bool,
}

/// A change event of the period (from the runs' change evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodException {
    /// When it happened.
    pub time: String,
    /// The API call.
    pub event: String,
    /// CloudTrail event id, when recorded.
    pub event_id: Option<String>,
    /// Who made it.
    pub principal: Option<String>,
    /// The ticket of the waiver that accepted it, if any.
    pub waiver_ticket: Option<String>,
}

/// A waiver applied to the item in some run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WaiverSeen {
    /// The ticket.
    pub ticket: String,
    /// When it expires.
    pub expires: String,
    /// First and last collection start of the runs it waived.
    pub first_run: String,
    /// Last run it waived.
    pub last_run: String,
}

/// The period of one control for one account × region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPeriodFinding {
    /// The account.
    pub account_id: String,
    /// The region; `null` for a global check.
    pub region: Option<String>,
    /// The period verdict.
    pub status: Verdict,
    /// One character per run of [`PeriodDoc::runs`]: `P` pass, `F` fail,
    /// `N` not assessed, `W` waived, `D` disabled, `-` not evaluated.
    pub timeline: String,
    /// When it failed.
    pub failure_intervals: Vec<FailureInterval>,
    /// The longest stretch without evidence (within the days the account was
    /// in the organization during the period).
    pub longest_gap: Option<Days>,
    /// Stretches longer than the allowed gap.
    pub uncovered: Vec<Days>,
    /// Collection starts of the runs in which it was not assessed.
    pub not_assessed_runs: Vec<String>,
    /// Change events that were exceptions.
    pub exceptions: Vec<PeriodException>,
    /// Waivers applied to it.
    pub waivers: Vec<WaiverSeen>,
}

/// The period of one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlPeriod {
    /// Control id.
    pub id: String,
    /// Its title (from the latest run).
    pub title: String,
    /// Its frequency and allowed gap.
    pub frequency: String,
    /// Allowed gap in days.
    pub max_gap_days: u32,
    /// The period verdict.
    pub status: Verdict,
    /// One line saying why.
    pub message: String,
    /// The control's verdict in each run (same letters as items).
    pub timeline: String,
    /// When the control failed anywhere.
    pub failure_intervals: Vec<FailureInterval>,
    /// The sample of runs for the auditor.
    pub sample: Sample,
    /// Every account × region it covered in some run.
    pub items: Vec<ItemPeriodFinding>,
}

/// The runs drawn for the auditor to test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Runs in which the control was evaluated.
    pub population: usize,
    /// How many the table asks for (capped at the population).
    pub size: usize,
    /// The drawn runs' bundle SHA-256, in time order.
    pub bundles: Vec<String>,
}

/// The letter a verdict takes in a timeline.
pub fn verdict_letter(v: Verdict) -> char {
    match v {
        Verdict::Pass => 'P',
        Verdict::Fail => 'F',
        Verdict::NotAssessed => 'N',
        Verdict::Waived => 'W',
        Verdict::Disabled => 'D',
    }
}
