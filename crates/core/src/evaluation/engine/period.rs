//! The period side of a control (SOC 2 Type II): for a control that declares
//! the `changes` that could break it, every such change made during the
//! audit period in the item's account × region, from CloudTrail's event
//! history (`cloudtrail:LookupEvents`, qualifier `changes`).
//!
//! A change by a trusted principal (`[changes] trusted_principals`) is a
//! managed change; anyone else's successful change is an exception, FAIL,
//! with who, when, from where, what, and when the setting was restored (the
//! control's `restored_by`); a refused attempt is evidence the guardrail held.
//! The part of the period the history does not reach is NOT ASSESSED for the
//! period, named with its dates, never assumed quiet. The verdict is one more
//! requirement of the item, `period-changes`, so the item's status is the
//! worse of the point-in-time and the period verdicts everywhere results are
//! read (gate, JUnit, SARIF, waivers).

use super::*;
use crate::catalog::cloudtrail::CHANGES_QUALIFIER;
use crate::evaluation::control::ChangeEvent;

/// The id of the period requirement every control with `changes` gets.
pub(crate) const PERIOD_REQUIREMENT: &str = "period-changes";

/// Exceptions listed in a message; the rest are counted (all are in results.json).
const LISTED_EXCEPTIONS: usize = 5;

/// The period requirement of `control`, as the report and results list it.
pub(super) fn period_assertion_info(control: &Control) -> Option<AssertionInfo> {
    (!control.changes.is_empty()).then(|| AssertionInfo {
        id: PERIOD_REQUIREMENT.into(),
        requirement: "During the audit period, no change that could break the control was made outside the trusted change process".into(),
        for_each: None,
        expect: format!(
            "no successful event by an untrusted principal among: {}",
            control.changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// The period requirement's verdict for one item, its findings and the file it read.
pub(super) struct PeriodChecked {
    pub(super) assertion: AssertionResult,
    pub(super) period: ItemPeriod,
    pub(super) evidence: Option<EvidenceRef>,
}

impl Evaluator<'_> {
    /// The period requirement for `account` (× `region`), or `None` when the
    /// control declares no changes.
    pub(super) fn period_check(
        &self,
        control: &Control,
        account: &Account,
        region: Option<&str>,
        place: &str,
    ) -> Option<PeriodChecked> {
        if control.changes.is_empty() {
            return None;
        }
        let read_in = control.change_events_region(region, &self.run.home_region);
        let where_ = match control.regions {
            RegionSelector::Each => read_in.clone(),
            RegionSelector::Global => {
                format!("{read_in}, where global services record their events")
            }
            RegionSelector::Home => format!("{read_in}, the home region"),
        };
        let region_dir = RegionDir::Region(read_in);
        let key = EvidenceKey {
            account_id: account.id.clone(),
            region: region_dir,
            service: "cloudtrail".into(),
            operation: "LookupEvents".into(),
            qualifier: Some(CHANGES_QUALIFIER.into()),
        };
        let not_assessed = |reason: String, evidence: Option<EvidenceRef>| PeriodChecked {
            assertion: AssertionResult {
                id: PERIOD_REQUIREMENT.into(),
                status: Verdict::NotAssessed,
                message: format!("Changes during the period — not assessed: {reason}"),
            },
            period: ItemPeriod::default(),
            evidence,
        };
        let Some(period) = &self.run.period_dates else {
            return Some(not_assessed(
                "run.json has no period dates (collected before periods were dates)".into(),
                None,
            ));
        };
        let Some(doc) = self.store.get(&key) else {
            return Some(not_assessed(
                format!("evidence {} was not collected", key.relative_path()),
                None,
            ));
        };
        let cited = Some(evidence_ref(&doc));
        let data = match self.usable_json(&doc) {
            Ok(data) => data,
            Err(problem) => return Some(not_assessed(problem.to_string(), cited)),
        };
        let findings = changes_of(data, &control.changes, &control.restored_by, self.changes);
        let uncovered = uncovered_part(data, &period.start);
        let assertion = period_verdict(&findings, uncovered.as_deref(), place, &where_);
        Some(PeriodChecked {
            assertion,
            period: ItemPeriod {
                window: window_of(data),
                uncovered,
                ..findings
            },
            evidence: cited,
        })
    }
}

/// The window the history covered, as recorded with the answer.
fn window_of(data: &Json) -> Option<CollectionWindow> {
    Some(CollectionWindow {
        start: data["Window"]["StartTime"].as_str()?.to_string(),
        end: data["Window"]["EndTime"].as_str()?.to_string(),
    })
}

/// The part of the period before the window (`<period start> to <window
/// start>`), when the history does not reach the period's start. No window
/// recorded: the whole period is uncovered.
fn uncovered_part(data: &Json, period_start: &str) -> Option<String> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let start = data["Window"]["StartTime"].as_str();
    match (start.and_then(parse), parse(period_start)) {
        (Some(from), Some(period)) if from <= period => None,
        (Some(_), Some(_)) => Some(format!("{period_start} to {}", start.unwrap_or_default())),
        _ => Some(format!("{period_start} onwards (no window recorded)")),
    }
}

/// The declared changes among the events, classified, oldest first.
fn changes_of(
    data: &Json,
    declared: &[ChangeEvent],
    restored_by: &BTreeMap<String, String>,
    trusted: &crate::evaluation::config::ChangeSettings,
) -> ItemPeriod {
    let mut events: Vec<&Json> = data["Events"].as_array().into_iter().flatten().collect();
    events.sort_by(|a, b| a["eventTime"].as_str().cmp(&b["eventTime"].as_str()));
    let mut period = ItemPeriod::default();
    for event in &events {
        let (Some(source), Some(name)) =
            (event["eventSource"].as_str(), event["eventName"].as_str())
        else {
            continue;
        };
        if !declared
            .iter()
            .any(|d| d.source == source && d.name == name)
        {
            continue;
        }
        let mut record = change_record(event);
        if record.error_code.is_some() {
            period.refused.push(record);
        } else if [&record.session_issuer, &record.principal]
            .into_iter()
            .flatten()
            .any(|arn| trusted.trusts(arn))
        {
            period.managed.push(record);
        } else {
            record.restored_at = restored_by
                .get(name)
                .and_then(|undo| restoring_event(&events, source, undo, &record.time));
            period.exceptions.push(record);
        }
    }
    period
}

/// When the first successful `undo` event after `after` happened.
fn restoring_event(events: &[&Json], source: &str, undo: &str, after: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            e["eventSource"] == source && e["eventName"] == undo && e.get("errorCode").is_none()
        })
        .filter_map(|e| e["eventTime"].as_str())
        .find(|t| *t > after)
        .map(String::from)
}

/// One raw CloudTrail record, as an auditor samples it.
fn change_record(event: &Json) -> ChangeRecord {
    let text = |v: &Json| v.as_str().map(String::from);
    let identity = &event["userIdentity"];
    ChangeRecord {
        time: text(&event["eventTime"]).unwrap_or_default(),
        event: format!(
            "{}:{}",
            event["eventSource"].as_str().unwrap_or_default(),
            event["eventName"].as_str().unwrap_or_default()
        ),
        event_id: text(&event["eventID"]),
        identity_type: text(&identity["type"]),
        principal: text(&identity["arn"]),
        session_issuer: text(&identity["sessionContext"]["sessionIssuer"]["arn"]),
        mfa: match identity["sessionContext"]["attributes"]["mfaAuthenticated"].as_str() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
        source_ip: text(&event["sourceIPAddress"]),
        request_parameters: event
            .get("requestParameters")
            .filter(|v| !v.is_null())
            .cloned(),
        error_code: text(&event["errorCode"]),
        restored_at: None,
        waiver: None,
    }
}

/// FAIL on an exception; else NOT ASSESSED when part of the period is not
/// covered; else PASS (managed changes and refused attempts are listed, not
/// findings).
fn period_verdict(
    period: &ItemPeriod,
    uncovered: Option<&str>,
    place: &str,
    where_: &str,
) -> AssertionResult {
    let requirement = "Changes during the period";
    let gap = uncovered.map(|u| {
        format!("{requirement} — not assessed: the event history of {place} does not reach the period from {u}")
    });
    let (status, message) = if !period.exceptions.is_empty() {
        let listed: Vec<String> = (period.exceptions.iter().take(LISTED_EXCEPTIONS))
            .map(describe)
            .collect();
        let more = period.exceptions.len().saturating_sub(LISTED_EXCEPTIONS);
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        let mut message = format!(
            "{requirement} — {} change(s) outside the trusted change process in {place}, read in {where_}: {}{more}. Each is an exception of the period.",
            period.exceptions.len(),
            listed.join("; ")
        );
        if let Some(gap) = gap {
            message = format!("{message}\n{gap}");
        }
        (Verdict::Fail, message)
    } else if let Some(gap) = gap {
        (Verdict::NotAssessed, gap)
    } else {
        (Verdict::Pass, String::new())
    };
    AssertionResult {
        id: PERIOD_REQUIREMENT.into(),
        status,
        message,
    }
}

/// `StopLogging at T by ARN (IAMUser, no MFA) from IP; restored at T2`.
fn describe(c: &ChangeRecord) -> String {
    let who = c
        .session_issuer
        .as_ref()
        .or(c.principal.as_ref())
        .map_or("an unknown principal", String::as_str);
    let mut traits: Vec<&str> = c.identity_type.iter().map(String::as_str).collect();
    match c.mfa {
        Some(true) => traits.push("MFA"),
        Some(false) => traits.push("no MFA"),
        None => {}
    }
    let from = c
        .source_ip
        .as_ref()
        .map(|ip| format!(" from {ip}"))
        .unwrap_or_default();
    let restored = match &c.restored_at {
        Some(t) => format!(", restored at {t}"),
        None => ", not restored in the window".into(),
    };
    let name = c.event.rsplit(':').next().unwrap_or(&c.event);
    format!(
        "{name} at {} by {who} ({}){from}{restored}",
        c.time,
        traits.join(", ")
    )
}
