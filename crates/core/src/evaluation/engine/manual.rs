//! Manual controls: the criteria no API evidences (policies, training,
//! access reviews, vendor risk, incident response tests) judged from the
//! attachments that name them.
//!
//! One scope item, the organization (held by the management account), three
//! requirements in order:
//!
//! 1. `attachment-present`: an attachment names the control;
//! 2. `attributed`: one of them names its owner and who reviewed it;
//! 3. `current`: an attributed one is dated as the rule asks (within
//!    `max_age_days` before the period's end, or before the collection while
//!    the period runs; inside the audit period when `within_period`).
//!
//! PASS only when all three hold. No attachment, or none attributed, is NOT
//! ASSESSED (nothing attributable shows the control operated: never a silent
//! pass). An attributed attachment that is too old or outside the period is
//! FAIL: the organization's own record shows the activity did not happen
//! when it had to.

use chrono::NaiveDate;

use super::{control_header, Control, ControlResult};
use crate::evaluation::control::ManualRule;
use crate::evaluation::results::{AssertionInfo, AssertionResult, EvidenceRef, ItemResult};
use crate::evaluation::Verdict;
use crate::evidence::attachments::Attachment;
use crate::evidence::RunInfo;
use crate::org::Org;

const PRESENT: &str = "attachment-present";
const ATTRIBUTED: &str = "attributed";
const CURRENT: &str = "current";

/// The requirements of a manual control, as the report and results show them.
pub(super) fn manual_assertions(control: &Control, rule: &ManualRule) -> Vec<AssertionInfo> {
    let mut when = Vec::new();
    if let Some(days) = rule.max_age_days {
        when.push(format!(
            "date >= reference - {days} days && date <= reference"
        ));
    }
    if rule.within_period {
        when.push("date within the audit period".to_string());
    }
    vec![
        AssertionInfo {
            id: PRESENT.into(),
            requirement: format!("An attachment supports this control: {}", rule.requires),
            for_each: None,
            expect: format!("attachments/*.meta.toml: '{}' in controls", control.id),
        },
        AssertionInfo {
            id: ATTRIBUTED.into(),
            requirement: "The attachment names its owner and who reviewed it".into(),
            for_each: None,
            expect: "owner != '' && reviewed_by != ''".into(),
        },
        AssertionInfo {
            id: CURRENT.into(),
            requirement: current_requirement(rule),
            for_each: None,
            expect: format!(
                "{} (reference: the period's last day, or the collection day while the period runs)",
                when.join(" && ")
            ),
        },
    ]
}

fn current_requirement(rule: &ManualRule) -> String {
    match (rule.max_age_days, rule.within_period) {
        (Some(days), true) => format!("An attributed attachment is dated inside the audit period, at most {days} days before its end"),
        (Some(days), false) => format!("An attributed attachment is dated at most {days} days before the period's end"),
        (None, _) => "An attributed attachment is dated inside the audit period".into(),
    }
}

/// The control's result over the attachments that name it.
pub(super) fn manual_result(
    control: &Control,
    rule: &ManualRule,
    params: std::collections::BTreeMap<String, serde_json::Value>,
    attachments: &[Attachment],
    org: &Org,
    run: &RunInfo,
) -> ControlResult {
    let mut result = control_header(control, params);
    result.assertions = manual_assertions(control, rule);
    let management = &org.organization.management_account_id;
    let naming: Vec<&Attachment> = attachments
        .iter()
        .filter(|a| a.controls.contains(&control.id))
        .collect();
    let evidence: Vec<EvidenceRef> = (naming.iter())
        .flat_map(|a| {
            [
                EvidenceRef {
                    path: a.file.clone(),
                    sha256: a.sha256.clone(),
                },
                EvidenceRef {
                    path: a.metadata_file.clone(),
                    sha256: a.metadata_sha256.clone(),
                },
            ]
        })
        .collect();
    let verdicts = judge(control, rule, &naming, run);
    let status = Verdict::all_of(verdicts.iter().map(|a| a.status));
    let message = (verdicts.iter())
        .filter(|a| a.status != Verdict::Pass)
        .map(|a| a.message.clone())
        .collect::<Vec<_>>()
        .join("\n");
    result.results.push(ItemResult {
        account_id: management.clone(),
        account_name: org
            .account(management)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        region: None,
        status,
        message,
        assertions: verdicts,
        evidence,
        waiver: None,
        period: None,
    });
    result.status = status;
    result
}

/// The three requirements' verdicts.
fn judge(
    control: &Control,
    rule: &ManualRule,
    naming: &[&Attachment],
    run: &RunInfo,
) -> Vec<AssertionResult> {
    let verdict = |id: &str, status: Verdict, message: String| AssertionResult {
        id: id.into(),
        status,
        message,
    };
    let na = |id: &str, why: &str| {
        verdict(
            id,
            Verdict::NotAssessed,
            format!("{} — not assessed: {why}", requirement_of(id, rule)),
        )
    };
    if naming.is_empty() {
        let why = format!(
            "no attachment names {} (add the record to attachments/ with a metadata file listing it in controls; docs/workpapers.md)",
            control.id
        );
        return vec![
            na(PRESENT, &why),
            na(ATTRIBUTED, "no attachment"),
            na(CURRENT, "no attachment"),
        ];
    }
    let names = naming
        .iter()
        .map(|a| a.file.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let present = verdict(PRESENT, Verdict::Pass, String::new());
    let attributed: Vec<&&Attachment> = naming.iter().filter(|a| a.attributed()).collect();
    if attributed.is_empty() {
        let why = format!(
            "{names} does not name its owner and reviewer (owner, reviewed_by in its metadata)"
        );
        return vec![
            present,
            na(ATTRIBUTED, &why),
            na(CURRENT, "no attributed attachment"),
        ];
    }
    let attributed_ok = verdict(ATTRIBUTED, Verdict::Pass, String::new());
    let window = match window(rule, run) {
        Ok(w) => w,
        Err(why) => return vec![present, attributed_ok, na(CURRENT, &why)],
    };
    let mut latest: Option<(&Attachment, NaiveDate)> = None;
    for a in &attributed {
        let Ok(date) = NaiveDate::parse_from_str(&a.date, "%Y-%m-%d") else {
            continue;
        };
        if window.0 <= date && date <= window.1 {
            return vec![
                present,
                attributed_ok,
                verdict(CURRENT, Verdict::Pass, String::new()),
            ];
        }
        if latest.is_none_or(|(_, d)| date > d) {
            latest = Some((a, date));
        }
    }
    let current = match latest {
        Some((a, date)) => verdict(
            CURRENT,
            Verdict::Fail,
            format!(
                "{} — not met: the latest attributed attachment, {} (owner {}, reviewed by {}), is dated {date}, outside {} to {}. The record shows the activity did not happen when it had to.",
                requirement_of(CURRENT, rule), a.file, a.owner, a.reviewed_by, window.0, window.1
            ),
        ),
        None => na(CURRENT, "no attributed attachment has a readable date"),
    };
    vec![present, attributed_ok, current]
}

fn requirement_of(id: &str, rule: &ManualRule) -> String {
    match id {
        PRESENT => format!("An attachment supports this control: {}", rule.requires),
        ATTRIBUTED => "The attachment names its owner and who reviewed it".into(),
        _ => current_requirement(rule),
    }
}

/// The first and last acceptable date. The reference is the period's last
/// day, or the collection day while the period had not ended; nothing dated
/// after the collection counts.
fn window(rule: &ManualRule, run: &RunInfo) -> Result<(NaiveDate, NaiveDate), String> {
    let day = |t: &str| NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d").ok();
    let collected = day(&run.finished_at).ok_or("run.json's finished_at is not a date")?;
    let period = run
        .period_dates
        .as_ref()
        .and_then(|p| Some((day(&p.start)?, day(&p.end)?)));
    let reference = period.map_or(collected, |(_, end)| end.min(collected));
    let mut first = NaiveDate::MIN;
    if let Some(days) = rule.max_age_days {
        first = reference - chrono::Duration::days(i64::from(days));
    }
    if rule.within_period {
        let (start, _) = period.ok_or(
            "run.json records no period dates, so 'inside the audit period' cannot be judged",
        )?;
        first = first.max(start);
    }
    Ok((first, reference))
}
