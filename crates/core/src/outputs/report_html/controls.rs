//! Per-control content: the population in words, the findings and the
//! passing accounts, and the requirements not assessed (section 5).
//!
//! Findings that say the same thing for many accounts are one row listing the
//! accounts (`‹account›`/`‹region›` stand in the shared message), not one row
//! each; a finding of one account keeps its exact message and points at the
//! index rows of the files it read. Passing items are one compact list of
//! accounts per control, each linking to that account's files in the index.
//! Nothing here decides a verdict.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::evidence::{FileRef, Index};
use super::links::Links;
use super::thousands;
use super::view::{tallies, Tally};
use super::Badge;
use crate::evaluation::{
    AppliedWaiver, AssertionInfo, ChangeRecord, ControlResult, EvidenceRef, ItemPeriod, ItemResult,
    Verdict,
};

/// Stands for each listed account in a message shared by several accounts.
const ACCOUNT: &str = "‹account›";
/// Stands for each listed region in a message shared by several items.
const REGION: &str = "‹region›";

#[derive(Serialize)]
pub(super) struct ControlView<'a> {
    id: &'a str,
    title: &'a str,
    badge: Badge,
    severity: &'static str,
    tsc: &'a [String],
    message: Option<&'a str>,
    objective: Vec<String>,
    procedure: Vec<String>,
    /// How to fix a failure (the control file's `remediation`), shown in the
    /// findings table below the failures, only when some item failed (a
    /// waived failure included): beside the failure, not in every control.
    remediation: Option<Vec<String>>,
    /// Parameter name and its value as JSON.
    params: Vec<(&'a str, String)>,
    /// The population tested, in words.
    scope: String,
    items: usize,
    items_by_status: Vec<Tally>,
    assertions: &'a [AssertionInfo],
    /// The API calls whose evidence the control read (`service:Operation`).
    sources: Vec<String>,
    /// FAIL, NOT ASSESSED and WAIVED items, grouped by what they say.
    findings: Vec<Finding<'a>>,
    /// Accounts whose items passed (with their regions), and how many items.
    passed: Vec<Member<'a>>,
    passed_items: usize,
    /// Items in `findings` (every item not passing).
    finding_items: usize,
    /// Whether items are per region (the tables then show regions).
    regional: bool,
    /// The control file's href; none for a built-in control beside the bundle.
    definition: Option<String>,
    /// `built-in` or `custom`.
    origin: Option<&'static str>,
    file: &'a str,
    /// The requirements × items matrix, when the control file asks for it.
    matrix: Option<Matrix<'a>>,
    /// The declared changes made during the period: exceptions first.
    changes: Vec<ChangeRow<'a>>,
}

/// One change of the period, as the report lists it.
#[derive(Serialize)]
struct ChangeRow<'a> {
    /// exception, managed or refused.
    kind: &'static str,
    badge: Badge,
    account_id: &'a str,
    account_name: &'a str,
    region: Option<&'a str>,
    record: &'a ChangeRecord,
    /// The event name alone (`StopLogging`).
    name: &'a str,
}

/// Which list of a period's changes a row kind shows.
type ChangesOf = fn(&ItemPeriod) -> &Vec<ChangeRecord>;

/// The changes of every item of `c`: exceptions, then managed changes, then
/// refused attempts, each oldest first.
fn changes(c: &ControlResult) -> Vec<ChangeRow<'_>> {
    let kinds: [(&str, Verdict, ChangesOf); 3] = [
        ("exception", Verdict::Fail, |p| &p.exceptions),
        ("managed", Verdict::Pass, |p| &p.managed),
        ("refused", Verdict::Pass, |p| &p.refused),
    ];
    let mut rows = Vec::new();
    for (kind, verdict, of) in kinds {
        for item in &c.results {
            let Some(period) = &item.period else { continue };
            for record in of(period) {
                // An exception a waiver accepted keeps its row, marked so.
                let accepted = record.waiver.is_some();
                rows.push(ChangeRow {
                    kind,
                    badge: if accepted { Verdict::Waived } else { verdict }.into(),
                    account_id: &item.account_id,
                    account_name: &item.account_name,
                    region: item.region.as_deref(),
                    record,
                    name: record.event.rsplit(':').next().unwrap_or(&record.event),
                });
            }
        }
    }
    rows
}

/// Every item of a control against every requirement: the settings ×
/// accounts view of `baseline.consistency`, where a deviation is a cell.
#[derive(Serialize)]
struct Matrix<'a> {
    /// Requirement ids, the columns.
    columns: Vec<&'a str>,
    rows: Vec<MatrixRow<'a>>,
}

#[derive(Serialize)]
struct MatrixRow<'a> {
    account_id: &'a str,
    account_name: &'a str,
    region: Option<&'a str>,
    /// One badge per column (a requirement the item has no result for is NOT ASSESSED).
    cells: Vec<Badge>,
}

/// The matrix of `c`, when its control asks for one.
fn matrix(c: &ControlResult) -> Option<Matrix<'_>> {
    if !c.matrix {
        return None;
    }
    let columns: Vec<&str> = c.assertions.iter().map(|a| a.id.as_str()).collect();
    let rows = (c.results.iter())
        .map(|item| MatrixRow {
            account_id: &item.account_id,
            account_name: &item.account_name,
            region: item.region.as_deref(),
            cells: (columns.iter())
                .map(|id| {
                    let status = item.assertions.iter().find(|a| a.id == *id);
                    status.map_or(Verdict::NotAssessed, |a| a.status).into()
                })
                .collect(),
        })
        .collect();
    Some(Matrix { columns, rows })
}

/// Items of one control with the same verdict and the same message (up to the
/// account and region it names), and the accounts they concern.
#[derive(Serialize)]
struct Finding<'a> {
    badge: Badge,
    /// The exact message for one account; with `‹account›`/`‹region›` for several.
    message: String,
    members: Vec<Member<'a>>,
    items: usize,
    /// For one account: each file read, pointing at its index row.
    files: Vec<FileRef>,
    /// For several accounts: the calls whose files each one's item read
    /// (`service:Operation`); the account's name leads to its files.
    calls: Vec<String>,
    waiver: Option<&'a AppliedWaiver>,
    original: Option<Badge>,
}

/// An account and the regions concerned (empty for account-wide items).
#[derive(Serialize)]
struct Member<'a> {
    account_id: &'a str,
    account_name: &'a str,
    regions: Vec<&'a str>,
}

/// Requirements of one control not assessed for the same reason, and where.
#[derive(Serialize)]
pub(super) struct GapGroup<'a> {
    control: &'a str,
    requirement: &'a str,
    reason: String,
    members: Vec<Member<'a>>,
}

pub(super) fn control_view<'a>(
    c: &'a ControlResult,
    links: &Links,
    index: &Index,
) -> ControlView<'a> {
    let passing: Vec<&ItemResult> = c
        .results
        .iter()
        .filter(|i| i.status == Verdict::Pass)
        .collect();
    ControlView {
        id: &c.id,
        title: &c.title,
        badge: c.status.into(),
        severity: c.severity.as_str(),
        tsc: &c.tsc,
        message: c.message.as_deref(),
        objective: paragraphs(&c.objective),
        procedure: paragraphs(&c.procedure),
        remediation: failed(c).then(|| paragraphs(&c.remediation)),
        params: (c.params.iter())
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect(),
        scope: scope_text(c),
        items: c.results.len(),
        items_by_status: tallies(c.results.iter().map(|i| i.status)),
        assertions: &c.assertions,
        sources: sources(c),
        findings: findings(c, links, index),
        passed_items: passing.len(),
        finding_items: c.results.len() - passing.len(),
        passed: members(passing.iter().copied()),
        regional: c.results.iter().any(|i| i.region.is_some()),
        definition: links.control(
            &c.file,
            c.origin == Some(crate::evaluation::ControlOrigin::BuiltIn),
        ),
        origin: c.origin.map(|o| o.as_str()),
        file: &c.file,
        matrix: matrix(c),
        changes: changes(c),
    }
}

/// The population tested, in words: which accounts, which regions, how many of each.
fn scope_text(c: &ControlResult) -> String {
    let accounts: BTreeSet<&str> = c.results.iter().map(|i| i.account_id.as_str()).collect();
    let regions: BTreeSet<&str> = (c.results.iter())
        .filter_map(|i| i.region.as_deref())
        .collect();
    let who = match c.scope_accounts.as_str() {
        "all" => "every active account".to_string(),
        role => format!("the {role} account(s)"),
    };
    let place = match c.scope_regions.as_str() {
        "global" => "account-wide (global)",
        "home" => "in the home region",
        _ => "in every region of the run",
    };
    let regions = match regions.len() {
        0 => String::new(),
        n => format!(", {n} region(s): {}", Vec::from_iter(regions).join(", ")),
    };
    let count = thousands(accounts.len());
    format!(
        "{who}, {place}: {count} account(s){regions}{}",
        out_of_scope_text(c)
    )
}

/// How many account × region pairs were left out because the account has not
/// enabled the region, naming the first few: empty when none were.
fn out_of_scope_text(c: &ControlResult) -> String {
    const NAMED: usize = 5;
    if c.out_of_scope.is_empty() {
        return String::new();
    }
    let named: Vec<String> = (c.out_of_scope.iter().take(NAMED))
        .map(|o| format!("{} {}", o.account_name, o.region))
        .collect();
    let more = c.out_of_scope.len().saturating_sub(NAMED);
    let more = if more > 0 {
        format!(" and {} more", thousands(more))
    } else {
        String::new()
    };
    format!(
        "; out of scope, region not enabled in the account (account:ListRegions): {}{more}",
        named.join(", ")
    )
}

/// Whether some item of `c` failed, before or after a waiver.
fn failed(c: &ControlResult) -> bool {
    (c.results.iter()).any(|i| {
        i.status == Verdict::Fail
            || (i.waiver.as_ref()).is_some_and(|w| w.original_status == Verdict::Fail)
    })
}

/// Joins the hard-wrapped lines of a TOML text block into paragraphs (blank lines separate them).
fn paragraphs(text: &str) -> Vec<String> {
    (text.split("\n\n"))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Splits an evidence path `<account>/<region>/<service>/<Operation>[.<qualifier>].json`.
fn path_parts(path: &str) -> Option<[&str; 4]> {
    let mut parts = path.splitn(4, '/');
    let account = parts.next()?;
    let region = parts.next()?;
    let service = parts.next()?;
    let file = parts.next()?;
    Some([account, region, service, file])
}

/// `service:Operation` of every call the control's items read, in first-seen order.
fn sources(c: &ControlResult) -> Vec<String> {
    calls(c.results.iter().flat_map(|i| &i.evidence))
}

/// `service:Operation` of each evidence file, in first-seen order.
fn calls<'a>(evidence: impl Iterator<Item = &'a EvidenceRef>) -> Vec<String> {
    let mut seen = Vec::new();
    for e in evidence {
        if let Some([_, _, service, file]) = path_parts(&e.path) {
            let operation = file.trim_end_matches(".json").split('.').next();
            let call = format!("{service}:{}", operation.unwrap_or(file));
            if !seen.contains(&call) {
                seen.push(call);
            }
        }
    }
    seen
}

/// Accounts (in first-seen order) with the regions of their items.
fn members<'a>(items: impl Iterator<Item = &'a ItemResult>) -> Vec<Member<'a>> {
    let mut out: Vec<Member<'a>> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for item in items {
        let at = *position.entry(&item.account_id).or_insert_with(|| {
            out.push(Member {
                account_id: &item.account_id,
                account_name: &item.account_name,
                regions: Vec::new(),
            });
            out.len() - 1
        });
        if let Some(region) = item.region.as_deref() {
            if !out[at].regions.contains(&region) {
                out[at].regions.push(region);
            }
        }
    }
    out
}

/// `text` with the item's account id and region replaced by placeholders, so
/// the same finding in different accounts reads the same.
fn generic(text: &str, item: &ItemResult) -> String {
    let text = text.replace(&item.account_id, ACCOUNT);
    match item.region.as_deref() {
        Some(region) => text.replace(region, REGION),
        None => text,
    }
}

/// Where the status sorts among findings: FAIL, NOT ASSESSED, WAIVED.
fn rank(status: Verdict) -> u8 {
    match status {
        Verdict::Fail => 0,
        Verdict::NotAssessed => 1,
        Verdict::Waived => 2,
        Verdict::Pass | Verdict::Disabled => 3,
    }
}

/// The control's FAIL, NOT ASSESSED and WAIVED items, grouped by verdict,
/// message and waiver (up to the account and region they name).
fn findings<'a>(c: &'a ControlResult, links: &Links, index: &Index) -> Vec<Finding<'a>> {
    // Verdict, message, and the waiver (by what it says) if any.
    type Key<'k> = (u8, String, Option<[&'k str; 5]>);
    let mut groups: Vec<(Key<'a>, Vec<&'a ItemResult>)> = Vec::new();
    let mut position: HashMap<Key<'a>, usize> = HashMap::new();
    for item in c.results.iter().filter(|i| i.status != Verdict::Pass) {
        let waiver = (item.waiver.as_ref()).map(|w| {
            let original = w.original_status.label();
            [original, &w.reason, &w.approver, &w.ticket, &w.expires]
        });
        let key = (rank(item.status), generic(&item.message, item), waiver);
        match position.get(&key) {
            Some(&at) => groups[at].1.push(item),
            None => {
                position.insert(key.clone(), groups.len());
                groups.push((key, vec![item]));
            }
        }
    }
    groups.sort_by_key(|((rank, _, _), _)| *rank);
    (groups.into_iter())
        .map(|((_, generic_message, _), items)| {
            let first = items[0];
            let waiver = first.waiver.as_ref();
            let members = members(items.iter().copied());
            let single = members.len() == 1;
            let mut files: Vec<FileRef> = Vec::new();
            let evidence = items.iter().flat_map(|i| &i.evidence);
            if single {
                for e in evidence.clone() {
                    let file = index.cite(&e.path, links);
                    if !files.iter().any(|f| f.href == file.href) {
                        files.push(file);
                    }
                }
            }
            Finding {
                badge: first.status.into(),
                message: match (items.len(), single) {
                    (1, _) => first.message.clone(),
                    (_, true) => generic_message.replace(ACCOUNT, &first.account_id),
                    (_, false) => generic_message,
                },
                items: items.len(),
                members,
                files,
                calls: match single {
                    true => Vec::new(),
                    false => calls(evidence),
                },
                waiver,
                original: waiver.map(|w| w.original_status.into()),
            }
        })
        .collect()
}

/// Something not assessed: a requirement for an item, or a whole control.
pub(super) struct Gap<'a> {
    control: &'a ControlResult,
    requirement: &'a str,
    pub(super) item: Option<&'a ItemResult>,
    reason: &'a str,
}

/// Every gap of a control: no population at all, or each requirement not assessed
/// for an account (and region), even where another requirement failed.
pub(super) fn gaps(c: &ControlResult) -> Vec<Gap<'_>> {
    if c.status == Verdict::NotAssessed && c.results.is_empty() {
        let reason = c.message.as_deref().unwrap_or("No population.");
        return vec![Gap {
            control: c,
            requirement: "",
            item: None,
            reason,
        }];
    }
    let mut gaps = Vec::new();
    for item in &c.results {
        let before = gaps.len();
        for a in (item.assertions.iter()).filter(|a| a.status == Verdict::NotAssessed) {
            gaps.push(Gap {
                control: c,
                requirement: &a.id,
                item: Some(item),
                reason: &a.message,
            });
        }
        if gaps.len() == before && item.status == Verdict::NotAssessed {
            gaps.push(Gap {
                control: c,
                requirement: "",
                item: Some(item),
                reason: &item.message,
            });
        }
    }
    gaps
}

/// Gaps grouped by control, requirement and reason (up to account and region).
pub(super) fn group_gaps(gaps: Vec<Gap<'_>>) -> Vec<GapGroup<'_>> {
    let mut groups: Vec<(Gap, Vec<&ItemResult>, String)> = Vec::new();
    let mut position: HashMap<(&str, &str, String), usize> = HashMap::new();
    for gap in gaps {
        let reason = match gap.item {
            Some(item) => generic(gap.reason, item),
            None => gap.reason.to_string(),
        };
        let key = (gap.control.id.as_str(), gap.requirement, reason.clone());
        match position.get(&key) {
            Some(&at) => groups[at].1.extend(gap.item),
            None => {
                position.insert(key, groups.len());
                let items = gap.item.into_iter().collect();
                groups.push((gap, items, reason));
            }
        }
    }
    (groups.into_iter())
        .map(|(gap, items, reason)| {
            let members = members(items.iter().copied());
            GapGroup {
                control: &gap.control.id,
                requirement: gap.requirement,
                reason: match (items.len(), &members[..]) {
                    (0 | 1, _) => gap.reason.to_string(),
                    (_, [one]) => reason.replace(ACCOUNT, one.account_id),
                    _ => reason,
                },
                members,
            }
        })
        .collect()
}
