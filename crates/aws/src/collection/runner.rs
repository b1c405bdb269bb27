//! `auditpack collect`: discovery, then every account concurrently (assume role,
//! then every region and source concurrently), under a global and a per-account
//! limit on HTTP requests in flight ([`super::limits`]).
//!
//! Evidence is streamed to disk as each answer arrives (memory stays flat as the
//! organization grows) into `<out>.partial`, which is renamed to `<out>` only
//! when the run completes: an interrupted or crashed run never leaves a folder
//! that looks complete.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};

use super::answer::CallError;
use super::context::{LookupPlan, OpSet, RegionCtx};
use super::limits::{shared_https_client, Limits};
use super::plan::{build_plan, some_control_reads};
use super::recorder::{now_rfc3339, RecordError, Recorder, Stats};
use super::session::{
    assume_role, base_config, identify, AccountSession, AssumeSettings, ClientSettings,
};
use super::sources::account::{enabled_region_names, list_regions, region_names};
use super::sources::collector;
use crate::discovery::{discover, DiscoveryError};
use auditpack_core::catalog::{self, SOURCES};
use auditpack_core::evaluation::config::Config;
use auditpack_core::evaluation::Control;
use auditpack_core::evidence::staging::{self, StagingError};
use auditpack_core::evidence::{RegionDir, RunInfo, ToolInfo, SCHEMA_VERSION};
use auditpack_core::org::{Account, Org, Scope, ScopeError};

/// What `auditpack collect` needs.
#[derive(Debug, Clone)]
pub struct CollectRequest {
    /// The evidence folder to create (must not exist, or be empty).
    pub out: PathBuf,
    /// Period label, e.g. `2026-Q4`.
    pub period: String,
    /// The period's dates, resolved from the label.
    pub period_dates: auditpack_core::evidence::period::PeriodDates,
    /// Regions to collect.
    pub regions: Vec<String>,
    /// SDK settings.
    pub client: ClientSettings,
    /// How to reach member accounts.
    pub assume: AssumeSettings,
    /// Calls in flight across the run.
    pub max_concurrency: usize,
    /// Calls in flight per account.
    pub account_concurrency: usize,
    /// Which accounts to collect (a shard), or all of them.
    pub scope: Scope,
    /// The command line, for run.json.
    pub command_line: Vec<String>,
    /// Show a progress bar (a terminal) or plain lines (CI).
    pub progress: bool,
}

/// What a collection run did.
#[derive(Debug, Clone)]
pub struct CollectSummary {
    /// The organization.
    pub org: Org,
    /// Active accounts collected from.
    pub accounts_collected: usize,
    /// Active accounts whose role could not be assumed.
    pub accounts_unreachable: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Call counters.
    pub stats: Stats,
    /// HTTP requests sent, retries included.
    pub http_requests: u64,
    /// HTTP requests that retried a throttled or failed attempt.
    pub http_retries: u64,
    /// Wall time.
    pub duration: Duration,
    /// Where the evidence is.
    pub out: PathBuf,
}

/// Why collection stopped.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The output folder exists and is not empty, or could not be written.
    #[error(transparent)]
    Output(#[from] StagingError),
    /// `--ou` or `--accounts` selects nothing that exists.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// No usable credentials.
    #[error("cannot identify the caller (sts:GetCallerIdentity): {0}")]
    NoIdentity(String),
    /// `--regions all` could not be resolved.
    #[error("cannot list the enabled regions: {0}")]
    Regions(String),
    /// Discovery failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// Evidence could not be written.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// What `auditpack init` learns before it writes a starter `auditpack.toml`:
/// the organization (with every account's tags, from which roles are
/// guessed), the home region the credentials resolve to, and the regions the
/// management account has enabled.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The organization, every account with its OU path and tags; no roles.
    pub org: Org,
    /// The credentials' region (`--region`, or the default chain's).
    pub home_region: String,
    /// The management account's enabled regions (`account:ListRegions`), or
    /// why they could not be listed.
    pub enabled_regions: Result<Vec<String>, String>,
}

/// Discovers the organization with the caller's credentials, reading every
/// account's tags, and lists the enabled regions: the read-only calls of a
/// collection's first step, nothing in member accounts. The calls are
/// recorded as usual into `request.out`, a scratch folder the caller
/// discards (init writes a config, not evidence).
pub async fn survey(request: &CollectRequest) -> Result<Survey, CollectError> {
    let staging = staging::prepare(&request.out)?;
    let recorder = Recorder::new(&staging);
    let limits = request_limits(request);
    let (management, home_region) = management_session(request, &limits, &recorder).await?;
    let nothing_planned = OpSet::new();
    let ctx = region_ctx(
        &management,
        None,
        &nothing_planned,
        &recorder,
        request,
        &NO_LOOKUPS,
    );
    let org = discover(&ctx, &Config::default(), true).await?;
    let enabled_regions = match list_account_regions(&ctx).await? {
        Ok(listing) => Ok(enabled_region_names(&listing)),
        Err(e) => Err(format!(
            "account:ListRegions failed ({}: {})",
            e.code, e.message
        )),
    };
    Ok(Survey {
        org,
        home_region,
        enabled_regions,
    })
}

/// The run's HTTP client and concurrency limits, as the request sets them.
fn request_limits(request: &CollectRequest) -> Limits {
    Limits::new(
        shared_https_client(),
        request.max_concurrency,
        request.account_concurrency,
    )
}

/// The caller's own session (the management account, identified by
/// `sts:GetCallerIdentity`, recorded) and the home region its configuration
/// resolves to: the first step of `collect` and of `init`'s survey.
async fn management_session(
    request: &CollectRequest,
    limits: &Limits,
    recorder: &Recorder,
) -> Result<(AccountSession, String), CollectError> {
    let management_limits = limits.for_account();
    let base = base_config(&request.client, management_limits.http_client).await;
    let home_region = base
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    let management = identify(&base, recorder, management_limits.admission)
        .await?
        .map_err(|e| CollectError::NoIdentity(format!("{}: {}", e.code, e.message)))?;
    Ok((management, home_region))
}

/// Runs a whole collection.
pub async fn collect(
    request: &CollectRequest,
    controls: &[Control],
    config: &Config,
) -> Result<CollectSummary, CollectError> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let staging = staging::prepare(&request.out)?;
    let recorder = Recorder::new(&staging);
    let limits = request_limits(request);
    let (management, home_region) = management_session(request, &limits, &recorder).await?;

    let needed_for_discovery = OpSet::new();
    let ctx = region_ctx(
        &management,
        None,
        &needed_for_discovery,
        &recorder,
        request,
        &NO_LOOKUPS,
    );
    let tags_read = some_control_reads(controls, &catalog::organizations::LIST_TAGS);
    let org = discover(&ctx, config, tags_read).await?;
    let resolved = resolve_regions(&ctx, &request.regions).await?;
    let regions = resolved.candidates.clone();
    if let Err(problem) = request.scope.check_against(&org) {
        // A refused selection leaves no half-made evidence folder behind: it
        // holds nothing but this run's discovery calls.
        let _ = std::fs::remove_dir_all(&staging);
        return Err(CollectError::Scope(problem));
    }
    let plan = build_plan(controls, &org, &regions, &home_region);
    let lookups = LookupPlan::new(controls, &request.period_dates, chrono::Utc::now());

    let in_scope: Vec<&Account> = org
        .active_accounts()
        .filter(|a| request.scope.selects(a))
        .collect();
    let progress = Progress::new(in_scope.len(), request.progress);
    let runs = in_scope.iter().map(|account| {
        let empty = BTreeMap::new();
        let account_plan = plan.get(&account.id).cloned().unwrap_or(empty);
        collect_account(
            account,
            account_plan,
            &management,
            &resolved,
            &lookups,
            request,
            &recorder,
            &limits,
            &progress,
        )
    });
    let accounts_at_once = accounts_in_progress(request, regions.len());
    let mut outcomes: Vec<(usize, AccountOutcome)> = futures::stream::iter(runs.enumerate())
        .map(|(i, run)| async move { run.await.map(|outcome| (i, outcome)) })
        .buffer_unordered(accounts_at_once)
        .try_collect()
        .await?;
    outcomes.sort_unstable_by_key(|(i, _)| *i);
    let outcomes: Vec<AccountOutcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    progress.finish();
    let unreachable: Vec<String> = in_scope
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| !outcome.reached)
        .map(|(a, _)| a.id.clone())
        .collect();
    let regions = resolved.run_regions(&outcomes);
    let in_scope_count = in_scope.len();
    let mut org = org;
    for account in org.accounts.iter_mut() {
        if account.is_active() && request.scope.selects(account) {
            account.reachable = Some(!unreachable.contains(&account.id));
        }
    }

    let run = RunInfo {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: auditpack_core::TOOL_NAME.into(),
            version: auditpack_core::TOOL_VERSION.into(),
        },
        period: request.period.clone(),
        period_dates: Some(request.period_dates.clone()),
        started_at,
        finished_at: now_rfc3339(),
        home_region,
        regions: regions.clone(),
        command_line: request.command_line.clone(),
        caller_arn: management.caller_arn.clone(),
        scope: (!request.scope.is_whole_organization()).then(|| request.scope.clone()),
        shards: Vec::new(),
    };
    staging::write_json(&staging.join("org.json"), &org)?;
    staging::write_json(&staging.join("run.json"), &run)?;
    staging::finalize(&staging, &request.out)?;
    Ok(CollectSummary {
        accounts_collected: in_scope_count - unreachable.len(),
        accounts_unreachable: unreachable,
        org,
        regions,
        stats: recorder.stats(),
        http_requests: limits.counters().requests(),
        http_retries: limits.counters().retries(),
        duration: started.elapsed(),
        out: request.out.clone(),
    })
}

/// How many accounts are collected at a time. Few enough that memory (each
/// account × region holds its SDK clients and pending calls) stays flat however
/// large the organization, and AssumeRole calls spread over the run instead of
/// bursting at its start; enough to keep every run-wide permit busy: a region's
/// calls form short dependency chains (list, then per-resource calls) with
/// throttling backoff in between, so about four account × regions in progress
/// per permit, and at least two accounts' worth of account permits.
/// Measured with bench/collect: 1,000 accounts × 4 regions took 63.5 s with
/// 16 accounts at a time and 40.5 s with 64; at 17 regions, 64 accounts
/// doubled peak memory for no gain.
fn accounts_in_progress(request: &CollectRequest, regions: usize) -> usize {
    let permits = request.max_concurrency.max(1);
    let by_account_limit = 2 * permits.div_ceil(request.account_concurrency.max(1));
    let by_regions = (4 * permits).div_ceil(regions.max(1));
    by_account_limit.max(by_regions)
}

/// The regions a run collects. Explicit `--regions` are used as given. With
/// `--regions all`, every region the management account's `account:ListRegions`
/// lists is a candidate, and each account is collected in the candidates it has
/// enabled itself (its own `account:ListRegions`, recorded as evidence), since
/// opt-in regions differ per account.
struct ResolvedRegions {
    /// The regions the plan covers (sorted).
    candidates: Vec<String>,
    /// `--regions all`: the management account's enabled regions, used for an
    /// account whose own listing failed. `None` for explicit regions.
    management_enabled: Option<Vec<String>>,
}

impl ResolvedRegions {
    /// The run's regions: explicit ones as given; with `--regions all`, the
    /// candidates enabled in at least one collected account.
    fn run_regions(&self, outcomes: &[AccountOutcome]) -> Vec<String> {
        let Some(management_enabled) = &self.management_enabled else {
            return self.candidates.clone();
        };
        let mut enabled: std::collections::BTreeSet<&String> = management_enabled.iter().collect();
        enabled.extend(
            outcomes
                .iter()
                .flat_map(|o| o.enabled_regions.iter().flatten()),
        );
        self.candidates
            .iter()
            .filter(|r| enabled.contains(r))
            .cloned()
            .collect()
    }
}

/// What collecting one account gave.
struct AccountOutcome {
    /// Its role could be assumed (or it is the management account).
    reached: bool,
    /// With `--regions all`, the regions it has enabled, from its own listing
    /// (`None` when that listing failed, or for explicit regions).
    enabled_regions: Option<Vec<String>>,
}

async fn resolve_regions(
    ctx: &RegionCtx<'_>,
    requested: &[String],
) -> Result<ResolvedRegions, CollectError> {
    if requested.iter().all(|r| r != "all") {
        let mut candidates = requested.to_vec();
        candidates.sort();
        candidates.dedup();
        return Ok(ResolvedRegions {
            candidates,
            management_enabled: None,
        });
    }
    let listing = list_account_regions(ctx).await?.map_err(|e| {
        CollectError::Regions(format!(
            "account:ListRegions failed ({}: {}); pass --regions explicitly",
            e.code, e.message
        ))
    })?;
    let management_enabled = enabled_region_names(&listing);
    if management_enabled.is_empty() {
        return Err(CollectError::Regions(
            "account:ListRegions returned no enabled region".into(),
        ));
    }
    Ok(ResolvedRegions {
        candidates: region_names(&listing),
        management_enabled: Some(management_enabled),
    })
}

/// `account:ListRegions` in the context's account, every opt status, recorded.
async fn list_account_regions(
    ctx: &RegionCtx<'_>,
) -> Result<Result<serde_json::Value, CallError>, RecordError> {
    use auditpack_core::catalog::account::LIST_REGIONS;
    let client = aws_sdk_account::Client::new(&ctx.config);
    ctx.call_detailed(
        &LIST_REGIONS,
        None,
        serde_json::json!({}),
        list_regions(&client),
    )
    .await
}

/// No lookups: for the calls made outside the plan (discovery, regions).
static NO_LOOKUPS: std::sync::LazyLock<LookupPlan> = std::sync::LazyLock::new(LookupPlan::default);

fn region_ctx<'a>(
    session: &'a AccountSession,
    region: Option<&'a str>,
    needed: &'a OpSet,
    recorder: &'a Recorder,
    request: &CollectRequest,
    lookups: &'a LookupPlan,
) -> RegionCtx<'a> {
    RegionCtx {
        session,
        region,
        config: session.config_for(region),
        s3_path_style: request.client.s3_path_style,
        needed,
        recorder,
        lookups,
    }
}

/// Collects one account; returns whether it could be reached.
#[allow(clippy::too_many_arguments)] // one account's run: everything it reads is the run's
async fn collect_account(
    account: &Account,
    plan: BTreeMap<RegionDir, OpSet>,
    management: &AccountSession,
    resolved: &ResolvedRegions,
    lookups: &LookupPlan,
    request: &CollectRequest,
    recorder: &Recorder,
    limits: &Limits,
    progress: &Progress,
) -> Result<AccountOutcome, RecordError> {
    let session = if account.id == management.account_id {
        Some(management.clone())
    } else {
        let account_limits = limits.for_account();
        assume_role(
            management,
            &account.id,
            &request.assume,
            recorder,
            account_limits,
        )
        .await?
    };
    let Some(session) = session else {
        progress.account_done(account, false);
        return Ok(AccountOutcome {
            reached: false,
            enabled_regions: None,
        });
    };
    let enabled_regions = match &resolved.management_enabled {
        None => None,
        Some(_) if account.id == management.account_id => resolved.management_enabled.clone(),
        Some(_) => {
            let no_ops = OpSet::new();
            let ctx = region_ctx(&session, None, &no_ops, recorder, request, &NO_LOOKUPS);
            list_account_regions(&ctx)
                .await?
                .ok()
                .map(|listing| enabled_region_names(&listing))
        }
    };
    // Only the regions the account has enabled (its listing failed: the
    // management account's, and the calls say what happened elsewhere).
    let usable = enabled_regions
        .as_ref()
        .or(resolved.management_enabled.as_ref());
    let plan: BTreeMap<RegionDir, OpSet> = plan
        .into_iter()
        .filter(|(region, _)| match (region.region(), usable) {
            (Some(name), Some(usable)) => usable.iter().any(|r| r == name),
            _ => true,
        })
        .collect();
    let regions = plan.iter().map(|(region, ops)| {
        let ctx = region_ctx(&session, region.region(), ops, recorder, request, lookups);
        async move {
            let wanted = SOURCES
                .iter()
                .filter(|s| s.operations.iter().any(|op| ctx.needs(op)));
            let calls = wanted
                .filter_map(|s| collector(s.name))
                .map(|collect| collect(&ctx));
            futures::future::try_join_all(calls).await.map(|_| ())
        }
    });
    futures::future::try_join_all(regions).await?;
    progress.account_done(account, true);
    Ok(AccountOutcome {
        reached: true,
        enabled_regions,
    })
}

/// A progress bar on a terminal; one plain line per account otherwise (CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    fn new(total: usize, enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} accounts {pos}/{len} [{bar:30}] {elapsed} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
        }
    }

    fn account_done(&self, account: &Account, reached: bool) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let note = if reached {
            "collected"
        } else {
            "UNREACHABLE (AssumeRole failed: see its evidence)"
        };
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if !reached {
                    bar.println(format!("{} {}: {note}", account.id, account.name));
                }
            }
            None => eprintln!(
                "[{n}/{}] {} {}: {note}",
                self.total, account.id, account.name
            ),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
