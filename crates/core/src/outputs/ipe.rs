//! The IPE sheet of each control: what an auditor needs to judge the
//! completeness and accuracy of system-generated evidence ("information
//! produced by the entity", AICPA AT-C 205) without asking: the source
//! systems and every API operation read, with its parameters; the collection
//! window and who collected; the population and how its completeness was
//! reconciled (accounts listed by Organizations against org.json, in and out
//! of scope; regions; pagination); how accuracy is assured; and the exact
//! tests.
//!
//! Built from the results, the organization, the run and the evidence index
//! (each envelope's call facts). It is shown in the report (section 7),
//! written as `ipe.json` beside results.json and into the bundle, and as the
//! workbook's IPE sheet. Nothing here decides a verdict.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{EvidenceIndexEntry, ReportInput};
use crate::evaluation::ResultsSource;
use crate::evaluation::{AssertionInfo, ControlResult};

/// Parameter sets listed per operation before the rest are counted.
const PARAMETER_SETS_SHOWN: usize = 5;
/// Files named (incomplete pagination, errors) before the rest are counted.
const FILES_SHOWN: usize = 10;

/// One control's IPE sheet.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IpeSheet {
    pub control: String,
    pub title: String,
    /// The systems the evidence comes from (`AWS Organizations (organizations)`, …).
    pub sources: Vec<String>,
    /// Every API operation whose evidence the control read.
    pub operations: Vec<IpeOperation>,
    /// The collection window (run.json) and the run's caller.
    pub window: String,
    pub collected_by: String,
    /// Every identity that made one of this control's calls.
    pub callers: Vec<String>,
    /// How the population tested was reconciled, one statement per line.
    pub population: Vec<String>,
    /// How accuracy is assured, one statement per line.
    pub accuracy: Vec<String>,
    /// Parameters used (`name = value`).
    pub params: Vec<String>,
    /// The exact tests.
    pub tests: Vec<AssertionInfo>,
}

/// One API operation as the control read it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IpeOperation {
    /// `service:Operation`.
    pub call: String,
    pub files: usize,
    pub accounts: usize,
    /// Regions (`global` for global services).
    pub regions: Vec<String>,
    /// Distinct request parameters (JSON), the first few; `qualifiers` calls
    /// made once per resource.
    pub parameters: Vec<String>,
    pub qualifiers: usize,
    /// `12 ok, 1 not_found, 0 error`.
    pub answers: String,
    /// Errors by code (`AccessDenied × 2`).
    pub errors: Vec<String>,
    /// Whether every page of every file was read, else which files were not.
    pub complete: bool,
    pub incomplete: Vec<String>,
    /// Files with at least one AWS request id, of `files`.
    pub with_request_ids: usize,
    /// First and last collection time.
    pub collected: String,
}

/// The IPE sheet of every control, in the results' order.
/// (Each control's items are read in turn; a sheet keeps what it says of
/// them, a few lines, not the items.)
pub(crate) fn ipe_sheets(input: &ReportInput<'_>) -> Vec<IpeSheet> {
    let organization = organization_facts(input);
    (input.results.head().controls.iter().enumerate())
        .map(|(n, c)| sheet(c, &Cited::of(input, n), input, &organization))
        .collect()
}

/// What a sheet reads of a control's items: the files they cite, and the
/// accounts and regions they cover. Read a piece of items at a time, only
/// these fields parsed (the sheets are made beside results.json).
#[derive(Default)]
struct Cited {
    paths: BTreeSet<String>,
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
    items: usize,
}

/// The fields of an item a [`Cited`] reads; the rest is skipped.
#[derive(serde::Deserialize)]
struct CitedFields {
    account_id: String,
    region: Option<String>,
    #[serde(default)]
    evidence: Vec<PathOnly>,
}

#[derive(serde::Deserialize)]
struct PathOnly {
    path: String,
}

impl Cited {
    fn of(input: &ReportInput<'_>, n: usize) -> Cited {
        let mut cited = Cited::default();
        for piece in input.results.item_pieces::<CitedFields>(n) {
            for item in piece {
                cited.items += 1;
                cited.accounts.insert(item.account_id);
                cited.regions.extend(item.region);
                cited
                    .paths
                    .extend(item.evidence.into_iter().map(|e| e.path));
            }
        }
        cited
    }
}

/// `ipe.json`: every control's sheet.
pub(crate) fn ipe_json(sheets: &[IpeSheet]) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "schema_version": 1,
        "controls": sheets,
    }))
    .expect("the sheets serialise");
    bytes.push(b'\n');
    bytes
}

/// The reconciliation of the account population, the same for every control.
fn organization_facts(input: &ReportInput<'_>) -> Vec<String> {
    let org = input.org;
    let management = &org.organization.management_account_id;
    let listing = (input.evidence.iter()).find(|e| {
        e.service == "organizations" && e.operation == "ListAccounts" && &e.account_id == management
    });
    let mut lines = Vec::new();
    let active = org.active_accounts().count();
    let mut out_of_scope: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for a in org.accounts.iter().filter(|a| !a.is_active()) {
        let status = serde_json::to_value(a.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        out_of_scope.entry(status).or_default().push(&a.id);
    }
    let out: Vec<String> = (out_of_scope.iter())
        .map(|(s, ids)| format!("{} {s} ({})", ids.len(), ids.join(", ")))
        .collect();
    match listing.as_ref().and_then(|l| l.facts.as_ref().map(|f| (l, f))) {
        Some((l, f)) => {
            let equal = if f.item_count as usize == org.accounts.len() { "=" } else { "≠ (see org.inventory)" };
            lines.push(format!(
                "Accounts: AWS Organizations listed {} (organizations:ListAccounts in {management}, {} page(s), {}, {}) {equal} {} in org.json = {active} active, in scope + {} out of scope{}",
                f.item_count,
                f.pages,
                if f.complete { "complete" } else { "INCOMPLETE" },
                l.path,
                org.accounts.len(),
                org.accounts.len() - active,
                if out.is_empty() { String::new() } else { format!(": {}", out.join("; ")) }
            ));
        }
        None => lines.push(format!(
            "Accounts: no organizations:ListAccounts evidence of the management account; org.json holds {} = {active} active + {} out of scope",
            org.accounts.len(),
            org.accounts.len() - active
        )),
    }
    let unreached: Vec<&str> = (org.active_accounts())
        .filter(|a| a.reachable == Some(false))
        .map(|a| a.id.as_str())
        .collect();
    lines.push(match unreached.len() {
        0 => format!("Reached: all {active} active accounts (the audit role was assumed in each)"),
        n => format!("Reached: {} of {active} active accounts; not reached (their results are NOT ASSESSED): {}", active - n, unreached.join(", ")),
    });
    lines
}

fn sheet(
    c: &ControlResult,
    cited: &Cited,
    input: &ReportInput<'_>,
    organization: &[String],
) -> IpeSheet {
    // Every evidence file the control read, once, looked up in the index on
    // disk: only this control's files are read.
    let files: Vec<EvidenceIndexEntry> = (cited.paths.iter())
        .filter_map(|p| input.evidence.find(p))
        .collect();
    let mut by_call: BTreeMap<String, Vec<&EvidenceIndexEntry>> = BTreeMap::new();
    for f in &files {
        by_call
            .entry(format!("{}:{}", f.service, f.operation))
            .or_default()
            .push(f);
    }
    let operations: Vec<IpeOperation> = by_call
        .into_iter()
        .map(|(call, files)| operation(call, &files))
        .collect();
    let services: BTreeSet<&str> = files.iter().map(|f| f.service.as_str()).collect();
    let mut sources: Vec<String> = services
        .iter()
        .map(|s| format!("{} ({s})", service_name(s)))
        .collect();
    sources.push("org.json: the organization as discovered (AWS Organizations) and the roles auditpack.toml assigns".into());
    // A manual control's evidence: the attachments that name it.
    for a in (input.results.head().attachments.iter()).filter(|a| a.controls.contains(&c.id)) {
        sources.push(format!(
            "Attachment {} ({}): owner {}, dated {}, reviewed by {} (SHA-256 {})",
            a.file,
            a.description,
            if a.owner.is_empty() {
                "not named"
            } else {
                &a.owner
            },
            a.date,
            if a.reviewed_by.is_empty() {
                "not named"
            } else {
                &a.reviewed_by
            },
            a.sha256
        ));
    }
    let callers: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.facts.as_ref())
        .map(|f| &*f.caller_arn)
        .collect();

    let run = input.run;
    let mut population = organization.to_vec();
    let (accounts, regions) = (&cited.accounts, &cited.regions);
    population.push(format!(
        "This control: scope accounts = {}, regions = {}: {} account(s){} → {} item(s) tested",
        c.scope_accounts,
        c.scope_regions,
        accounts.len(),
        match regions.len() {
            0 => " (account-wide)".to_string(),
            n => format!(
                " × {n} region(s) ({})",
                Vec::from_iter(regions.iter().map(String::as_str)).join(", ")
            ),
        },
        cited.items
    ));
    if c.scope_regions == "each" {
        let missing: Vec<&str> = run
            .regions
            .iter()
            .map(String::as_str)
            .filter(|r| !regions.contains(*r))
            .collect();
        population.push(format!(
            "Regions: {} in the run ({}), {} with items{}",
            run.regions.len(),
            run.regions.join(", "),
            regions.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; none in {}", missing.join(", "))
            }
        ));
    }
    if !c.out_of_scope.is_empty() {
        let pairs: Vec<String> = (c.out_of_scope.iter())
            .map(|o| {
                format!(
                    "{}/{} ({})",
                    o.account_id,
                    o.region,
                    o.region_opt_status.as_deref().unwrap_or("not listed")
                )
            })
            .collect();
        population.push(format!(
            "Out of scope, region not enabled by the account (account:ListRegions): {}",
            pairs.join(", ")
        ));
    }
    let total_incomplete: usize = files
        .iter()
        .filter(|f| f.facts.as_ref().is_some_and(|x| !x.complete))
        .count();
    population.push(match total_incomplete {
        0 => format!("Pagination: every one of the {} file(s) holds every page of its answer", files.len()),
        n => format!("Pagination: {n} of {} file(s) stopped before the last page (their requirements are NOT ASSESSED; listed per operation)", files.len()),
    });

    let with_ids = files
        .iter()
        .filter(|f| f.facts.as_ref().is_some_and(|x| x.request_ids > 0))
        .count();
    let accuracy = vec![
        format!("Each file is the API's answer as received (AWS's field names), with the call, its parameters, the caller and the time in its envelope; {with_ids} of {} file(s) record AWS request ids, which CloudTrail can confirm", files.len()),
        "Every file's SHA-256 is in the evidence index and in the bag's manifest-sha256.txt (auditpack verify, or sha256sum -c); a changed byte is named".into(),
        format!("The verdicts are re-derived from the bag's own evidence and control file (data/controls/{}{}) by auditpack verify --reevaluate", c.file, c.file_sha256.as_deref().map(|s| format!(", SHA-256 {s}")).unwrap_or_default()),
        "Evidence that is missing, failed or incomplete makes the requirements reading it NOT ASSESSED, never a pass".into(),
    ];
    IpeSheet {
        control: c.id.clone(),
        title: c.title.clone(),
        sources,
        operations,
        window: format!("{} to {}", run.started_at, run.finished_at),
        collected_by: run.caller_arn.clone(),
        callers: callers.into_iter().map(String::from).collect(),
        population,
        accuracy,
        params: c.params.iter().map(|(k, v)| format!("{k} = {v}")).collect(),
        tests: c.assertions.clone(),
    }
}

fn operation(call: String, files: &[&EvidenceIndexEntry]) -> IpeOperation {
    let accounts: BTreeSet<&str> = files.iter().map(|f| f.account_id.as_str()).collect();
    let regions: BTreeSet<&str> = files
        .iter()
        .map(|f| f.region.as_deref().unwrap_or("global"))
        .collect();
    let mut parameters: BTreeSet<String> = BTreeSet::new();
    let mut qualifiers = 0;
    let (mut ok, mut not_found, mut error) = (0, 0, 0);
    let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
    let mut incomplete = Vec::new();
    let mut with_request_ids = 0;
    for f in files {
        match f.status.as_str() {
            "ok" => ok += 1,
            "not_found" => not_found += 1,
            _ => {
                error += 1;
                *errors
                    .entry(f.error_code.as_deref().unwrap_or(&f.status))
                    .or_default() += 1;
            }
        }
        qualifiers += usize::from(f.qualifier.is_some());
        if let Some(facts) = &f.facts {
            parameters.insert(facts.parameters.clone());
            with_request_ids += usize::from(facts.request_ids > 0);
            if !facts.complete {
                incomplete.push(f.path.clone());
            }
        }
    }
    let distinct = parameters.len();
    let mut parameters: Vec<String> = parameters.into_iter().take(PARAMETER_SETS_SHOWN).collect();
    if distinct > PARAMETER_SETS_SHOWN {
        parameters.push(format!(
            "… {} more distinct parameter set(s)",
            distinct - PARAMETER_SETS_SHOWN
        ));
    }
    let complete = incomplete.is_empty();
    if incomplete.len() > FILES_SHOWN {
        let more = incomplete.len() - FILES_SHOWN;
        incomplete.truncate(FILES_SHOWN);
        incomplete.push(format!("… {more} more"));
    }
    let times: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.collected_at.as_deref())
        .collect();
    IpeOperation {
        call,
        files: files.len(),
        accounts: accounts.len(),
        regions: regions.into_iter().map(String::from).collect(),
        parameters,
        qualifiers,
        answers: format!("{ok} ok, {not_found} not_found, {error} error"),
        errors: errors
            .into_iter()
            .map(|(code, n)| format!("{code} × {n}"))
            .collect(),
        complete,
        incomplete,
        with_request_ids,
        collected: match (times.first(), times.last()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => String::new(),
        },
    }
}

/// The AWS service an IAM prefix names, as an auditor knows it.
fn service_name(prefix: &str) -> &'static str {
    match prefix {
        "organizations" => "AWS Organizations",
        "iam" => "AWS IAM",
        "sts" => "AWS STS",
        "cloudtrail" => "AWS CloudTrail",
        "config" => "AWS Config",
        "guardduty" => "Amazon GuardDuty",
        "securityhub" => "AWS Security Hub",
        "access-analyzer" => "IAM Access Analyzer",
        "s3" | "s3control" => "Amazon S3",
        "ec2" => "Amazon EC2",
        "kms" => "AWS KMS",
        "sso" => "AWS IAM Identity Center",
        "ram" => "AWS RAM",
        "route53resolver" => "Amazon Route 53 Resolver",
        "account" => "AWS Account Management",
        _ => "AWS",
    }
}

#[cfg(test)]
mod tests;
