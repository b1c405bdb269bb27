//! The exceptions register (`waivers.toml`): failures and gaps that management
//! has accepted, each with a reason, an approver, a ticket and an expiry date.
//!
//! Why a separate step after evaluation: a waiver never changes what the
//! evidence shows. It is applied to finished [`Results`], keeps the original
//! verdict beside the WAIVED one, and is itself reported (active, expired or
//! stale), so an auditor sees every accepted exception and every lapsed one.
//!
//! Expiry is judged against the day collection finished (`run.json`), not the
//! wall clock: the same evidence and register always give the same results,
//! which is what `verify --reevaluate` relies on. A waiver is valid through its
//! expiry day.
//!
//! ```toml
//! [[waiver]]
//! control = "guardduty.enabled"
//! account = "123456789012"        # optional: every account when absent
//! region = "ap-south-1"           # optional: every region when absent
//! reason = "Region blocked by SCP; no workloads can run there."
//! approver = "Jane Roe (CISO)"
//! ticket = "RISK-214"
//! expires = 2027-03-31            # a TOML date (or the string "2027-03-31")
//! ```
//!
//! A waiver with an `event_id` accepts one change of the audit period, not
//! whole items: the exception of that CloudTrail event (a control's `changes`)
//! is marked as accepted and stays listed; the item becomes WAIVED only when
//! that was all that failed it (every other requirement passed, every
//! exception of the item is accepted, and the event history covered the whole
//! period). A second, unapproved change in the same account still fails.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::engine::PERIOD_REQUIREMENT;
use super::results::{
    AppliedWaiver, ControlResult, ItemResult, Results, Summary, WaiverRecord, WaiverState,
};
use super::{Control, LintError, Verdict};
use crate::evaluation::config::line_of;

/// One entry as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    control: Spanned<String>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    event_id: Option<Spanned<String>>,
    reason: Spanned<String>,
    approver: Spanned<String>,
    ticket: Spanned<String>,
    expires: Spanned<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
}

/// A checked waiver: its terms, as `results.json` records them (state and
/// item count are filled in when it is applied), and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Control, scope, reason, approver, ticket, expiry and `file:line`.
    pub terms: WaiverRecord,
    /// 1-based line of its `[[waiver]]` header.
    pub line: usize,
}

/// The whole register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waivers {
    /// The file, for messages and records.
    pub file: PathBuf,
    /// Entries in file order.
    pub entries: Vec<Waiver>,
}

impl Waivers {
    /// Reads and checks a register; every problem is reported with its line.
    pub fn load(path: &Path) -> Result<Waivers, Vec<LintError>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![lint(path, 0, "file", e.to_string())])?;
        Self::parse(path, &text)
    }

    /// Parses register text.
    pub fn parse(path: &Path, text: &str) -> Result<Waivers, Vec<LintError>> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = line_of(text, e.span().map(|s| s.start).unwrap_or(0));
            vec![lint(path, line, "file", e.message().trim().to_string())]
        })?;
        let mut errors = Vec::new();
        let entries = raw
            .waiver
            .iter()
            .enumerate()
            .filter_map(|(i, w)| check_entry(path, text, i, w, &mut errors))
            .collect();
        if errors.is_empty() {
            Ok(Waivers {
                file: path.to_path_buf(),
                entries,
            })
        } else {
            Err(errors)
        }
    }

    /// Every waiver must name a control that exists: a typo in a control id
    /// would otherwise sit silently in the register as "stale".
    pub fn check_against(&self, controls: &[Control]) -> Result<(), Vec<LintError>> {
        let errors: Vec<LintError> = self
            .entries
            .iter()
            .filter_map(|w| {
                let Some(control) = controls.iter().find(|c| c.id == w.terms.control) else {
                    let message = format!("no control has id '{}'", w.terms.control);
                    return Some(lint(&self.file, w.line, "waiver.control", message));
                };
                // An event can only be accepted where the control lists the
                // period's changes: elsewhere the waiver would silently be stale.
                let names_event = w.terms.event_id.is_some();
                (names_event && control.changes.is_empty()).then(|| {
                    let message = format!(
                        "control '{}' declares no changes, so it has no period exception an event_id could name; waive its items by account and region",
                        control.id
                    );
                    lint(&self.file, w.line, "waiver.event_id", message)
                })
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn lint(path: &Path, line: usize, field: &str, message: String) -> LintError {
    LintError {
        file: path.to_path_buf(),
        line,
        field: field.into(),
        message,
    }
}

fn check_entry(
    path: &Path,
    text: &str,
    index: usize,
    entry: &Spanned<RawWaiver>,
    errors: &mut Vec<LintError>,
) -> Option<Waiver> {
    let w = entry.get_ref();
    let before = errors.len();
    let mut problem = |span: std::ops::Range<usize>, field: &str, message: String| {
        errors.push(lint(
            path,
            line_of(text, span.start),
            &format!("waiver[{index}].{field}"),
            message,
        ))
    };
    let event_id = w.event_id.iter().map(|e| ("event_id", e));
    let texts = [
        ("control", &w.control),
        ("reason", &w.reason),
        ("approver", &w.approver),
        ("ticket", &w.ticket),
    ];
    for (field, value) in texts.into_iter().chain(event_id) {
        if value.get_ref().trim().is_empty() {
            problem(value.span(), field, "must not be empty".into());
        }
    }
    if let Some(account) = &w.account {
        let id = account.get_ref();
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            problem(
                account.span(),
                "account",
                format!("'{id}' is not a 12-digit AWS account id"),
            );
        }
    }
    if let Some(region) = &w.region {
        let name = region.get_ref();
        let plausible = name.split('-').count() >= 3
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plausible {
            problem(
                region.span(),
                "region",
                format!("'{name}' is not an AWS region name like eu-west-1"),
            );
        }
    }
    let expires = expiry_date(w.expires.get_ref());
    if expires.is_none() {
        problem(
            w.expires.span(),
            "expires",
            format!(
                "'{}' is not a date; write expires = 2027-03-31",
                w.expires.get_ref()
            ),
        );
    }
    if errors.len() > before {
        return None;
    }
    let line = line_of(text, entry.span().start);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(Waiver {
        terms: WaiverRecord {
            control: w.control.get_ref().clone(),
            account: w.account.as_ref().map(|a| a.get_ref().clone()),
            region: w.region.as_ref().map(|r| r.get_ref().clone()),
            event_id: w.event_id.as_ref().map(|e| e.get_ref().trim().to_string()),
            reason: w.reason.get_ref().trim().to_string(),
            approver: w.approver.get_ref().trim().to_string(),
            ticket: w.ticket.get_ref().trim().to_string(),
            expires: expires?,
            state: WaiverState::Stale,
            items: 0,
            source: format!("{file}:{line}"),
        },
        line,
    })
}

/// A TOML local date (`2027-03-31`) or a string holding one; nothing else,
/// so a datetime with a time of day is refused rather than truncated.
fn expiry_date(value: &toml::Value) -> Option<String> {
    let text = match value {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// Applies the register to `results`: matching FAIL and NOT_ASSESSED items of
/// unexpired waivers become WAIVED (the first matching waiver wins), control
/// verdicts and counts are recomputed, and every waiver is recorded with its
/// state. PASS and DISABLED are never touched.
pub fn apply_waivers(results: &mut Results, waivers: &Waivers) {
    let as_of = waiver_as_of(results);
    let mut waived = vec![0; waivers.entries.len()];
    for control in &mut results.controls {
        waive_control(control, waivers, &as_of, &mut waived);
    }
    results.summary = Summary::of(&results.controls);
    results.waivers = waiver_records(waivers, &as_of, &waived);
}

/// The day waivers are judged on: the end of the collection window.
pub(crate) fn waiver_as_of(results: &Results) -> String {
    let end = &results.collection_window.end;
    end.get(..10).unwrap_or_default().to_string()
}

/// Applies the register's waivers of `control` to it, in the register's
/// order (waivers of other controls never meet its items, so a control at a
/// time gives what the whole register at once gives), adding to `waived`
/// (one count per waiver) the items each waived or would have waived;
/// whether any item changed.
pub(crate) fn waive_control(
    control: &mut ControlResult,
    waivers: &Waivers,
    as_of: &str,
    waived: &mut [usize],
) -> bool {
    let mut changed = false;
    let id = control.id.clone();
    let of_control = (waivers.entries.iter().enumerate()).filter(|(_, w)| w.terms.control == id);
    for (n, waiver) in of_control {
        let expired = waiver.terms.expires.as_str() < as_of;
        let items = waive_matching(control, &waiver.terms, !expired);
        changed |= items > 0 && !expired;
        waived[n] += items;
    }
    changed
}

/// Every waiver of the register with what it did (`waived`: its items).
pub(crate) fn waiver_records(
    waivers: &Waivers,
    as_of: &str,
    waived: &[usize],
) -> Vec<WaiverRecord> {
    (waivers.entries.iter().zip(waived))
        .map(|(waiver, &items)| {
            let expired = waiver.terms.expires.as_str() < as_of;
            let state = match (expired, items) {
                (true, _) => WaiverState::Expired,
                (false, 0) => WaiverState::Stale,
                (false, _) => WaiverState::Active,
            };
            WaiverRecord {
                state,
                items,
                ..waiver.terms.clone()
            }
        })
        .collect()
}

/// Counts the items `waiver` matches that are FAIL or NOT_ASSESSED (and not
/// already waived); marks them WAIVED when `apply` is true.
fn waive_matching(control: &mut ControlResult, waiver: &WaiverRecord, apply: bool) -> usize {
    if control.status == Verdict::Disabled {
        return 0;
    }
    let applied = AppliedWaiver {
        original_status: Verdict::Fail,
        reason: waiver.reason.clone(),
        approver: waiver.approver.clone(),
        ticket: waiver.ticket.clone(),
        expires: waiver.expires.clone(),
    };
    if let Some(event_id) = &waiver.event_id {
        return waive_exception(control, waiver, event_id, &applied, apply);
    }
    let whole_control = waiver.account.is_none() && waiver.region.is_none();
    if control.results.is_empty() {
        // A control with no population (e.g. no account has its role) can only
        // be waived as a whole.
        let waivable = matches!(control.status, Verdict::Fail | Verdict::NotAssessed);
        if whole_control && waivable && apply {
            control.status = Verdict::Waived;
        }
        return usize::from(whole_control && waivable);
    }
    let mut count = 0;
    for item in control.results.iter_mut() {
        if !in_scope(waiver, item) || !matches!(item.status, Verdict::Fail | Verdict::NotAssessed) {
            continue;
        }
        count += 1;
        if apply {
            item.waiver = Some(AppliedWaiver {
                original_status: item.status,
                ..applied.clone()
            });
            item.status = Verdict::Waived;
        }
    }
    if apply && count > 0 {
        control.status = Verdict::all_of(control.results.iter().map(|r| r.status));
    }
    count
}

/// Whether `item` is in the waiver's account and region (each optional).
fn in_scope(waiver: &WaiverRecord, item: &ItemResult) -> bool {
    let account = waiver.account.as_ref();
    let region = waiver.region.as_ref();
    account.is_none_or(|a| *a == item.account_id)
        && region.is_none_or(|r| item.region.as_ref() == Some(r))
}

/// Counts the period exceptions of `control` whose CloudTrail event is
/// `event_id` (in the waiver's account and region) and not yet accepted;
/// when `apply`, marks them accepted, and makes an item WAIVED when its
/// accepted exceptions were all that failed it.
fn waive_exception(
    control: &mut ControlResult,
    waiver: &WaiverRecord,
    event_id: &str,
    applied: &AppliedWaiver,
    apply: bool,
) -> usize {
    let mut count = 0;
    for item in control.results.iter_mut().filter(|i| in_scope(waiver, i)) {
        let Some(period) = item.period.as_mut() else {
            continue;
        };
        let named = period
            .exceptions
            .iter_mut()
            .filter(|e| e.waiver.is_none() && e.event_id.as_deref() == Some(event_id));
        for exception in named {
            count += 1;
            if apply {
                exception.waiver = Some(applied.clone());
            }
        }
        if apply && item.status == Verdict::Fail && only_accepted_exceptions_fail(item) {
            item.waiver = Some(applied.clone());
            item.status = Verdict::Waived;
        }
    }
    if apply && count > 0 {
        control.status = Verdict::all_of(control.results.iter().map(|r| r.status));
    }
    count
}

/// Whether an item fails only through period exceptions that are all
/// accepted: every other requirement passed and the event history covered
/// the whole period (an uncovered part stays NOT ASSESSED, never waived by an event).
fn only_accepted_exceptions_fail(item: &ItemResult) -> bool {
    let Some(period) = &item.period else {
        return false;
    };
    let others_pass = item
        .assertions
        .iter()
        .filter(|a| a.id != PERIOD_REQUIREMENT)
        .all(|a| a.status == Verdict::Pass);
    others_pass
        && period.uncovered.is_none()
        && !period.exceptions.is_empty()
        && period.exceptions.iter().all(|e| e.waiver.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{AssertionResult, ChangeRecord, ItemPeriod};

    fn parse(text: &str) -> Result<Waivers, Vec<LintError>> {
        Waivers::parse(Path::new("waivers.toml"), text)
    }

    const ONE: &str = r#"
[[waiver]]
control = "guardduty.enabled"
account = "111111111111"
region = "ap-south-1"
reason = "Region blocked by SCP"
approver = "Jane Roe (CISO)"
ticket = "RISK-214"
expires = 2027-03-31
"#;

    #[test]
    fn parses_a_waiver_with_its_line() {
        let w = parse(ONE).unwrap();
        assert_eq!(w.entries.len(), 1);
        let e = &w.entries[0];
        assert_eq!(e.line, 2);
        assert_eq!(e.terms.source, "waivers.toml:2");
        assert_eq!(e.terms.expires, "2027-03-31");
        assert_eq!(e.terms.account.as_deref(), Some("111111111111"));
    }

    #[test]
    fn a_quoted_date_is_accepted() {
        let text = ONE.replace("2027-03-31", "\"2027-03-31\"");
        assert_eq!(parse(&text).unwrap().entries[0].terms.expires, "2027-03-31");
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let text = r#"
[[waiver]]
control = "guardduty.enabled"
account = "12345"
reason = ""
approver = "x"
ticket = "T-1"
expires = "next year"
"#;
        let errors = parse(text).unwrap_err();
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("waivers.toml:5: waiver[0].reason"),
            "{shown:?}"
        );
        assert!(shown
            .iter()
            .any(|s| s.starts_with("waivers.toml:4: waiver[0].account")));
        assert!(shown
            .iter()
            .any(|s| s.starts_with("waivers.toml:8: waiver[0].expires")));
    }

    #[test]
    fn a_missing_field_and_an_unknown_field_are_errors() {
        let missing = ONE.replace("ticket = \"RISK-214\"\n", "");
        let e = parse(&missing).unwrap_err();
        assert!(e[0].message.contains("ticket"), "{e:?}");
        let unknown = ONE.replace("ticket =", "tikcet =");
        let e = parse(&unknown).unwrap_err();
        assert!(e[0].message.contains("tikcet"), "{e:?}");
        assert_eq!(e[0].line, 8);
    }

    #[test]
    fn a_datetime_with_a_time_is_refused() {
        let text = ONE.replace("2027-03-31", "2027-03-31T10:00:00Z");
        assert!(parse(&text).is_err());
    }

    fn results_with(items: &[(&str, Option<&str>, Verdict)], end: &str) -> Results {
        let json = serde_json::json!({
            "schema_version": 1,
            "tool": {"name": "auditpack", "version": "0"},
            "organization_id": "o-x", "management_account_id": "111111111111",
            "period": "2026-Q4", "generated_at": end,
            "collection_window": {"start": end, "end": end},
            "home_region": "us-east-1", "regions": [],
            "summary": {"controls": {"pass":0,"fail":0,"not_assessed":0,"disabled":0},
                        "items": {"pass":0,"fail":0,"not_assessed":0,"disabled":0}},
            "controls": [{
                "id": "guardduty.enabled", "title": "", "tsc": [], "severity": "high",
                "status": "FAIL", "message": null, "objective": "", "procedure": "",
                "scope_accounts": "all", "scope_regions": "each", "params": {},
                "assertions": [], "file": "",
                "results": items.iter().map(|(a, r, s)| serde_json::json!({
                    "account_id": a, "account_name": "", "region": r, "status": s,
                    "message": "m", "assertions": [], "evidence": []
                })).collect::<Vec<_>>()
            }]
        });
        let mut r: Results = serde_json::from_value(json).unwrap();
        r.controls[0].status = Verdict::all_of(r.controls[0].results.iter().map(|i| i.status));
        r
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn an_active_waiver_waives_only_matching_failures_and_keeps_the_verdict() {
        let mut r = results_with(
            &[
                (A, Some("ap-south-1"), Verdict::Fail),
                (A, Some("eu-west-1"), Verdict::Pass),
                (B, Some("ap-south-1"), Verdict::NotAssessed),
            ],
            "2026-11-20T10:00:00Z",
        );
        apply_waivers(&mut r, &parse(ONE).unwrap());
        let items = &r.controls[0].results;
        assert_eq!(items[0].status, Verdict::Waived);
        assert_eq!(
            items[0].waiver.as_ref().unwrap().original_status,
            Verdict::Fail
        );
        assert_eq!(items[1].status, Verdict::Pass);
        assert_eq!(items[2].status, Verdict::NotAssessed);
        assert_eq!(r.controls[0].status, Verdict::NotAssessed);
        assert_eq!(r.waivers[0].state, WaiverState::Active);
        assert_eq!(r.waivers[0].items, 1);
        assert_eq!(r.waivers[0].source, "waivers.toml:2");
        assert_eq!(r.summary.items.waived, 1);
    }

    #[test]
    fn a_whole_control_waiver_makes_the_control_waived() {
        let text = ONE.replace("account = \"111111111111\"\nregion = \"ap-south-1\"\n", "");
        let mut r = results_with(
            &[
                (A, Some("eu-west-1"), Verdict::Pass),
                (B, Some("ap-south-1"), Verdict::Fail),
            ],
            "2026-11-20T10:00:00Z",
        );
        apply_waivers(&mut r, &parse(&text).unwrap());
        assert_eq!(r.controls[0].status, Verdict::Waived);
        assert_eq!(r.summary.controls.waived, 1);
    }

    #[test]
    fn an_expired_waiver_waives_nothing_and_says_so() {
        let mut r = results_with(
            &[(A, Some("ap-south-1"), Verdict::Fail)],
            "2027-04-01T00:00:00Z",
        );
        apply_waivers(&mut r, &parse(ONE).unwrap());
        assert_eq!(r.controls[0].results[0].status, Verdict::Fail);
        assert_eq!(r.waivers[0].state, WaiverState::Expired);
        assert_eq!(r.waivers[0].items, 1);
        // Valid through its expiry day.
        let mut r = results_with(
            &[(A, Some("ap-south-1"), Verdict::Fail)],
            "2027-03-31T23:00:00Z",
        );
        apply_waivers(&mut r, &parse(ONE).unwrap());
        assert_eq!(r.waivers[0].state, WaiverState::Active);
    }

    #[test]
    fn a_waiver_that_matches_no_failure_is_stale() {
        let mut r = results_with(
            &[(A, Some("ap-south-1"), Verdict::Pass)],
            "2026-11-20T10:00:00Z",
        );
        apply_waivers(&mut r, &parse(ONE).unwrap());
        assert_eq!(r.waivers[0].state, WaiverState::Stale);
        assert_eq!(r.controls[0].status, Verdict::Pass);
    }

    /// One item of a control with `changes`: its point-in-time requirement
    /// and the period requirement failed by these exceptions (event ids).
    fn results_with_exceptions(point_in_time: Verdict, exceptions: &[&str]) -> Results {
        let mut r = results_with(&[(A, None, Verdict::Fail)], "2026-11-20T10:00:00Z");
        let item = &mut r.controls[0].results[0];
        item.assertions = vec![
            AssertionResult {
                id: "trail-on".into(),
                status: point_in_time,
                message: String::new(),
            },
            AssertionResult {
                id: PERIOD_REQUIREMENT.into(),
                status: Verdict::Fail,
                message: "m".into(),
            },
        ];
        let record = |id: &str| ChangeRecord {
            time: "2026-11-02T10:00:00Z".into(),
            event: "cloudtrail.amazonaws.com:StopLogging".into(),
            event_id: Some(id.into()),
            identity_type: Some("IAMUser".into()),
            principal: None,
            session_issuer: None,
            mfa: None,
            source_ip: None,
            request_parameters: None,
            error_code: None,
            restored_at: None,
            waiver: None,
        };
        item.period = Some(ItemPeriod {
            exceptions: exceptions.iter().map(|id| record(id)).collect(),
            ..ItemPeriod::default()
        });
        r
    }

    fn event_waiver(event_id: &str) -> Waivers {
        let text = ONE.replace(
            "region = \"ap-south-1\"\n",
            &format!("event_id = \"{event_id}\"\n"),
        );
        parse(&text).unwrap()
    }

    #[test]
    fn a_waiver_naming_the_only_exception_waives_the_item_and_marks_the_change() {
        let mut r = results_with_exceptions(Verdict::Pass, &["e-1"]);
        apply_waivers(&mut r, &event_waiver("e-1"));
        let item = &r.controls[0].results[0];
        assert_eq!(item.status, Verdict::Waived);
        assert_eq!(item.waiver.as_ref().unwrap().original_status, Verdict::Fail);
        let exception = &item.period.as_ref().unwrap().exceptions[0];
        assert_eq!(exception.waiver.as_ref().unwrap().ticket, "RISK-214");
        assert_eq!(r.waivers[0].event_id.as_deref(), Some("e-1"));
        assert_eq!(
            (r.waivers[0].state, r.waivers[0].items),
            (WaiverState::Active, 1)
        );
        assert_eq!(r.controls[0].status, Verdict::Waived);
    }

    #[test]
    fn a_waiver_naming_one_exception_leaves_another_failing() {
        let mut r = results_with_exceptions(Verdict::Pass, &["e-1", "e-2"]);
        apply_waivers(&mut r, &event_waiver("e-1"));
        let item = &r.controls[0].results[0];
        assert_eq!(item.status, Verdict::Fail);
        let exceptions = &item.period.as_ref().unwrap().exceptions;
        assert!(exceptions[0].waiver.is_some() && exceptions[1].waiver.is_none());
        assert_eq!(
            (r.waivers[0].state, r.waivers[0].items),
            (WaiverState::Active, 1)
        );
        assert_eq!(r.controls[0].status, Verdict::Fail);
    }

    #[test]
    fn an_accepted_exception_does_not_waive_a_point_in_time_failure() {
        let mut r = results_with_exceptions(Verdict::Fail, &["e-1"]);
        apply_waivers(&mut r, &event_waiver("e-1"));
        let item = &r.controls[0].results[0];
        assert_eq!(item.status, Verdict::Fail);
        assert!(item.period.as_ref().unwrap().exceptions[0].waiver.is_some());
    }

    #[test]
    fn an_uncovered_part_of_the_period_is_not_waived_by_an_event() {
        let mut r = results_with_exceptions(Verdict::Pass, &["e-1"]);
        r.controls[0].results[0].period.as_mut().unwrap().uncovered =
            Some("2026-10-01T00:00:00Z to 2026-10-05T00:00:00Z".into());
        apply_waivers(&mut r, &event_waiver("e-1"));
        assert_eq!(r.controls[0].results[0].status, Verdict::Fail);
    }

    #[test]
    fn a_waiver_naming_an_unknown_event_is_stale_and_an_empty_one_refused() {
        let mut r = results_with_exceptions(Verdict::Pass, &["e-1"]);
        apply_waivers(&mut r, &event_waiver("e-9"));
        assert_eq!(r.controls[0].results[0].status, Verdict::Fail);
        assert_eq!(r.waivers[0].state, WaiverState::Stale);
        let text = ONE.replace("region = \"ap-south-1\"\n", "event_id = \" \"\n");
        let errors = parse(&text).unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .starts_with("waivers.toml:5: waiver[0].event_id"),
            "{errors:?}"
        );
    }
}
