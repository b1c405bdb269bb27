//! `auditpack collect`: collect evidence from every account and region of the
//! Organization (read-only API calls) into an evidence folder.

use std::path::PathBuf;
use std::time::Duration;

use auditpack_aws::collection::runner::{CollectRequest, CollectSummary};
use auditpack_aws::collection::session::{AssumeSettings, ClientSettings};
use auditpack_core::evaluation::config::Config;
use auditpack_core::evidence::period::{current_quarter, resolve_period};
use auditpack_core::org::Scope;
use auditpack_core::report::load_controls_and_config;
use clap::Args;

use super::ControlsArgs;
use crate::exit::Failure;

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack collect --regions us-east-1,eu-west-1 --out evidence/2026-Q4\n  \
    AWS_PROFILE=audit auditpack collect --role-name AuditpackReadOnly --external-id $EXT --regions us-east-1 --out ev\n  \
    auditpack collect --ou Root/Workloads --regions all --period 2026-Q4 --out shard-workloads   (one shard; join with auditpack merge)\n\n\
    Credentials come from the SDK's default chain (environment, --profile, SSO, web identity, instance or\n\
    container role); AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are honoured.";

/// `auditpack collect`'s arguments (also the first half of `run`'s).
#[derive(Args)]
pub struct CollectArgs {
    /// Output folder (must not exist or be empty); written as OUT.partial and renamed when complete.
    #[arg(long)]
    pub out: PathBuf,
    /// Regions to collect, comma-separated (e.g. us-east-1,eu-west-1), or `all`: every region
    /// enabled for the management account (account:ListRegions).
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub regions: Vec<String>,
    /// Home region (organization trail, global calls); default: the SDK's region chain, else us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile to use instead of the default credential chain.
    #[arg(long)]
    pub profile: Option<String>,
    /// Role assumed in each member account (a dedicated read-only audit role is recommended).
    #[arg(long, default_value = "OrganizationAccountAccessRole")]
    pub role_name: String,
    /// External id required by the audit role's trust policy.
    #[arg(long)]
    pub external_id: Option<String>,
    /// Audit period: a year (2026), half (2026-H2), quarter (2026-Q4) or interval of days
    /// (2026-10-01/2026-12-31); fiscal when auditpack.toml sets [period]
    /// fiscal_year_start_month. Default: the current calendar quarter.
    #[arg(long)]
    pub period: Option<String>,
    /// HTTP requests in flight across the whole run.
    #[arg(long, default_value_t = 64)]
    pub max_concurrency: usize,
    /// HTTP requests in flight per account (keeps each account under AWS's per-account API rates).
    #[arg(long, default_value_t = 8)]
    pub account_concurrency: usize,
    /// Seconds one call may take, retries included.
    #[arg(long, default_value_t = 60)]
    pub call_timeout: u64,
    /// Attempts per call (standard retry with jittered backoff for throttling).
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
    /// Path-style S3 addressing (S3-compatible endpoints and emulators).
    #[arg(long)]
    pub s3_path_style: bool,
    /// No progress bar, plain lines only.
    #[arg(long)]
    pub no_progress: bool,
    /// Collect only the accounts in this OU and the OUs below it (e.g. Root/Workloads); repeatable.
    /// With --accounts, makes one shard of the organization, to be joined by `auditpack merge`.
    #[arg(long, value_name = "OU_PATH")]
    pub ou: Vec<String>,
    /// Collect only these accounts (comma-separated ids), besides any --ou.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub controls: ControlsArgs,
}

/// Collects into `args.out`; returns the evidence folder.
pub fn run(args: &CollectArgs) -> Result<PathBuf, Failure> {
    let (controls, config) =
        load_controls_and_config(&args.controls.set(), args.controls.config_path().as_deref())?;
    let request = request(args, &config)?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::tool(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            done = auditpack_aws::collection::runner::collect(&request, &controls, &config) => Some(done),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(summary) = outcome else {
        return Err(Failure::tool(format!(
            "interrupted; the partial evidence stays in {} and is not a complete run",
            auditpack_core::evidence::staging::staging_path(&args.out).display()
        )));
    };
    let summary = summary?;
    print_summary(&summary);
    Ok(summary.out)
}

/// The collection request; a `--period` that does not resolve to dates (or
/// an impossible fiscal year start) is an input error, exit 2, before any call.
fn request(args: &CollectArgs, config: &Config) -> Result<CollectRequest, Failure> {
    let period = args
        .period
        .clone()
        .unwrap_or_else(|| current_quarter(chrono::Utc::now().date_naive()));
    let period_dates = resolve_period(&period, config.period.fiscal_year_start_month)
        .map_err(|e| Failure::input(format!("--period: {e}")))?;
    Ok(CollectRequest {
        out: args.out.clone(),
        period,
        period_dates,
        regions: args.regions.clone(),
        client: ClientSettings {
            profile: args.profile.clone(),
            home_region: args.region.clone(),
            max_attempts: args.max_attempts,
            call_timeout: Duration::from_secs(args.call_timeout),
            s3_path_style: args.s3_path_style,
        },
        assume: AssumeSettings {
            role_name: args.role_name.clone(),
            external_id: args.external_id.clone(),
            session_name: "auditpack".into(),
        },
        max_concurrency: args.max_concurrency,
        account_concurrency: args.account_concurrency,
        scope: Scope::new(&args.ou, &args.accounts),
        command_line: std::env::args().collect(),
        progress: !args.no_progress,
    })
}

fn print_summary(s: &CollectSummary) {
    let active = s.org.active_accounts().count();
    outln!(
        "collected: {} of {} active accounts ({} in the organization), {} region(s), {} calls in {:.1}s",
        s.accounts_collected,
        active,
        s.org.accounts.len(),
        s.regions.len(),
        s.stats.calls,
        s.duration.as_secs_f64()
    );
    outln!(
        "requests: {} HTTP requests, {} of them retries (throttled or failed attempts the SDK tried again)",
        s.http_requests, s.http_retries
    );
    let left_to_other_shards = s
        .org
        .active_accounts()
        .filter(|a| a.reachable.is_none())
        .count();
    if left_to_other_shards > 0 {
        outln!(
            "shard: {left_to_other_shards} active account(s) outside --ou/--accounts were not collected \
             (NOT ASSESSED unless merged with the shards that have them: auditpack merge)"
        );
    }
    for id in &s.accounts_unreachable {
        outln!(
            "unreachable: {id} ({}; its controls will be NOT ASSESSED)",
            why_unreachable(&s.out, id)
        );
    }
    for account in s.org.accounts.iter().filter(|a| !a.is_active()) {
        outln!(
            "out of scope: {} {} ({:?})",
            account.id,
            account.name,
            account.status
        );
    }
    let failed: Vec<String> = s
        .stats
        .errors_by_code
        .iter()
        .map(|(code, n)| format!("{code} ×{n}"))
        .collect();
    outln!(
        "failed calls: {}",
        if failed.is_empty() {
            "none".to_string()
        } else {
            failed.join(", ")
        }
    );
    print_failures_by_account(s);
    outln!("evidence: {} ({} bytes)", s.out.display(), s.stats.bytes);
}

/// Lines of failures by account printed at most: a run where one call fails
/// in every account of a large organization would otherwise bury the summary
/// (the error envelopes name every one).
const FAILURE_LINES: usize = 20;

/// One line per account and reason: which account lost which evidence, and
/// why (the class in words, the code), so a reset, a 5xx burst, a timeout or
/// throttling is told apart in the console, not only in the evidence.
/// Unreachable accounts have their own line above.
fn print_failures_by_account(s: &CollectSummary) {
    let lines: Vec<String> = (s.stats.failed_by_account.iter())
        .filter(|(id, _)| !s.accounts_unreachable.contains(id))
        .flat_map(|(id, reasons)| {
            let name = s.org.account(id).map(|a| a.name.as_str()).unwrap_or("");
            reasons.iter().map(move |((why, code), failed)| {
                let shown: Vec<&str> = (failed.operations.iter().take(3))
                    .map(String::as_str)
                    .collect();
                let mut operations = shown.join(", ");
                if failed.operations.len() > shown.len() {
                    let more = failed.operations.len() - shown.len();
                    operations.push_str(&format!(" and {more} more"));
                }
                format!(
                    "failed in {id} ({name}): {} call(s), {why} ({code}): {operations}",
                    failed.calls
                )
            })
        })
        .collect();
    for line in lines.iter().take(FAILURE_LINES) {
        outln!("{line}");
    }
    if lines.len() > FAILURE_LINES {
        outln!(
            "failed in {} more account × reason(s): see the error envelopes in the evidence",
            lines.len() - FAILURE_LINES
        );
    }
}

/// Why an account could not be reached, from its recorded AssumeRole answer:
/// a refusal (the role could not be assumed) is not an outage (the endpoint
/// could not be reached), and the console says which.
fn why_unreachable(out: &std::path::Path, id: &str) -> String {
    let path = out.join(id).join("global/sts/AssumeRole.json");
    let envelope: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let error = &envelope["error"];
    let code = error["code"].as_str().unwrap_or("unknown");
    match error["class"].as_str() {
        Some("unreachable") => {
            format!("the STS endpoint could not be reached ({code}); not a refusal")
        }
        Some("timeout") => format!("AssumeRole timed out ({code})"),
        Some("access_denied") => format!("its role could not be assumed: {code}"),
        Some(class) => format!("AssumeRole failed: {code} ({class})"),
        None => "AssumeRole failed".to_string(),
    }
}
