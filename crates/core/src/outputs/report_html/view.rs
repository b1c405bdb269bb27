//! What the page shows, precomputed from [`ReportInput`]: the cover facts,
//! counts, the criteria table, the coverage matrix, the inventory, disabled
//! controls and waivers, plus the per-control content ([`super::controls`])
//! and the evidence index ([`super::evidence`]). The template only lays it out.
//!
//! Built to stay readable and small for a 1,000-account organization (see
//! `docs/report.md` for the figures): every evidence file is listed once, in
//! the index; findings shared by many accounts are one row; passing accounts
//! are a compact list.
//!
//! Nothing here decides a verdict, and nothing here is escaped: the template's
//! autoescaping does that for every value.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::controls::{control_view, gaps, group_gaps};
use super::evidence::{evidence_accounts, EvidenceAccount, Index};
use super::links::Links;
use super::Badge;
use crate::evaluation::ResultsSource;
use crate::evaluation::{ControlResult, Counts, Verdict, WaiverRecord, WaiverState};
use crate::evidence::RunInfo;
use crate::org::{Account, Role};
use crate::outputs::bagit::human_size;
use crate::outputs::ReportInput;

/// A matrix cell for an account outside the control's scope.
const OUT_OF_SCOPE: Badge = Badge {
    label: "—",
    class: "none",
};

/// Everything the page shows.
#[derive(Serialize)]
pub(super) struct View<'a> {
    /// The collection run as recorded: tool, period, command line, caller, regions.
    run: &'a RunInfo,
    org_id: &'a str,
    management_id: &'a str,
    management_name: &'a str,
    bundle_name: &'a str,
    /// The period's first and last days (`2026-10-01 to 2026-12-31`), when
    /// the run recorded them, and whether it had not ended at collection.
    period_days: Option<String>,
    period_to_date: bool,
    /// The collection window, readable.
    started_at: String,
    finished_at: String,
    accounts_active: usize,
    accounts_total: usize,
    /// Active accounts collection could not reach.
    accounts_unreachable: usize,
    /// Controls by verdict, and items (control × account × region) by verdict.
    controls_by_status: Vec<Tally>,
    items_by_status: Vec<Tally>,
    items_total: usize,
    criteria: Vec<CriterionRow<'a>>,
    /// Criteria in scope that nothing evidences yet.
    criteria_gaps: usize,
    /// Evidence no API gives (`attachments/`).
    attachments: Vec<AttachmentRow<'a>>,
    /// Coverage matrix rows (active accounts) grouped by role; columns are `controls`.
    matrix_groups: Vec<MatrixGroup<'a>>,
    /// The coverage matrix's columns. Each control's own section is not
    /// here: it is written as its items are read (see [`control_section`]).
    controls: Vec<ControlHeading<'a>>,
}

/// The lists only the page's tail reads (after the controls' sections),
/// made once those are written (see [`put_tail_lists`]).
#[derive(Serialize)]
struct TailLists<'a> {
    inventory: Vec<InventoryRow<'a>>,
    disabled: Vec<Disabled<'a>>,
    waivers: Vec<WaiverRow<'a>>,
    evidence: Vec<EvidenceAccount<'a>>,
    /// Whether every file has a row (else only those not answering `ok`).
    evidence_all_listed: bool,
    evidence_files: usize,
    evidence_size: String,
    /// Each control's IPE sheet (section 7), in the order of `controls`.
    ipe: &'a [crate::outputs::ipe::IpeSheet],
}

/// What only the page's head reads (the coverage matrix above all),
/// dropped from the view once the head is written (see [`drop_head_only`]).
const HEAD_ONLY: [&str; 4] = ["matrix_groups", "controls", "criteria", "attachments"];

/// A control as the coverage matrix's column names it.
#[derive(Serialize)]
struct ControlHeading<'a> {
    id: &'a str,
    title: &'a str,
}

/// One verdict's count, with its segment of the inline SVG bar (percent of the total).
#[derive(Serialize)]
pub(super) struct Tally {
    badge: Badge,
    count: usize,
    offset: f64,
    percent: f64,
}

/// A criterion, the combined verdict of its controls, each control's
/// verdict, and the attachments that support it.
#[derive(Serialize)]
struct CriterionRow<'a> {
    id: &'a str,
    series: &'static str,
    /// The criterion's short name (empty for results without coverage).
    name: &'a str,
    badge: Badge,
    controls: Vec<(&'a str, Badge)>,
    attachments: Vec<&'a str>,
}

/// An attachment as listed under the criteria.
#[derive(Serialize)]
struct AttachmentRow<'a> {
    a: &'a crate::evidence::attachments::Attachment,
    href: String,
    size: String,
}

#[derive(Serialize)]
struct MatrixGroup<'a> {
    role: String,
    rows: Vec<MatrixRow<'a>>,
}

/// An account and one cell per control, in the order of `View::controls`.
#[derive(Serialize)]
struct MatrixRow<'a> {
    account: &'a Account,
    unreachable: bool,
    cells: Vec<Badge>,
}

/// An account as listed in the inventory (`account.role` is null when unassigned).
#[derive(Serialize)]
struct InventoryRow<'a> {
    account: &'a Account,
    in_scope: bool,
    /// Active, but collection could not reach it (its audit role could not be assumed).
    unreachable: bool,
    joined: &'a str,
}

#[derive(Serialize)]
struct Disabled<'a> {
    control: &'a str,
    title: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct WaiverRow<'a> {
    record: &'a WaiverRecord,
    state: Badge,
}

fn build_view<'a>(input: &ReportInput<'a>, links: &Links) -> View<'a> {
    let (org, run, controls) = (input.org, input.run, &input.results.head().controls);
    let management_id = org.organization.management_account_id.as_str();
    let items = input.results.head().summary.items;
    View {
        run,
        org_id: &org.organization.id,
        management_id,
        management_name: org.account(management_id).map_or("", |a| &a.name),
        bundle_name: input.bundle_name,
        period_days: (run.period_dates.as_ref()).map(|d| {
            let day = |t: &str| t.get(..10).unwrap_or(t).to_string();
            format!("{} to {}", day(&d.start), day(&d.end))
        }),
        period_to_date: input.results.head().period_to_date,
        started_at: readable_time(&run.started_at),
        finished_at: readable_time(&run.finished_at),
        accounts_active: org.active_accounts().count(),
        accounts_total: org.accounts.len(),
        accounts_unreachable: (org.active_accounts())
            .filter(|a| a.reachable == Some(false))
            .count(),
        controls_by_status: tallies(controls.iter().map(|c| c.status)),
        items_by_status: tallies_of(items),
        items_total: items.total(),
        criteria: match input.results.head().criteria.is_empty() {
            true => criteria_rows(controls),
            false => coverage_rows(&input.results.head().criteria),
        },
        criteria_gaps: (input.results.head().criteria.iter())
            .filter(|c| c.status == "NOT_EVIDENCED")
            .count(),
        attachments: (input.results.head().attachments.iter())
            .map(|a| AttachmentRow {
                a,
                href: links.evidence(&a.file),
                size: human_size(a.size),
            })
            .collect(),
        matrix_groups: matrix_groups(input),
        controls: (controls.iter())
            .map(|c| ControlHeading {
                id: &c.id,
                title: &c.title,
            })
            .collect(),
    }
}

fn tail_lists<'a>(input: &'a ReportInput<'_>, links: &Links, index: &Index) -> TailLists<'a> {
    let (org, controls) = (input.org, &input.results.head().controls);
    TailLists {
        inventory: (org.accounts.iter())
            .map(|a| InventoryRow {
                account: a,
                in_scope: a.is_active(),
                unreachable: a.is_active() && a.reachable == Some(false),
                joined: a.joined_at.get(..10).unwrap_or(&a.joined_at),
            })
            .collect(),
        disabled: (controls.iter())
            .filter(|c| c.status == Verdict::Disabled)
            .map(|c| Disabled {
                control: &c.id,
                title: &c.title,
                reason: c.message.as_deref().unwrap_or(""),
            })
            .collect(),
        waivers: (input.results.head().waivers.iter())
            .map(|record| WaiverRow {
                record,
                state: waiver_state(record.state),
            })
            .collect(),
        evidence: evidence_accounts(index, org, links),
        evidence_all_listed: index.all_listed(),
        evidence_files: input.evidence.len(),
        evidence_size: human_size(input.evidence.total_size()),
        ipe: input.ipe_sheets(),
    }
}

/// What the page's templates read of the run, bar each control's section,
/// the exceptions and the tail's lists (see [`control_section`],
/// [`Exceptions`], [`put_tail_lists`]): the view as JSON, as Tera renders
/// from.
///
/// The view is held while the controls' sections are written, so what only
/// one side of them reads is made or kept only for that side: at 10,000
/// accounts the coverage matrix (the head) and the inventory, evidence
/// listing and IPE sheets (the tail) are each tens of MB of JSON.
pub(super) fn page_view(input: &ReportInput<'_>, links: &Links) -> serde_json::Value {
    as_template_value(&build_view(input, links))
}

/// Drops from `view` what only the page's head reads, once it is written.
pub(super) fn drop_head_only(view: &mut serde_json::Value) {
    if let Some(fields) = view.as_object_mut() {
        for name in HEAD_ONLY {
            fields.remove(name);
        }
    }
}

/// Adds to `view` the lists only the page's tail reads.
pub(super) fn put_tail_lists(
    view: &mut serde_json::Value,
    input: &ReportInput<'_>,
    links: &Links,
    index: &Index,
) {
    let serde_json::Value::Object(lists) = as_template_value(&tail_lists(input, links, index))
    else {
        unreachable!("a struct serialises as a JSON object")
    };
    if let Some(fields) = view.as_object_mut() {
        fields.extend(lists);
    }
}

/// Control `c`'s section of the page (its `ControlView`), as the section's
/// template reads it: made while its items are read, and written before the
/// next control's are.
pub(super) fn control_section(
    c: &ControlResult,
    links: &Links,
    index: &Index,
) -> serde_json::Value {
    as_template_value(&control_view(c, links, index))
}

/// The requirements not assessed, gathered a control at a time as the
/// controls' sections are written, for the section after them.
#[derive(Default, Clone)]
pub(super) struct Exceptions {
    /// Grouped by control, requirement and reason (`GapGroup`s, kept as the
    /// template reads them).
    groups: Vec<serde_json::Value>,
    /// How many (item, requirement) pairs were not assessed.
    total: usize,
}

impl Exceptions {
    /// Adds control `c`'s gaps.
    pub(super) fn add(&mut self, c: &ControlResult) {
        let gaps = gaps(c);
        self.total += gaps.iter().filter(|g| g.item.is_some()).count();
        self.groups
            .extend(group_gaps(gaps).iter().map(as_template_value));
    }

    /// Puts them in the page's view (`exceptions`, `exceptions_total`).
    pub(super) fn put_in(self, view: &mut serde_json::Value) {
        view["exceptions"] = serde_json::Value::Array(self.groups);
        view["exceptions_total"] = self.total.into();
    }
}

/// `2026-11-23T08:49:48Z` → `2026-11-23 08:49:48 UTC`; anything unparsable as it is.
pub(super) fn readable_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => (t.with_timezone(&chrono::Utc))
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// What the template reads of `value`: serialising it is what Tera does
/// with the whole view when the page is rendered, so doing it early changes
/// nothing on the page.
fn as_template_value(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("the view serialises")
}

/// Counts by verdict in the fixed order PASS, FAIL, NOT ASSESSED, WAIVED, DISABLED.
pub(super) fn tallies(statuses: impl Iterator<Item = Verdict>) -> Vec<Tally> {
    tallies_of(Counts::of(statuses))
}

/// [`tallies`] of counts made already.
fn tallies_of(counts: Counts) -> Vec<Tally> {
    let total = counts.total().max(1) as f64;
    let mut offset = 0.0;
    let by_status = [
        (Verdict::Pass, counts.pass),
        (Verdict::Fail, counts.fail),
        (Verdict::NotAssessed, counts.not_assessed),
        (Verdict::Waived, counts.waived),
        (Verdict::Disabled, counts.disabled),
    ];
    let mut tallies = Vec::new();
    for (status, count) in by_status {
        let percent = count as f64 * 100.0 / total;
        tallies.push(Tally {
            badge: status.into(),
            count,
            offset,
            percent,
        });
        offset += percent;
    }
    tallies
}

/// Every criterion in scope (results.json's `criteria`), with what
/// evidences it; NOT EVIDENCED and NOT TESTED (attachments, no control)
/// have badges of their own.
fn coverage_rows(criteria: &[crate::evaluation::CriterionCoverage]) -> Vec<CriterionRow<'_>> {
    (criteria.iter())
        .map(|c| CriterionRow {
            id: &c.id,
            series: series_name(&c.id),
            name: &c.name,
            badge: match c.status.as_str() {
                "NOT_EVIDENCED" => Badge {
                    label: "NOT EVIDENCED",
                    class: "gap",
                },
                "NOT_TESTED" => Badge {
                    label: "NOT TESTED",
                    class: "na",
                },
                _ => Verdict::all_of(
                    c.controls
                        .iter()
                        .map(|x| x.status)
                        .filter(|s| *s != Verdict::Disabled),
                )
                .into(),
            },
            controls: (c.controls.iter())
                .map(|x| (x.id.as_str(), x.status.into()))
                .collect(),
            attachments: c.attachments.iter().map(String::as_str).collect(),
        })
        .collect()
}

/// Criterion → controls → verdict, in TSC order.
fn criteria_rows(controls: &[ControlResult]) -> Vec<CriterionRow<'_>> {
    let mut by_criterion: BTreeMap<&str, Vec<&ControlResult>> = BTreeMap::new();
    for c in controls {
        for tsc in &c.tsc {
            by_criterion.entry(tsc).or_default().push(c);
        }
    }
    let mut rows: Vec<CriterionRow<'_>> = (by_criterion.into_iter())
        .map(|(id, cs)| CriterionRow {
            id,
            series: series_name(id),
            name: "",
            attachments: Vec::new(),
            badge: Verdict::all_of(cs.iter().map(|c| c.status)).into(),
            controls: cs
                .iter()
                .map(|c| (c.id.as_str(), c.status.into()))
                .collect(),
        })
        .collect();
    rows.sort_by_key(|row| criterion_sort_key(row.id));
    rows
}

/// The name of a Trust Services Criteria series.
fn series_name(criterion: &str) -> &'static str {
    match criterion.split('.').next().unwrap_or_default() {
        "CC1" => "Control environment",
        "CC2" => "Communication and information",
        "CC3" => "Risk assessment",
        "CC4" => "Monitoring activities",
        "CC5" => "Control activities",
        "CC6" => "Logical and physical access controls",
        "CC7" => "System operations",
        "CC8" => "Change management",
        "CC9" => "Risk mitigation",
        "A1" => "Availability",
        "C1" => "Confidentiality",
        "PI1" => "Processing integrity",
        s if s.starts_with('P') => "Privacy",
        _ => "",
    }
}

/// Orders criteria as the TSC do: CC, then A1, C1, PI1, P…; CC6.10 after CC6.9.
pub(super) fn criterion_sort_key(id: &str) -> (usize, u32, u32) {
    let (series, number) = id.split_once('.').unwrap_or((id, "0"));
    let letters = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let family = ["CC", "A", "C", "PI", "P"]
        .iter()
        .position(|f| *f == letters);
    let parse = |n: &str| n.parse().unwrap_or(0);
    (
        family.unwrap_or(9),
        parse(&series[letters.len()..]),
        parse(number),
    )
}

/// An account's role group: its place (`Role::ALL` order, unassigned last) and name.
fn role_group(account: &Account) -> (usize, String) {
    match account.role {
        Some(role) => {
            let rank = Role::ALL.iter().position(|r| *r == role);
            (rank.unwrap_or(0), role.to_string())
        }
        None => (Role::ALL.len(), "unassigned".into()),
    }
}

/// What the coverage matrix reads of an item; the rest is skipped.
#[derive(serde::Deserialize)]
struct AccountVerdict {
    account_id: String,
    status: Verdict,
}

/// Active accounts × controls: each cell the worst verdict of that control's
/// items for the account, DISABLED within a disabled control's scope, else "—".
fn matrix_groups<'a>(input: &ReportInput<'a>) -> Vec<MatrixGroup<'a>> {
    let controls = &input.results.head().controls;
    // Keyed by the organization's own account ids (a control's items are
    // read in turn and dropped).
    let ids: HashMap<&str, &'a str> = (input.org.accounts.iter())
        .map(|a| (a.id.as_str(), a.id.as_str()))
        .collect();
    let mut worst: HashMap<(&str, usize), Verdict> = HashMap::new();
    for column in 0..controls.len() {
        // A piece of the control's items at a time, only their account and
        // verdict parsed.
        for piece in input.results.item_pieces::<AccountVerdict>(column) {
            for item in piece {
                let Some(&account) = ids.get(item.account_id.as_str()) else {
                    continue;
                };
                let key = (account, column);
                let seen = worst.get(&key).copied();
                worst.insert(key, Verdict::all_of(seen.into_iter().chain([item.status])));
            }
        }
    }
    let mut groups: BTreeMap<(usize, String), Vec<&Account>> = BTreeMap::new();
    for account in input.org.active_accounts() {
        groups.entry(role_group(account)).or_default().push(account);
    }
    let cell = |account: &Account, role: &str, column: usize, c: &ControlResult| match worst
        .get(&(account.id.as_str(), column))
    {
        Some(status) => Badge::from(*status),
        None if c.status == Verdict::Disabled && ["all", role].contains(&&*c.scope_accounts) => {
            Verdict::Disabled.into()
        }
        None => OUT_OF_SCOPE,
    };
    let mut out = Vec::new();
    for ((_, role), mut accounts) in groups {
        accounts.sort_by(|a, b| (&a.ou_path, &a.name).cmp(&(&b.ou_path, &b.name)));
        let rows = (accounts.into_iter())
            .map(|account| MatrixRow {
                account,
                unreachable: account.reachable == Some(false),
                cells: (controls.iter().enumerate())
                    .map(|(column, c)| cell(account, &role, column, c))
                    .collect(),
            })
            .collect();
        out.push(MatrixGroup { role, rows });
    }
    out
}

fn waiver_state(state: WaiverState) -> Badge {
    match state {
        WaiverState::Active => Badge {
            label: "ACTIVE",
            class: "waived",
        },
        WaiverState::Expired => Badge {
            label: "EXPIRED",
            class: "fail",
        },
        WaiverState::Stale => Badge {
            label: "STALE",
            class: "na",
        },
    }
}
