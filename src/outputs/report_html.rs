//! `report.html`: the one self-contained page an external auditor opens.
//!
//! Logic lives here, presentation in `templates/report.html.tera`: this module
//! builds a [`View`] with everything precomputed (counts, the criteria table, the
//! coverage matrix, per-control sections, the inventory, exceptions, the
//! evidence index, human-readable sizes and dates) and the template only lays it
//! out. Tera's autoescaping is on for the page, and nothing derived from
//! evidence, `org.json`, `run.json` or results may EVER be marked `| safe`:
//! account names, tags, OU paths and error messages are untrusted input. Only
//! the stylesheet and script embedded from `templates/` are inserted as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use tera::{Context, Tera};

use super::bagit::human_size;
use super::{EvidenceIndexEntry, ReportInput};
use crate::discovery::{Account, Role};
use crate::evaluation::{AssertionInfo, ControlResult, Counts, ItemResult, Status};

/// The template's name in Tera; the `.html` suffix turns autoescaping on.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../templates/report.html.tera");
const STYLE: &str = include_str!("../../templates/report.css");
const SCRIPT: &str = include_str!("../../templates/report.js");

/// Error rendering the report (names the template).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Tera failed to parse or render the template; `detail` is the whole cause chain.
    #[error("report template {template} (templates/report.html.tera): {detail}")]
    Template {
        /// The template's name.
        template: &'static str,
        /// Tera's error and its causes.
        detail: String,
    },
}

impl From<tera::Error> for ReportError {
    fn from(error: tera::Error) -> Self {
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        ReportError::Template {
            template: TEMPLATE_NAME,
            detail,
        }
    }
}

/// Renders the report as one self-contained HTML page.
pub fn render_report(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let tera = engine()?;
    let mut context = Context::new();
    context.insert("r", &build_view(input));
    context.insert("style", STYLE);
    context.insert("script", SCRIPT);
    Ok(tera.render(TEMPLATE_NAME, &context)?)
}

/// The one Tera instance: the embedded template, autoescaping on (by its `.html` name).
fn engine() -> Result<Tera, ReportError> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![TEMPLATE_NAME]);
    tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)?;
    Ok(tera)
}

/// A verdict as shown: its label and the CSS class that colours it.
#[derive(Serialize, Clone, Copy)]
struct Badge {
    label: &'static str,
    class: &'static str,
}

impl From<Status> for Badge {
    fn from(status: Status) -> Self {
        let class = match status {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotAssessed => "na",
            Status::Disabled => "off",
        };
        Badge {
            label: status.label(),
            class,
        }
    }
}

/// A matrix cell for an account outside the control's scope.
const OUT_OF_SCOPE: Badge = Badge {
    label: "—",
    class: "none",
};

/// Everything the page shows, precomputed.
#[derive(Serialize)]
struct View {
    cover: Cover,
    /// Controls by verdict, and scope items (control × account × region) by verdict.
    controls_by_status: Vec<Tally>,
    items_by_status: Vec<Tally>,
    criteria: Vec<CriterionRow>,
    /// Matrix columns (control ids) and rows, grouped by account role.
    matrix_columns: Vec<String>,
    matrix_groups: Vec<MatrixGroup>,
    controls: Vec<ControlView>,
    inventory: Vec<InventoryRow>,
    exceptions: Vec<ExceptionRow>,
    disabled: Vec<DisabledRow>,
    evidence: Vec<EvidenceRow>,
    evidence_size: String,
    /// Choices of the filter bar: active accounts `(id, name)` and criteria.
    filter_accounts: Vec<(String, String)>,
    filter_criteria: Vec<String>,
}

/// The cover page facts.
#[derive(Serialize)]
struct Cover {
    org_id: String,
    management_id: String,
    management_name: String,
    period: String,
    started_at: String,
    finished_at: String,
    caller_arn: String,
    tool: String,
    command_line: String,
    accounts_active: usize,
    accounts_total: usize,
    regions: String,
    home_region: String,
    bundle_name: String,
}

/// One verdict's count, with its share for the inline SVG bar.
#[derive(Serialize)]
struct Tally {
    badge: Badge,
    count: usize,
    /// Start and width of its segment, in percent of the total.
    offset: f64,
    percent: f64,
}

#[derive(Serialize)]
struct CriterionRow {
    id: String,
    /// The criterion's series, e.g. "Logical and physical access controls".
    series: &'static str,
    /// The combined verdict of its controls.
    badge: Badge,
    controls: Vec<(String, Badge)>,
}

#[derive(Serialize)]
struct MatrixGroup {
    role: String,
    rows: Vec<MatrixRow>,
}

#[derive(Serialize)]
struct MatrixRow {
    account_id: String,
    name: String,
    ou_path: String,
    cells: Vec<Badge>,
}

#[derive(Serialize)]
struct ControlView {
    id: String,
    title: String,
    badge: Badge,
    severity: &'static str,
    tsc: Vec<String>,
    message: Option<String>,
    objective: Vec<String>,
    procedure: Vec<String>,
    params: Vec<(String, String)>,
    /// Which accounts and regions were tested, in words.
    scope: String,
    items_by_status: Vec<Tally>,
    assertions: Vec<AssertionInfo>,
    items: Vec<ItemView>,
    file: String,
}

#[derive(Serialize)]
struct ItemView {
    account_id: String,
    account_name: String,
    region: String,
    badge: Badge,
    message: String,
    evidence: Vec<EvidenceLink>,
}

#[derive(Serialize)]
struct EvidenceLink {
    path: String,
    /// The path without its account and region folders.
    name: String,
    sha256: String,
    short: String,
}

#[derive(Serialize)]
struct InventoryRow {
    id: String,
    name: String,
    email: String,
    status: &'static str,
    in_scope: bool,
    ou_path: String,
    role: String,
    joined: String,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct ExceptionRow {
    control: String,
    requirement: String,
    account_id: String,
    account_name: String,
    region: String,
    reason: String,
}

#[derive(Serialize)]
struct DisabledRow {
    control: String,
    title: String,
    reason: String,
}

#[derive(Serialize)]
struct EvidenceRow {
    path: String,
    account_id: String,
    region: String,
    call: String,
    qualifier: String,
    status: String,
    status_class: &'static str,
    collected_at: String,
    size: String,
    sha256: String,
}

fn build_view(input: &ReportInput<'_>) -> View {
    let controls = &input.results.controls;
    let criteria: BTreeSet<String> = controls.iter().flat_map(|c| c.tsc.clone()).collect();
    View {
        cover: cover(input),
        controls_by_status: tallies(controls.iter().map(|c| c.status)),
        items_by_status: tallies(
            controls
                .iter()
                .flat_map(|c| c.results.iter().map(|i| i.status)),
        ),
        criteria: criteria_rows(controls),
        matrix_columns: controls.iter().map(|c| c.id.clone()).collect(),
        matrix_groups: matrix_groups(input),
        controls: controls.iter().map(control_view).collect(),
        inventory: input.org.accounts.iter().map(inventory_row).collect(),
        exceptions: controls.iter().flat_map(exception_rows).collect(),
        disabled: controls
            .iter()
            .filter(|c| c.status == Status::Disabled)
            .map(|c| DisabledRow {
                control: c.id.clone(),
                title: c.title.clone(),
                reason: c.message.clone().unwrap_or_default(),
            })
            .collect(),
        evidence: input.evidence.iter().map(evidence_row).collect(),
        evidence_size: human_size(input.evidence.iter().map(|e| e.size).sum()),
        filter_accounts: (input.org.active_accounts())
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        filter_criteria: sort_criteria(criteria.into_iter().collect()),
    }
}

fn cover(input: &ReportInput<'_>) -> Cover {
    let (org, run) = (input.org, input.run);
    let management_id = org.organization.management_account_id.clone();
    Cover {
        org_id: org.organization.id.clone(),
        management_name: org
            .account(&management_id)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        management_id,
        period: run.period.clone(),
        started_at: readable_time(&run.started_at),
        finished_at: readable_time(&run.finished_at),
        caller_arn: run.caller_arn.clone(),
        tool: format!("{} {}", run.tool.name, run.tool.version),
        command_line: run.command_line.join(" "),
        accounts_active: org.active_accounts().count(),
        accounts_total: org.accounts.len(),
        regions: run.regions.join(", "),
        home_region: run.home_region.clone(),
        bundle_name: input.bundle_name.to_string(),
    }
}

/// `2026-11-23T08:49:48Z` → `2026-11-23 08:49:48 UTC`; anything unparsable as it is.
fn readable_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            let utc = t.with_timezone(&chrono::Utc);
            utc.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// Counts by verdict in the fixed order PASS, FAIL, NOT ASSESSED, DISABLED.
fn tallies(statuses: impl Iterator<Item = Status>) -> Vec<Tally> {
    let counts = Counts::of(statuses);
    let total = counts.total().max(1) as f64;
    let mut offset = 0.0;
    [
        (Status::Pass, counts.pass),
        (Status::Fail, counts.fail),
        (Status::NotAssessed, counts.not_assessed),
        (Status::Disabled, counts.disabled),
    ]
    .into_iter()
    .map(|(status, count)| {
        let percent = count as f64 * 100.0 / total;
        let tally = Tally {
            badge: status.into(),
            count,
            offset,
            percent,
        };
        offset += percent;
        tally
    })
    .collect()
}

fn criteria_rows(controls: &[ControlResult]) -> Vec<CriterionRow> {
    let mut by_criterion: BTreeMap<&str, Vec<&ControlResult>> = BTreeMap::new();
    for c in controls {
        for tsc in &c.tsc {
            by_criterion.entry(tsc).or_default().push(c);
        }
    }
    let mut rows: Vec<CriterionRow> = by_criterion
        .into_iter()
        .map(|(id, cs)| CriterionRow {
            id: id.to_string(),
            series: series_name(id),
            badge: Status::all_of(cs.iter().map(|c| c.status)).into(),
            controls: cs.iter().map(|c| (c.id.clone(), c.status.into())).collect(),
        })
        .collect();
    rows.sort_by_key(|row| criterion_sort_key(&row.id));
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

/// Orders criteria as the TSC do: CC before A1, C1, PI1, P…; CC6.10 after CC6.9.
fn criterion_sort_key(id: &str) -> (u8, String, u32) {
    let (series, number) = id.split_once('.').unwrap_or((id, "0"));
    let family = ["CC", "A", "C", "PI", "P"].iter().position(|f| {
        series
            .strip_prefix(f)
            .is_some_and(|d| d.parse::<u32>().is_ok())
    });
    let family = family.unwrap_or(9) as u8;
    (family, series.to_string(), number.parse().unwrap_or(0))
}

fn sort_criteria(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by_key(|id| criterion_sort_key(id));
    ids
}

/// A role's place in the report (`Role::ALL` order, unassigned last) and its name.
fn role_group(account: &Account) -> (usize, String) {
    match account.role {
        Some(role) => (
            Role::ALL.iter().position(|r| *r == role).unwrap_or(0),
            role.to_string(),
        ),
        None => (Role::ALL.len(), "unassigned".into()),
    }
}

/// Active accounts × controls: each cell the worst verdict of that control's
/// items for the account, DISABLED for a disabled control's scope, else "—".
fn matrix_groups(input: &ReportInput<'_>) -> Vec<MatrixGroup> {
    let controls = &input.results.controls;
    let mut worst: HashMap<(&str, usize), Status> = HashMap::new();
    for (column, c) in controls.iter().enumerate() {
        for item in &c.results {
            let key = (item.account_id.as_str(), column);
            let combined = worst
                .get(&key)
                .map_or(item.status, |s| Status::all_of([*s, item.status]));
            worst.insert(key, combined);
        }
    }
    let mut groups: BTreeMap<(usize, String), Vec<&Account>> = BTreeMap::new();
    for account in input.org.active_accounts() {
        groups.entry(role_group(account)).or_default().push(account);
    }
    groups
        .into_iter()
        .map(|((_, role), mut accounts)| {
            accounts.sort_by(|a, b| (&a.ou_path, &a.name).cmp(&(&b.ou_path, &b.name)));
            let rows = accounts
                .into_iter()
                .map(|account| MatrixRow {
                    account_id: account.id.clone(),
                    name: account.name.clone(),
                    ou_path: account.ou_path.clone(),
                    cells: (controls.iter().enumerate())
                        .map(
                            |(column, c)| match worst.get(&(account.id.as_str(), column)) {
                                Some(status) => (*status).into(),
                                None if c.status == Status::Disabled && in_scope(c, &role) => {
                                    Status::Disabled.into()
                                }
                                None => OUT_OF_SCOPE,
                            },
                        )
                        .collect(),
                })
                .collect();
            MatrixGroup { role, rows }
        })
        .collect()
}

/// Whether a control's account selector (`all` or a role) takes accounts of this role.
fn in_scope(control: &ControlResult, role: &str) -> bool {
    control.scope_accounts == "all" || control.scope_accounts == role
}

fn control_view(c: &ControlResult) -> ControlView {
    ControlView {
        id: c.id.clone(),
        title: c.title.clone(),
        badge: c.status.into(),
        severity: c.severity.as_str(),
        tsc: c.tsc.clone(),
        message: c.message.clone(),
        objective: paragraphs(&c.objective),
        procedure: paragraphs(&c.procedure),
        params: (c.params.iter())
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        scope: scope_text(c),
        items_by_status: tallies(c.results.iter().map(|i| i.status)),
        assertions: c.assertions.clone(),
        items: c.results.iter().map(item_view).collect(),
        file: c.file.clone(),
    }
}

/// The population tested, in words: which accounts, which regions, how many of each.
fn scope_text(c: &ControlResult) -> String {
    let accounts: BTreeSet<&str> = c.results.iter().map(|i| i.account_id.as_str()).collect();
    let regions: BTreeSet<&str> = c
        .results
        .iter()
        .filter_map(|i| i.region.as_deref())
        .collect();
    let who = match c.scope_accounts.as_str() {
        "all" => "every active account".to_string(),
        role => format!("the {role} account(s)"),
    };
    let where_ = match c.scope_regions.as_str() {
        "global" => "account-wide (global)".to_string(),
        "home" => "in the home region".to_string(),
        _ => "in every region of the run".to_string(),
    };
    let regions: Vec<&str> = regions.into_iter().collect();
    let regions = match regions.len() {
        0 => String::new(),
        n => format!(", {n} region(s): {}", regions.join(", ")),
    };
    format!("{who}, {where_}: {} account(s){regions}", accounts.len())
}

/// Joins the hard-wrapped lines of a TOML text block into paragraphs (blank lines separate them).
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn item_view(i: &ItemResult) -> ItemView {
    ItemView {
        account_id: i.account_id.clone(),
        account_name: i.account_name.clone(),
        region: i.region.clone().unwrap_or_else(|| "global".into()),
        badge: i.status.into(),
        message: i.message.clone(),
        evidence: i
            .evidence
            .iter()
            .map(|e| EvidenceLink {
                name: e.path.splitn(3, '/').nth(2).unwrap_or(&e.path).to_string(),
                path: e.path.clone(),
                sha256: e.sha256.clone(),
                short: e.sha256.chars().take(12).collect(),
            })
            .collect(),
    }
}

fn inventory_row(a: &Account) -> InventoryRow {
    InventoryRow {
        id: a.id.clone(),
        name: a.name.clone(),
        email: a.email.clone(),
        status: match a.status {
            crate::discovery::AccountStatus::Active => "ACTIVE",
            crate::discovery::AccountStatus::Suspended => "SUSPENDED",
            crate::discovery::AccountStatus::PendingClosure => "PENDING_CLOSURE",
        },
        in_scope: a.is_active(),
        ou_path: a.ou_path.clone(),
        role: role_group(a).1,
        joined: a.joined_at.get(..10).unwrap_or(&a.joined_at).to_string(),
        tags: a.tags.iter().map(|(k, v)| format!("{k} = {v}")).collect(),
    }
}

/// Every gap of a control: no population at all, or each requirement not assessed
/// for an account (and region), even when another requirement failed there.
fn exception_rows(c: &ControlResult) -> Vec<ExceptionRow> {
    let row = |requirement: &str, item: Option<&ItemResult>, reason: &str| ExceptionRow {
        control: c.id.clone(),
        requirement: requirement.to_string(),
        account_id: item.map(|i| i.account_id.clone()).unwrap_or_default(),
        account_name: item.map(|i| i.account_name.clone()).unwrap_or_default(),
        region: item.map_or(String::new(), |i| {
            i.region.clone().unwrap_or_else(|| "global".into())
        }),
        reason: reason.to_string(),
    };
    if c.status == Status::NotAssessed && c.results.is_empty() {
        return vec![row(
            "",
            None,
            c.message.as_deref().unwrap_or("No population."),
        )];
    }
    let mut rows = Vec::new();
    for item in &c.results {
        let gaps: Vec<_> = (item.assertions.iter())
            .filter(|a| a.status == Status::NotAssessed)
            .collect();
        for a in &gaps {
            rows.push(row(&a.id, Some(item), &a.message));
        }
        if gaps.is_empty() && item.status == Status::NotAssessed {
            rows.push(row("", Some(item), &item.message));
        }
    }
    rows
}

fn evidence_row(e: &EvidenceIndexEntry) -> EvidenceRow {
    let status_class = match e.status.as_str() {
        "ok" => "pass",
        "not_found" => "off",
        _ => "fail",
    };
    EvidenceRow {
        path: e.path.clone(),
        account_id: e.account_id.clone(),
        region: e.region.clone().unwrap_or_else(|| "global".into()),
        call: format!("{}:{}", e.service, e.operation),
        qualifier: e.qualifier.clone().unwrap_or_default(),
        status: match &e.error_code {
            Some(code) => format!("{} ({code})", e.status),
            None => e.status.clone(),
        },
        status_class,
        collected_at: e
            .collected_at
            .as_deref()
            .map(readable_time)
            .unwrap_or_default(),
        size: human_size(e.size),
        sha256: e.sha256.clone(),
    }
}
