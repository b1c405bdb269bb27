//! `report.html`: the one self-contained page an external auditor opens.
//!
//! Logic lives here, presentation in `templates/report.html.tera`: this module
//! builds a `View` with everything precomputed (counts, the criteria table, the
//! coverage matrix, per-control sections, the inventory, exceptions, the
//! evidence index, readable sizes and dates) and the template only lays it out.
//! Tera's autoescaping is on for the page, and nothing derived from evidence,
//! `org.json`, `run.json` or results may EVER be marked `| safe`: account names,
//! tags, OU paths and error messages are untrusted input. Only the stylesheet
//! and script embedded from `templates/` are inserted as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use tera::{Context, Tera};

use super::bagit::human_size;
use super::{EvidenceIndexEntry, ReportInput};
use crate::discovery::{Account, Role};
use crate::evaluation::{AssertionInfo, ControlResult, Counts, EvidenceRef, ItemResult, Status};
use crate::evidence::RunInfo;

/// The template's name in Tera; autoescaping is turned on for it.
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
    /// Keeps Tera's whole cause chain: its top message alone says only "Failed to render".
    fn from(error: tera::Error) -> Self {
        let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        let detail = chain.map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
        let template = TEMPLATE_NAME;
        ReportError::Template { template, detail }
    }
}

/// Renders the report as one self-contained HTML page.
pub fn render_report(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let mut context = Context::new();
    context.insert("r", &build_view(input));
    context.insert("style", STYLE);
    context.insert("script", SCRIPT);
    Ok(engine()?.render(TEMPLATE_NAME, &context)?)
}

/// The one Tera instance: the embedded template, with autoescaping on.
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
        let label = status.label();
        Badge { label, class }
    }
}

/// A matrix cell for an account outside the control's scope.
const OUT_OF_SCOPE: Badge = Badge {
    label: "—",
    class: "none",
};

/// Everything the page shows, precomputed.
#[derive(Serialize)]
struct View<'a> {
    /// The collection run as recorded: tool, period, command line, caller, regions.
    run: &'a RunInfo,
    org_id: &'a str,
    management_id: &'a str,
    management_name: &'a str,
    bundle_name: &'a str,
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
    criteria: Vec<CriterionRow<'a>>,
    /// Coverage matrix rows (active accounts) grouped by role; columns are `controls`.
    matrix_groups: Vec<MatrixGroup<'a>>,
    controls: Vec<ControlView<'a>>,
    inventory: Vec<InventoryRow<'a>>,
    exceptions: Vec<Gap<'a>>,
    disabled: Vec<Gap<'a>>,
    evidence: Vec<EvidenceRow<'a>>,
    evidence_size: String,
}

/// One verdict's count, with its segment of the inline SVG bar (percent of the total).
#[derive(Serialize)]
struct Tally {
    badge: Badge,
    count: usize,
    offset: f64,
    percent: f64,
}

/// A criterion, the combined verdict of its controls, and each control's verdict.
#[derive(Serialize)]
struct CriterionRow<'a> {
    id: &'a str,
    series: &'static str,
    badge: Badge,
    controls: Vec<(&'a str, Badge)>,
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

#[derive(Serialize)]
struct ControlView<'a> {
    id: &'a str,
    title: &'a str,
    badge: Badge,
    severity: &'static str,
    tsc: &'a [String],
    message: Option<&'a str>,
    objective: Vec<String>,
    procedure: Vec<String>,
    /// Parameter name and its value as JSON.
    params: Vec<(&'a str, String)>,
    /// The population tested, in words.
    scope: String,
    items_by_status: Vec<Tally>,
    assertions: &'a [AssertionInfo],
    items: Vec<ItemView<'a>>,
    file: &'a str,
}

#[derive(Serialize)]
struct ItemView<'a> {
    account_id: &'a str,
    account_name: &'a str,
    region: &'a str,
    badge: Badge,
    message: &'a str,
    evidence: Vec<EvidenceLink<'a>>,
}

#[derive(Serialize)]
struct EvidenceLink<'a> {
    path: &'a str,
    /// The file's name (the full path is in `path`).
    name: &'a str,
    sha256: &'a str,
    short: &'a str,
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

/// Something not assessed (a requirement for an item, or a whole control) or disabled.
#[derive(Serialize)]
struct Gap<'a> {
    control: &'a str,
    title: &'a str,
    requirement: &'a str,
    account_id: &'a str,
    account_name: &'a str,
    region: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct EvidenceRow<'a> {
    entry: &'a EvidenceIndexEntry,
    region: &'a str,
    /// `ok`, `not_found`, or `error (Code)`.
    answer: String,
    answer_class: &'static str,
    collected_at: String,
    size: String,
}

fn build_view<'a>(input: &ReportInput<'a>) -> View<'a> {
    let (org, run, controls) = (input.org, input.run, &input.results.controls);
    let management_id = org.organization.management_account_id.as_str();
    View {
        run,
        org_id: &org.organization.id,
        management_id,
        management_name: org.account(management_id).map_or("", |a| &a.name),
        bundle_name: input.bundle_name,
        started_at: readable_time(&run.started_at),
        finished_at: readable_time(&run.finished_at),
        accounts_active: org.active_accounts().count(),
        accounts_total: org.accounts.len(),
        accounts_unreachable: (org.active_accounts())
            .filter(|a| a.reachable == Some(false))
            .count(),
        controls_by_status: tallies(controls.iter().map(|c| c.status)),
        items_by_status: tallies(
            controls
                .iter()
                .flat_map(|c| c.results.iter().map(|i| i.status)),
        ),
        criteria: criteria_rows(controls),
        matrix_groups: matrix_groups(input),
        controls: controls.iter().map(control_view).collect(),
        inventory: (org.accounts.iter())
            .map(|a| InventoryRow {
                account: a,
                in_scope: a.is_active(),
                unreachable: a.is_active() && a.reachable == Some(false),
                joined: a.joined_at.get(..10).unwrap_or(&a.joined_at),
            })
            .collect(),
        exceptions: controls.iter().flat_map(exceptions).collect(),
        disabled: (controls.iter())
            .filter(|c| c.status == Status::Disabled)
            .map(|c| gap(c, "", None, c.message.as_deref().unwrap_or("")))
            .collect(),
        evidence: input.evidence.iter().map(evidence_row).collect(),
        evidence_size: human_size(input.evidence.iter().map(|e| e.size).sum()),
    }
}

/// `2026-11-23T08:49:48Z` → `2026-11-23 08:49:48 UTC`; anything unparsable as it is.
fn readable_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => (t.with_timezone(&chrono::Utc))
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// Counts by verdict in the fixed order PASS, FAIL, NOT ASSESSED, DISABLED.
fn tallies(statuses: impl Iterator<Item = Status>) -> Vec<Tally> {
    let counts = Counts::of(statuses);
    let total = counts.total().max(1) as f64;
    let mut offset = 0.0;
    let by_status = [
        (Status::Pass, counts.pass),
        (Status::Fail, counts.fail),
        (Status::NotAssessed, counts.not_assessed),
        (Status::Disabled, counts.disabled),
    ];
    let mut tallies = Vec::new();
    for (status, count) in by_status {
        let percent = count as f64 * 100.0 / total;
        let badge = status.into();
        tallies.push(Tally {
            badge,
            count,
            offset,
            percent,
        });
        offset += percent;
    }
    tallies
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
            badge: Status::all_of(cs.iter().map(|c| c.status)).into(),
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
fn criterion_sort_key(id: &str) -> (usize, u32, u32) {
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

/// Active accounts × controls: each cell the worst verdict of that control's
/// items for the account, DISABLED within a disabled control's scope, else "—".
fn matrix_groups<'a>(input: &ReportInput<'a>) -> Vec<MatrixGroup<'a>> {
    let controls = &input.results.controls;
    let mut worst: HashMap<(&str, usize), Status> = HashMap::new();
    for (column, c) in controls.iter().enumerate() {
        for item in &c.results {
            let key = (item.account_id.as_str(), column);
            let seen = worst.get(&key).copied();
            worst.insert(key, Status::all_of(seen.into_iter().chain([item.status])));
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
        None if c.status == Status::Disabled && ["all", role].contains(&&*c.scope_accounts) => {
            Status::Disabled.into()
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

fn control_view(c: &ControlResult) -> ControlView<'_> {
    ControlView {
        id: &c.id,
        title: &c.title,
        badge: c.status.into(),
        severity: c.severity.as_str(),
        tsc: &c.tsc,
        message: c.message.as_deref(),
        objective: paragraphs(&c.objective),
        procedure: paragraphs(&c.procedure),
        params: c
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect(),
        scope: scope_text(c),
        items_by_status: tallies(c.results.iter().map(|i| i.status)),
        assertions: &c.assertions,
        items: c.results.iter().map(item_view).collect(),
        file: &c.file,
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
    let place = match c.scope_regions.as_str() {
        "global" => "account-wide (global)",
        "home" => "in the home region",
        _ => "in every region of the run",
    };
    let regions = match regions.len() {
        0 => String::new(),
        n => format!(", {n} region(s): {}", Vec::from_iter(regions).join(", ")),
    };
    format!("{who}, {place}: {} account(s){regions}", accounts.len())
}

/// Joins the hard-wrapped lines of a TOML text block into paragraphs (blank lines separate them).
fn paragraphs(text: &str) -> Vec<String> {
    (text.split("\n\n"))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn item_view(i: &ItemResult) -> ItemView<'_> {
    ItemView {
        account_id: &i.account_id,
        account_name: &i.account_name,
        region: i.region.as_deref().unwrap_or("global"),
        badge: i.status.into(),
        message: &i.message,
        evidence: i.evidence.iter().map(evidence_link).collect(),
    }
}

fn evidence_link(e: &EvidenceRef) -> EvidenceLink<'_> {
    EvidenceLink {
        path: &e.path,
        name: e.path.rsplit('/').next().unwrap_or(&e.path),
        sha256: &e.sha256,
        short: e.sha256.get(..12).unwrap_or(&e.sha256),
    }
}

fn gap<'a>(
    c: &'a ControlResult,
    requirement: &'a str,
    item: Option<&'a ItemResult>,
    reason: &'a str,
) -> Gap<'a> {
    Gap {
        control: &c.id,
        title: &c.title,
        requirement,
        account_id: item.map_or("", |i| &i.account_id),
        account_name: item.map_or("", |i| &i.account_name),
        region: item.map_or("", |i| i.region.as_deref().unwrap_or("global")),
        reason,
    }
}

/// Every gap of a control: no population at all, or each requirement not assessed
/// for an account (and region), even where another requirement failed.
fn exceptions(c: &ControlResult) -> Vec<Gap<'_>> {
    if c.status == Status::NotAssessed && c.results.is_empty() {
        return vec![gap(
            c,
            "",
            None,
            c.message.as_deref().unwrap_or("No population."),
        )];
    }
    let mut gaps = Vec::new();
    for item in &c.results {
        let before = gaps.len();
        for a in item
            .assertions
            .iter()
            .filter(|a| a.status == Status::NotAssessed)
        {
            gaps.push(gap(c, &a.id, Some(item), &a.message));
        }
        if gaps.len() == before && item.status == Status::NotAssessed {
            gaps.push(gap(c, "", Some(item), &item.message));
        }
    }
    gaps
}

fn evidence_row(e: &EvidenceIndexEntry) -> EvidenceRow<'_> {
    let answer_class = match e.status.as_str() {
        "ok" => "pass",
        "not_found" => "off",
        _ => "fail",
    };
    EvidenceRow {
        entry: e,
        region: e.region.as_deref().unwrap_or("global"),
        answer: match &e.error_code {
            Some(code) => format!("{} ({code})", e.status),
            None => e.status.clone(),
        },
        answer_class,
        collected_at: e
            .collected_at
            .as_deref()
            .map(readable_time)
            .unwrap_or_default(),
        size: human_size(e.size),
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    use super::*;
    use crate::discovery::Org;
    use crate::evaluation::Results;

    const SCRIPT_TAG: &str = "<script>alert(1)</script>";
    const IMG_TAG: &str = "\"><img src=x onerror=alert(1)>";
    const M: &str = "111111111111";
    const W: &str = "222222222222";

    fn parse<T: DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).expect("fixture matches the type")
    }

    fn item(account: &str, region: Option<&str>, status: &str, message: &str) -> Value {
        json!({
            "account_id": account, "account_name": SCRIPT_TAG, "region": region,
            "status": status, "message": message,
            "assertions": [{ "id": "check", "status": status, "message": message }],
            "evidence": [{
                "path": format!("{account}/global/iam/GetAccountSummary.json"),
                "sha256": "ab".repeat(32)
            }]
        })
    }

    fn control(id: &str, status: &str, scope: &str, results: Vec<Value>) -> Value {
        let message = (status == "DISABLED").then_some("Disabled in auditpack.toml: not used");
        json!({
            "id": id, "title": format!("Title of {id}"), "tsc": ["CC6.1", "CC7.2"],
            "severity": "high", "status": status, "message": message,
            "objective": "Objective\ntext.", "procedure": "Procedure text.",
            "scope_accounts": scope, "scope_regions": "global", "params": { "max_age_days": 90 },
            "file": format!("{id}.toml"), "results": results,
            "assertions": [{
                "id": "check", "requirement": "Root has MFA", "for_each": "users.filter(u, u.on)",
                "expect": "summary.AccountMFAEnabled == 1 && name != \"<b>\""
            }]
        })
    }

    fn account(id: &str, name: &str, role: Option<&str>, status: &str) -> Value {
        json!({
            "id": id, "name": name, "email": format!("{id}@example.com"), "status": status,
            "ou_path": "Root/Workloads", "role": role, "joined_at": "2024-01-02T03:04:05Z",
            "tags": { "owner": SCRIPT_TAG }, "reachable": id != W
        })
    }

    fn results() -> Results {
        let na = "s3:GetPublicAccessBlock failed with AccessDenied";
        parse(json!({
            "schema_version": 1, "tool": { "name": "auditpack", "version": "0.1.0" },
            "organization_id": "o-test123456", "management_account_id": M, "period": "2026-Q4",
            "generated_at": "2026-11-20T09:16:41Z",
            "collection_window": { "start": "2026-11-20T09:12:00Z", "end": "2026-11-20T09:16:41Z" },
            "home_region": "us-east-1", "regions": ["eu-west-1", "us-east-1"],
            "summary": { "controls": Counts::default(), "items": Counts::default() },
            "controls": [
                control("iam.root-protection", "FAIL", "all", vec![
                    item(M, None, "PASS", "All met."),
                    item(W, None, "FAIL", &format!("line one\n{IMG_TAG}")),
                ]),
                control("s3.public-access", "NOT_ASSESSED", "all", vec![
                    item(M, Some("eu-west-1"), "NOT_ASSESSED", na),
                ]),
                control("config.recording", "PASS", "management", vec![
                    item(M, Some("eu-west-1"), "PASS", "ok"),
                ]),
                control("guardduty.coverage", "DISABLED", "all", vec![]),
            ]
        }))
    }

    fn org() -> Org {
        parse(json!({
            "schema_version": 1,
            "organization": {
                "id": "o-test123456", "management_account_id": M, "feature_set": "ALL",
                "arn": "arn:aws:organizations::111111111111:organization/o-test123456"
            },
            "accounts": [
                account(M, "acme-management", Some("management"), "ACTIVE"),
                account(W, SCRIPT_TAG, None, "ACTIVE"),
                account("333333333333", "acme-old", Some("workload"), "SUSPENDED"),
            ]
        }))
    }

    fn run() -> RunInfo {
        parse(json!({
            "schema_version": 1, "tool": { "name": "auditpack", "version": "0.1.0" },
            "period": "2026-Q4", "started_at": "2026-11-20T09:12:00Z",
            "finished_at": "2026-11-20T09:16:41Z", "home_region": "us-east-1",
            "regions": ["eu-west-1", "us-east-1"],
            "command_line": ["auditpack", "collect", "--period", "2026-Q4"],
            "caller_arn": "arn:aws:sts::111111111111:assumed-role/Audit/alice"
        }))
    }

    fn evidence() -> Vec<EvidenceIndexEntry> {
        vec![EvidenceIndexEntry {
            path: format!("{M}/global/iam/GetAccountSummary.json"),
            account_id: M.into(),
            region: None,
            service: "iam".into(),
            operation: "GetAccountSummary".into(),
            qualifier: Some(SCRIPT_TAG.into()),
            status: "error".into(),
            error_code: Some("AccessDenied".into()),
            collected_at: Some("2026-11-20T09:13:00Z".into()),
            size: 12_345,
            sha256: "cd".repeat(32),
        }]
    }

    fn render() -> String {
        let (results, org, run, evidence) = (results(), org(), run(), evidence());
        let bundle_name = "auditpack-o-test123456-2026-Q4";
        let input = ReportInput {
            results: &results,
            org: &org,
            run: &run,
            evidence: &evidence,
            bundle_name,
        };
        render_report(&input).expect("renders")
    }

    #[test]
    fn renders_org_period_controls_and_every_status() {
        let html = render();
        let controls = [
            "iam.root-protection",
            "s3.public-access",
            "config.recording",
        ];
        let expected = [
            "o-test123456",
            "2026-Q4",
            "auditpack 0.1.0",
            "2026-11-20 09:12:00 UTC",
            "12.3 KB",
            "error (AccessDenied)",
            "sha256sum -c manifest-sha256.txt",
            "auditpack verify auditpack-o-test123456-2026-Q4.zip",
            "Disabled in auditpack.toml: not used",
            "OUT OF SCOPE",
            "NOT REACHED",
            "Logical and physical access controls",
            "id=\"c-guardduty.coverage\"",
        ];
        for needle in expected.iter().chain(&controls) {
            assert!(html.contains(needle), "missing {needle}");
        }
        for status in [
            Status::Pass,
            Status::Fail,
            Status::NotAssessed,
            Status::Disabled,
        ] {
            assert!(
                html.contains(&format!(">{}<", status.label())),
                "missing {status:?}"
            );
        }
    }

    #[test]
    fn untrusted_text_is_escaped() {
        let html = render();
        for raw in [SCRIPT_TAG, IMG_TAG, "<img", "\"<b>\""] {
            assert!(!html.contains(raw), "raw {raw}");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the embedded script"
        );
    }

    #[test]
    fn page_is_self_contained() {
        let html = render().to_ascii_lowercase();
        let external = [
            "http://", "https://", "<link", "<iframe", "<object", "<embed", "url(",
        ];
        for needle in external.iter().chain(&["<img", "@import"]) {
            assert!(!html.contains(needle), "found {needle}");
        }
        // Escaped text holds no '<', so every '<' opens a real tag: none may load anything.
        for tag in html
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(t))
        {
            assert!(!tag.contains("src="), "<{tag}>");
        }
        assert!(html.contains("<script>") && html.contains("<style>"));
        let link =
            "href=\"evidence/111111111111&#x2f;global&#x2f;iam&#x2f;getaccountsummary.json\"";
        assert!(html.contains(link), "evidence links are relative to data/");
    }

    #[test]
    fn matrix_cells_are_the_worst_status_or_a_dash() {
        let (results, org, run, evidence) = (results(), org(), run(), evidence());
        let bundle_name = "b";
        let input = ReportInput {
            results: &results,
            org: &org,
            run: &run,
            evidence: &evidence,
            bundle_name,
        };
        let groups = matrix_groups(&input);
        let roles: Vec<&str> = groups.iter().map(|g| g.role.as_str()).collect();
        assert_eq!(
            roles,
            ["management", "unassigned"],
            "suspended accounts are not rows"
        );
        let labels = |g: &MatrixGroup| g.rows[0].cells.iter().map(|c| c.label).collect::<Vec<_>>();
        assert_eq!(
            labels(&groups[0]),
            ["PASS", "NOT ASSESSED", "PASS", "DISABLED"]
        );
        assert_eq!(labels(&groups[1]), ["FAIL", "—", "—", "DISABLED"]);
    }

    #[test]
    fn exceptions_list_each_gap_with_its_reason() {
        let results = results();
        let gaps: Vec<Gap> = results.controls.iter().flat_map(exceptions).collect();
        assert_eq!(gaps.len(), 1);
        let gap = &gaps[0];
        assert_eq!(
            (gap.control, gap.requirement, gap.region),
            ("s3.public-access", "check", "eu-west-1")
        );
        assert!(gap.reason.contains("AccessDenied"));
    }

    #[test]
    fn criteria_sort_in_tsc_order() {
        let mut ids = ["A1.2", "CC6.10", "PI1.1", "CC6.9", "C1.1", "CC10.1", "P4.1"];
        ids.sort_by_key(|id| criterion_sort_key(id));
        assert_eq!(
            ids,
            ["CC6.9", "CC6.10", "CC10.1", "A1.2", "C1.1", "PI1.1", "P4.1"]
        );
    }
}
