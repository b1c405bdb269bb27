//! `report.html`: the one self-contained page an auditor opens.
//!
//! Logic lives here, presentation in `templates/report.html.tera`: this module
//! builds a view with everything precomputed (counts, the criteria table, the
//! coverage matrix, per-control sections, exceptions, the evidence index) and the
//! template only lays it out. Tera's autoescaping is on for the page, and nothing
//! derived from evidence, org.json or results is ever marked safe: resource
//! names, tags and error messages are untrusted input. Only the stylesheet and
//! script embedded from `templates/` are inserted as they are.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tera::{Context, Tera};

use super::bagit::human_size;
use super::ReportInput;
use crate::evaluation::{ControlResult, Status};

const TEMPLATE: &str = include_str!("../../templates/report.html.tera");
const STYLE: &str = include_str!("../../templates/report.css");
const SCRIPT: &str = include_str!("../../templates/report.js");

/// Error rendering the report (names the template).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Tera failed to parse or render the template.
    #[error("rendering templates/report.html.tera: {0:?}")]
    Render(#[from] tera::Error),
}

/// Renders the report.
pub fn render_report(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let mut tera = Tera::default();
    tera.add_raw_template("report.html", TEMPLATE)?;
    let mut context = Context::new();
    context.insert("r", &build_view(input));
    context.insert("style", STYLE);
    context.insert("script", SCRIPT);
    Ok(tera.render("report.html", &context)?)
}

#[derive(Serialize)]
struct Badge {
    label: &'static str,
    class: &'static str,
}

fn badge(status: Status) -> Badge {
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

#[derive(Serialize)]
struct View {
    org_id: String,
    management: String,
    period: String,
    window_start: String,
    window_end: String,
    caller_arn: String,
    tool: String,
    command_line: String,
    accounts_active: usize,
    accounts_total: usize,
    regions: String,
    home_region: String,
    bundle_name: String,
    summary: Vec<SummaryCell>,
    items: Vec<SummaryCell>,
    criteria: Vec<CriterionRow>,
    matrix_controls: Vec<String>,
    matrix_rows: Vec<MatrixRow>,
    controls: Vec<ControlView>,
    inventory: Vec<InventoryRow>,
    exceptions: Vec<ExceptionRow>,
    disabled: Vec<ExceptionRow>,
    evidence: Vec<EvidenceRow>,
    accounts_for_filter: Vec<(String, String)>,
    criteria_for_filter: Vec<String>,
}

#[derive(Serialize)]
struct SummaryCell {
    label: &'static str,
    class: &'static str,
    count: usize,
    /// Bar width in percent of the total, for the inline SVG chart.
    percent: f64,
    offset: f64,
}

#[derive(Serialize)]
struct CriterionRow {
    id: String,
    controls: Vec<(String, Badge)>,
}

#[derive(Serialize)]
struct MatrixRow {
    account_id: String,
    name: String,
    group: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Cell {
    label: &'static str,
    class: &'static str,
}

#[derive(Serialize)]
struct ControlView {
    id: String,
    title: String,
    badge: Badge,
    severity: &'static str,
    tsc: Vec<String>,
    objective: String,
    procedure: String,
    params: Vec<(String, String)>,
    scope: String,
    population: usize,
    message: Option<String>,
    assertions: Vec<crate::evaluation::AssertionInfo>,
    items: Vec<ItemView>,
    file: String,
}

#[derive(Serialize)]
struct ItemView {
    account_id: String,
    account_name: String,
    region: String,
    badge: Badge,
    message_lines: Vec<String>,
    evidence: Vec<EvidenceLink>,
}

#[derive(Serialize)]
struct EvidenceLink {
    path: String,
    name: String,
    sha256: String,
    short: String,
}

#[derive(Serialize)]
struct InventoryRow {
    id: String,
    name: String,
    email: String,
    status: String,
    in_scope: bool,
    ou_path: String,
    role: String,
    joined: String,
    tags: String,
}

#[derive(Serialize)]
struct ExceptionRow {
    control: String,
    account: String,
    region: String,
    reason: String,
}

#[derive(Serialize)]
struct EvidenceRow {
    path: String,
    account_id: String,
    region: String,
    service: String,
    operation: String,
    qualifier: String,
    status: String,
    status_class: &'static str,
    collected_at: String,
    size: String,
    sha256: String,
}

fn build_view(input: &ReportInput<'_>) -> View {
    let r = input.results;
    let org = input.org;
    let management = org
        .account(&org.organization.management_account_id)
        .map(|a| format!("{} ({})", a.id, a.name))
        .unwrap_or_else(|| org.organization.management_account_id.clone());
    let names: BTreeMap<&str, &str> = org
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    View {
        org_id: r.organization_id.clone(),
        management,
        period: r.period.clone(),
        window_start: r.collection_window.start.clone(),
        window_end: r.collection_window.end.clone(),
        caller_arn: input.run.caller_arn.clone(),
        tool: format!("{} {}", input.run.tool.name, input.run.tool.version),
        command_line: input.run.command_line.join(" "),
        accounts_active: org.active_accounts().count(),
        accounts_total: org.accounts.len(),
        regions: r.regions.join(", "),
        home_region: r.home_region.clone(),
        bundle_name: input.bundle_name.to_string(),
        summary: summary_cells(r.controls.iter().map(|c| c.status)),
        items: summary_cells(
            r.controls
                .iter()
                .flat_map(|c| c.results.iter().map(|i| i.status)),
        ),
        criteria: criteria_rows(&r.controls),
        matrix_controls: r.controls.iter().map(|c| c.id.clone()).collect(),
        matrix_rows: matrix_rows(input),
        controls: r.controls.iter().map(control_view).collect(),
        inventory: inventory_rows(input),
        exceptions: exception_rows(&r.controls, &names),
        disabled: r
            .controls
            .iter()
            .filter(|c| c.status == Status::Disabled)
            .map(|c| ExceptionRow {
                control: c.id.clone(),
                account: String::new(),
                region: String::new(),
                reason: c.message.clone().unwrap_or_default(),
            })
            .collect(),
        evidence: input.evidence.iter().map(evidence_row).collect(),
        accounts_for_filter: org
            .active_accounts()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        criteria_for_filter: r
            .controls
            .iter()
            .flat_map(|c| c.tsc.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

fn summary_cells(statuses: impl Iterator<Item = Status>) -> Vec<SummaryCell> {
    let counts = crate::evaluation::Counts::of(statuses);
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
        let b = badge(status);
        let percent = count as f64 * 100.0 / total;
        let cell = SummaryCell {
            label: b.label,
            class: b.class,
            count,
            percent,
            offset,
        };
        offset += percent;
        cell
    })
    .collect()
}

fn criteria_rows(controls: &[ControlResult]) -> Vec<CriterionRow> {
    let mut by_criterion: BTreeMap<String, Vec<(String, Badge)>> = BTreeMap::new();
    for c in controls {
        for tsc in &c.tsc {
            by_criterion
                .entry(tsc.clone())
                .or_default()
                .push((c.id.clone(), badge(c.status)));
        }
    }
    let mut rows: Vec<CriterionRow> = by_criterion
        .into_iter()
        .map(|(id, controls)| CriterionRow { id, controls })
        .collect();
    rows.sort_by_key(|row| criterion_sort_key(&row.id));
    rows
}

/// CC6.10 after CC6.9: sort by series, then number.
fn criterion_sort_key(id: &str) -> (String, u32) {
    let (series, number) = id.split_once('.').unwrap_or((id, "0"));
    (series.to_string(), number.parse().unwrap_or(0))
}

/// Accounts × controls, each cell the worst verdict of that control's items for the account.
fn matrix_rows(input: &ReportInput<'_>) -> Vec<MatrixRow> {
    let mut rows: Vec<MatrixRow> = input
        .org
        .active_accounts()
        .map(|account| {
            let cells = input
                .results
                .controls
                .iter()
                .map(|control| {
                    let statuses: Vec<Status> = control
                        .results
                        .iter()
                        .filter(|i| i.account_id == account.id)
                        .map(|i| i.status)
                        .collect();
                    if statuses.is_empty() {
                        Cell {
                            label: "—",
                            class: "none",
                        }
                    } else {
                        let b = badge(Status::all_of(statuses));
                        Cell {
                            label: b.label,
                            class: b.class,
                        }
                    }
                })
                .collect();
            let role = account
                .role
                .map(|r| r.to_string())
                .unwrap_or_else(|| "unassigned".into());
            MatrixRow {
                account_id: account.id.clone(),
                name: account.name.clone(),
                group: role,
                cells,
            }
        })
        .collect();
    rows.sort_by(|a, b| (role_rank(&a.group), &a.name).cmp(&(role_rank(&b.group), &b.name)));
    rows
}

fn role_rank(role: &str) -> usize {
    crate::discovery::Role::ALL
        .iter()
        .position(|r| r.as_str() == role)
        .unwrap_or(usize::MAX)
}

fn control_view(c: &ControlResult) -> ControlView {
    let regions: BTreeSet<&str> = c
        .results
        .iter()
        .filter_map(|i| i.region.as_deref())
        .collect();
    let accounts: BTreeSet<&str> = c.results.iter().map(|i| i.account_id.as_str()).collect();
    let accounts_text = if c.scope_accounts == "all" {
        "every active account".to_string()
    } else {
        format!("the {} account", c.scope_accounts)
    };
    let scope = match c.scope_regions.as_str() {
        "global" => format!(
            "{accounts_text} ({} account(s), account-wide)",
            accounts.len()
        ),
        _ => format!(
            "{accounts_text} × {} region(s): {} account(s), {}",
            regions.len(),
            accounts.len(),
            regions.into_iter().collect::<Vec<_>>().join(", ")
        ),
    };
    ControlView {
        id: c.id.clone(),
        title: c.title.clone(),
        badge: badge(c.status),
        severity: c.severity.as_str(),
        tsc: c.tsc.clone(),
        objective: reflow(&c.objective),
        procedure: reflow(&c.procedure),
        params: c
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        scope,
        population: c.results.len(),
        message: c.message.clone(),
        assertions: c.assertions.clone(),
        items: c
            .results
            .iter()
            .map(|i| ItemView {
                account_id: i.account_id.clone(),
                account_name: i.account_name.clone(),
                region: i.region.clone().unwrap_or_else(|| "global".into()),
                badge: badge(i.status),
                message_lines: i.message.lines().map(String::from).collect(),
                evidence: i
                    .evidence
                    .iter()
                    .map(|e| evidence_link(&e.path, &e.sha256))
                    .collect(),
            })
            .collect(),
        file: c.file.clone(),
    }
}

/// Joins the hard-wrapped lines of a TOML text block into paragraphs (blank lines separate them).
fn reflow(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn evidence_link(path: &str, sha256: &str) -> EvidenceLink {
    let name = path.splitn(3, '/').nth(2).unwrap_or(path).to_string();
    EvidenceLink {
        path: path.to_string(),
        name,
        sha256: sha256.to_string(),
        short: sha256.chars().take(12).collect(),
    }
}

fn inventory_rows(input: &ReportInput<'_>) -> Vec<InventoryRow> {
    input
        .org
        .accounts
        .iter()
        .map(|a| InventoryRow {
            id: a.id.clone(),
            name: a.name.clone(),
            email: a.email.clone(),
            status: format!("{:?}", a.status).to_uppercase(),
            in_scope: a.is_active(),
            ou_path: a.ou_path.clone(),
            role: a
                .role
                .map(|r| r.to_string())
                .unwrap_or_else(|| "unassigned".into()),
            joined: a.joined_at.get(..10).unwrap_or(&a.joined_at).to_string(),
            tags: a
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

fn exception_rows(controls: &[ControlResult], names: &BTreeMap<&str, &str>) -> Vec<ExceptionRow> {
    let mut rows = Vec::new();
    for c in controls {
        if c.status == Status::NotAssessed && c.results.is_empty() {
            rows.push(ExceptionRow {
                control: c.id.clone(),
                account: String::new(),
                region: String::new(),
                reason: c.message.clone().unwrap_or_default(),
            });
        }
        for item in &c.results {
            for a in item
                .assertions
                .iter()
                .filter(|a| a.status == Status::NotAssessed)
            {
                rows.push(ExceptionRow {
                    control: format!("{} / {}", c.id, a.id),
                    account: format!(
                        "{} {}",
                        item.account_id,
                        names.get(item.account_id.as_str()).unwrap_or(&"")
                    ),
                    region: item.region.clone().unwrap_or_else(|| "global".into()),
                    reason: a.message.clone(),
                });
            }
        }
    }
    rows
}

fn evidence_row(e: &super::EvidenceIndexEntry) -> EvidenceRow {
    let status = match &e.error_code {
        Some(code) => format!("{} ({code})", e.status),
        None => e.status.clone(),
    };
    let status_class = match e.status.as_str() {
        "ok" => "pass",
        "not_found" => "off",
        _ => "fail",
    };
    EvidenceRow {
        path: e.path.clone(),
        account_id: e.account_id.clone(),
        region: e.region.clone().unwrap_or_else(|| "global".into()),
        service: e.service.clone(),
        operation: e.operation.clone(),
        qualifier: e.qualifier.clone().unwrap_or_default(),
        status,
        status_class,
        collected_at: e.collected_at.clone().unwrap_or_default(),
        size: human_size(e.size),
        sha256: e.sha256.clone(),
    }
}
