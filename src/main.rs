//! The `auditpack` command: parses arguments, calls the library, maps the
//! outcome to an exit code. No logic of its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// mimalloc instead of the system allocator: evaluation and the bundle build
/// and drop millions of small JSON and CEL values on every core, and glibc's
/// malloc/free took about a quarter of `report`'s time at 1,000 accounts
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use auditpack::collection::operations;
use auditpack::collection::runner::{CollectError, CollectRequest, CollectSummary};
use auditpack::collection::session::{AssumeSettings, ClientSettings};
use auditpack::custody::signature::{Signing, Trust};
use auditpack::discovery::Scope;
use auditpack::evidence::merge::MergeError;
use auditpack::exit_code::Outcome;
use auditpack::pipeline::{load_controls_and_config, run_report_signed, ReportRequest};

/// SOC 2 evidence for a whole AWS Organization, packaged for auditors.
#[derive(Parser)]
#[command(name = "auditpack", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 done, 1 check failed (verify mismatch), 2 usage or input error, 3 tool failure."
)]
struct Cli {
    /// More log detail on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect evidence from every account and region of the Organization (read-only API calls).
    #[command(
        after_help = "Examples:\n  auditpack collect --regions us-east-1,eu-west-1 --out evidence/2026-Q4\n  \
        AWS_PROFILE=audit auditpack collect --role-name AuditpackReadOnly --external-id $EXT --regions us-east-1 --out ev\n  \
        auditpack collect --ou Root/Workloads --regions all --period 2026-Q4 --out shard-workloads   (one shard; join with auditpack merge)\n\n\
        Credentials come from the SDK's default chain (environment, --profile, SSO, web identity, instance or\n\
        container role); AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are honoured."
    )]
    Collect(CollectArgs),
    /// Collect, then report: the quarterly command. Writes OUT/evidence, results, report and bundle.
    #[command(
        after_help = "Examples:\n  auditpack run --regions us-east-1,eu-west-1 --period 2026-Q4 --out audit-2026-Q4\n  \
        auditpack run --regions us-east-1 --out audit --waivers waivers.toml --gate --fail-on high"
    )]
    Run(RunArgs),
    /// Evaluate controls over an evidence folder; write results.json, report.html and the bundle zip.
    #[command(
        after_help = "Example:\n  auditpack report --evidence evidence-samples --out out\n  \
        auditpack report --evidence ev/ --out out/ --controls my-controls/ --config auditpack.toml"
    )]
    Report(ReportArgs),
    /// Verify a bundle (zip or unzipped folder): hashes, signature, coverage, age; optionally re-evaluate it.
    #[command(
        after_help = "Examples:\n  auditpack verify out/auditpack-o-a1b2c3d4e5-2026-Q4.zip\n  \
        auditpack verify --allowed-signers team_signers --max-age 30 --reevaluate bundle.zip\n  \
        auditpack verify --pubkey kms-public-key.pem unzipped/auditpack-o-a1b2c3d4e5-2026-Q4/\n\n\
        Exit codes: 0 verified, 1 a check failed (names the file), 2 not a bundle or unreadable trust file."
    )]
    Verify(VerifyArgs),
    /// Join shards of one run (collected with --ou/--accounts by separate jobs) into one evidence folder.
    #[command(
        after_help = "Example:\n  auditpack collect --ou Root/Workloads --regions us-east-1 --period 2026-Q4 --out shard-workloads\n  \
        auditpack collect --ou Root/Security --ou Root/Infrastructure --accounts 111111111111 --regions us-east-1 --period 2026-Q4 --out shard-core\n  \
        auditpack merge --evidence shard-workloads --evidence shard-core --out evidence\n  \
        auditpack report --evidence evidence --out out\n\n\
        Shards must be of the same run (tool version, period, regions, organization) and must not overlap.\n\
        Exit codes: 0 merged, 2 the shards cannot be merged (the message names the shard), 3 cannot write."
    )]
    Merge(MergeArgs),
    /// Compare two verified bundles: accounts, verdicts, parameters and control definitions that changed.
    #[command(
        after_help = "Examples:\n  auditpack diff audit-2026-Q3/bundle.zip audit-2026-Q4/bundle.zip\n  \
        auditpack diff old.zip new.zip --format html > changes.html\n\n\
        Exit codes: 0 compared (whether or not anything changed), 1 a bundle does not verify, 2 bad input."
    )]
    Diff(DiffArgs),
    /// Fail a pipeline when a control fails or is not assessed: exit 0 pass, 1 fail, 2 bad input or tampered bundle.
    #[command(
        after_help = "Examples:\n  auditpack gate out/results.json\n  auditpack gate out/auditpack-o-a1b2c3d4e5-2026-Q4.zip --fail-on high --format json\n  \
        auditpack gate bundle.zip --allowed-signers team_signers   (only a bundle signed by a listed key is gated)"
    )]
    Gate {
        /// results.json, or a bundle (zip or unzipped bag), which is verified first.
        results: PathBuf,
        /// With a bundle: refuse it (exit 2) unless it is signed by a key these list.
        #[command(flatten)]
        trust: TrustArgs,
        /// Lowest severity that fails the gate.
        #[arg(long, value_enum, default_value = "low")]
        fail_on: auditpack::evaluation::Severity,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: GateFormat,
    },
    /// Print the least-privilege read-only IAM policy that collection needs (JSON).
    #[command(
        name = "iam-policy",
        after_help = "Example:\n  auditpack iam-policy > deploy/terraform/audit-role-policy.json"
    )]
    IamPolicy,
    /// Work with control definitions.
    #[command(subcommand)]
    Controls(ControlsCommand),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GateFormat {
    Text,
    Json,
}

#[derive(Args)]
struct CollectArgs {
    /// Output folder (must not exist or be empty); written as OUT.partial and renamed when complete.
    #[arg(long)]
    out: PathBuf,
    /// Regions to collect, comma-separated (e.g. us-east-1,eu-west-1), or `all`: every region
    /// enabled for the management account (account:ListRegions).
    #[arg(long, value_delimiter = ',', default_value = "all")]
    regions: Vec<String>,
    /// Home region (organization trail, global calls); default: the SDK's region chain, else us-east-1.
    #[arg(long)]
    region: Option<String>,
    /// AWS profile to use instead of the default credential chain.
    #[arg(long)]
    profile: Option<String>,
    /// Role assumed in each member account (a dedicated read-only audit role is recommended).
    #[arg(long, default_value = "OrganizationAccountAccessRole")]
    role_name: String,
    /// External id required by the audit role's trust policy.
    #[arg(long)]
    external_id: Option<String>,
    /// Audit period label; default: the current calendar quarter, e.g. 2026-Q4.
    #[arg(long)]
    period: Option<String>,
    /// HTTP requests in flight across the whole run.
    #[arg(long, default_value_t = 64)]
    max_concurrency: usize,
    /// HTTP requests in flight per account (keeps each account under AWS's per-account API rates).
    #[arg(long, default_value_t = 8)]
    account_concurrency: usize,
    /// Seconds one call may take, retries included.
    #[arg(long, default_value_t = 60)]
    call_timeout: u64,
    /// Attempts per call (standard retry with jittered backoff for throttling).
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
    /// Path-style S3 addressing (S3-compatible endpoints and emulators).
    #[arg(long)]
    s3_path_style: bool,
    /// No progress bar, plain lines only.
    #[arg(long)]
    no_progress: bool,
    /// Collect only the accounts in this OU and the OUs below it (e.g. Root/Workloads); repeatable.
    /// With --accounts, makes one shard of the organization, to be joined by `auditpack merge`.
    #[arg(long, value_name = "OU_PATH")]
    ou: Vec<String>,
    /// Collect only these accounts (comma-separated ids), besides any --ou.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    accounts: Vec<String>,
    #[command(flatten)]
    controls: ControlsArgs,
}

#[derive(Args)]
struct MergeArgs {
    /// A shard's evidence folder; give each shard once, in any order.
    #[arg(long = "evidence", required = true, value_name = "FOLDER")]
    evidence: Vec<PathBuf>,
    /// The merged evidence folder (must not exist or be empty).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    collect: CollectArgs,
    /// After the report, gate on the results: exit 1 when a control fails or is not assessed.
    #[arg(long)]
    gate: bool,
    /// With --gate: lowest severity that fails the gate.
    #[arg(long, value_enum, default_value = "low", requires = "gate")]
    fail_on: auditpack::evaluation::Severity,
    #[command(flatten)]
    signing: SigningArgs,
}

/// Signing the bundle (see docs/chain-of-custody.md).
#[derive(Args)]
struct SigningArgs {
    /// Sign the bundle with this OpenSSH private key (ed25519 or ecdsa P-256); an encrypted
    /// key's passphrase is read from AUDITPACK_SIGN_KEY_PASSPHRASE.
    #[arg(long, value_name = "PATH")]
    sign_key: Option<PathBuf>,
    /// The signer's name in the bundle's allowed_signers file; default: the key's comment.
    #[arg(long, requires = "sign_key")]
    signer_identity: Option<String>,
    /// Sign the bundle with this asymmetric AWS KMS key (ECC_NIST_P256), id or ARN; credentials
    /// from the SDK's default chain (with `run`, its --profile).
    #[arg(long, value_name = "KEY")]
    kms_key_id: Option<String>,
}

/// Keys the auditor trusts.
#[derive(Args)]
struct TrustArgs {
    /// OpenSSH allowed_signers file: the bundle must be signed by a key it lists.
    #[arg(long, value_name = "FILE")]
    allowed_signers: Option<PathBuf>,
    /// A trusted public key (OpenSSH .pub, or a KMS key's PEM); repeatable.
    #[arg(long, value_name = "FILE")]
    pubkey: Vec<PathBuf>,
}

#[derive(Args)]
struct VerifyArgs {
    /// The bundle zip, or the folder of an unzipped bag.
    bundle: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// Fail when the evidence was collected more than DAYS days ago.
    #[arg(long, value_name = "DAYS")]
    max_age: Option<u64>,
    /// Re-run the bundle's controls over its evidence; fail if any result differs from its results.json.
    #[arg(long)]
    reevaluate: bool,
}

#[derive(Args)]
struct DiffArgs {
    /// The older bundle (zip or unzipped bag).
    old: PathBuf,
    /// The newer bundle.
    new: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Html,
}

#[derive(Args)]
struct ReportArgs {
    /// Evidence folder (from `auditpack collect`, or evidence-samples/).
    #[arg(long)]
    evidence: PathBuf,
    /// Output folder for results.json, report.html and the bundle.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    controls: ControlsArgs,
    #[command(flatten)]
    signing: SigningArgs,
}

#[derive(Args)]
struct ControlsArgs {
    /// Folder of control files.
    #[arg(long, default_value = "controls")]
    controls: PathBuf,
    /// Settings file (parameter overrides, disabled controls); default ./auditpack.toml when present.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Exceptions register (accepted failures with approver and expiry); default ./waivers.toml when present.
    #[arg(long)]
    waivers: Option<PathBuf>,
}

impl ControlsArgs {
    fn config_path(&self) -> Option<PathBuf> {
        self.config
            .clone()
            .or_else(|| Some(PathBuf::from("auditpack.toml")).filter(|p| p.is_file()))
    }

    fn waivers_path(&self) -> Option<PathBuf> {
        self.waivers
            .clone()
            .or_else(|| Some(PathBuf::from("waivers.toml")).filter(|p| p.is_file()))
    }
}

#[derive(Subcommand)]
enum ControlsCommand {
    /// List the controls with their criteria and severity.
    #[command(after_help = "Example:\n  auditpack controls list --controls controls/")]
    List(ControlsArgs),
    /// Check every control file (and the config); names file, line and field of each problem.
    #[command(
        after_help = "Example:\n  auditpack controls lint --controls controls/ --config auditpack.toml"
    )]
    Lint(ControlsArgs),
    /// List the evidence sources (service:Operation) a control can read, with their IAM actions.
    Sources,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let outcome = match cli.command {
        Command::Collect(args) => collect(&args)
            .map(|_| Outcome::Success)
            .unwrap_or_else(|o| o),
        Command::Run(args) => run(args),
        Command::Report(args) => report(args),
        Command::Verify(args) => verify(&args),
        Command::Merge(args) => merge(&args),
        Command::Diff(args) => diff(&args),
        Command::Gate {
            results,
            trust,
            fail_on,
            format,
        } => gate_signed(&results, &trust, fail_on, format),
        Command::IamPolicy => {
            let policy = auditpack::collection::iam_policy::audit_role_policy();
            println!(
                "{}",
                serde_json::to_string_pretty(&policy).expect("policy serialises")
            );
            Outcome::Success
        }
        Command::Controls(ControlsCommand::List(args)) => controls_list(&args),
        Command::Controls(ControlsCommand::Lint(args)) => controls_lint(&args),
        Command::Controls(ControlsCommand::Sources) => sources(),
    };
    ExitCode::from(outcome.code())
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_ansi(colours_on_stderr())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Colours only for a person at a terminal: never in CI logs, never with
/// NO_COLOR set (https://no-color.org: any non-empty value).
fn colours_on_stderr() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Collects into `args.out`; returns the evidence folder.
fn collect(args: &CollectArgs) -> Result<PathBuf, Outcome> {
    let (controls, config) = load_controls_and_config(
        &args.controls.controls,
        args.controls.config_path().as_deref(),
    )
    .map_err(|e| {
        eprintln!("auditpack: error: {e}");
        Outcome::InputError
    })?;
    let request = CollectRequest {
        out: args.out.clone(),
        period: args.period.clone().unwrap_or_else(current_quarter),
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
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let outcome = runtime.block_on(async {
        tokio::select! {
            done = auditpack::collection::runner::collect(&request, &controls, &config) => Some(done),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    match outcome {
        None => {
            eprintln!("auditpack: interrupted; the partial evidence stays in {}.partial and is not a complete run", args.out.display());
            Err(Outcome::ToolFailed)
        }
        Some(Err(e)) => {
            eprintln!("auditpack: error: {e}");
            match e {
                CollectError::Scope(_) => Err(Outcome::InputError),
                _ => Err(Outcome::ToolFailed),
            }
        }
        Some(Ok(summary)) => {
            print_collect_summary(&summary);
            Ok(summary.out)
        }
    }
}

fn merge(args: &MergeArgs) -> Outcome {
    match auditpack::evidence::merge::merge(&args.evidence, &args.out, std::env::args().collect()) {
        Ok(summary) => {
            println!(
                "merged: {} shards, {} evidence files into {}",
                summary.run.shards.len(),
                summary.files,
                args.out.display()
            );
            for shard in &summary.run.shards {
                let skipped = if shard.files_not_copied.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} of its files not copied (another shard's copy kept; listed in run.json)",
                        shard.files_not_copied.len()
                    )
                };
                println!(
                    "  {}: {} account folder(s){skipped}",
                    shard.folder,
                    shard.accounts.len()
                );
            }
            for id in &summary.not_collected {
                println!("not collected by any shard: {id} (its controls will be NOT ASSESSED)");
            }
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            match e {
                MergeError::Output(_) | MergeError::Copy { .. } => Outcome::ToolFailed,
                _ => Outcome::InputError,
            }
        }
    }
}

fn print_collect_summary(s: &CollectSummary) {
    let active = s.org.active_accounts().count();
    println!(
        "collected: {} of {} active accounts ({} in the organization), {} region(s), {} calls in {:.1}s",
        s.accounts_collected,
        active,
        s.org.accounts.len(),
        s.regions.len(),
        s.stats.calls,
        s.duration.as_secs_f64()
    );
    println!(
        "requests: {} HTTP requests, {} of them retries (throttled or failed attempts the SDK tried again)",
        s.http_requests, s.http_retries
    );
    let left_to_other_shards = s
        .org
        .active_accounts()
        .filter(|a| a.reachable.is_none())
        .count();
    if left_to_other_shards > 0 {
        println!(
            "shard: {left_to_other_shards} active account(s) outside --ou/--accounts were not collected \
             (NOT ASSESSED unless merged with the shards that have them: auditpack merge)"
        );
    }
    for id in &s.accounts_unreachable {
        println!(
            "unreachable: {id} (its role could not be assumed; its controls will be NOT ASSESSED)"
        );
    }
    for account in s.org.accounts.iter().filter(|a| !a.is_active()) {
        println!(
            "out of scope: {} {} ({:?})",
            account.id, account.name, account.status
        );
    }
    let failed: Vec<String> = s
        .stats
        .errors_by_code
        .iter()
        .map(|(code, n)| format!("{code} ×{n}"))
        .collect();
    println!(
        "failed calls: {}",
        if failed.is_empty() {
            "none".to_string()
        } else {
            failed.join(", ")
        }
    );
    println!("evidence: {} ({} bytes)", s.out.display(), s.stats.bytes);
}

fn current_quarter() -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

fn run(args: RunArgs) -> Outcome {
    let (gate_after, fail_on) = (args.gate, args.fail_on);
    let mut collect_args = args.collect;
    let out = collect_args.out.clone();
    collect_args.out = out.join("evidence");
    if out.exists()
        && std::fs::read_dir(&out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        eprintln!(
            "auditpack: error: {} already exists and is not empty; choose a new folder",
            out.display()
        );
        return Outcome::InputError;
    }
    // Signing keys are checked before collection, not after it.
    let signing = match signing(&args.signing, collect_args.profile.as_deref()) {
        Ok(signing) => signing,
        Err(outcome) => return outcome,
    };
    let evidence = match collect(&collect_args) {
        Ok(evidence) => evidence,
        Err(outcome) => return outcome,
    };
    let results_path = out.join("results.json");
    let reported = report_signed(
        ReportArgs {
            evidence,
            out,
            controls: collect_args.controls,
            signing: args.signing,
        },
        signing.as_ref(),
    );
    if reported != Outcome::Success || !gate_after {
        return reported;
    }
    gate_path(&results_path, fail_on, GateFormat::Text)
}

/// Loads the signing keys asked for (exit 2 when one is unusable).
fn signing(args: &SigningArgs, aws_profile: Option<&str>) -> Result<Option<Signing>, Outcome> {
    Signing::from_options(
        args.sign_key.as_deref(),
        args.signer_identity.as_deref(),
        args.kms_key_id.as_deref(),
        aws_profile,
    )
    .map_err(|e| {
        eprintln!("auditpack: error: {e}");
        Outcome::InputError
    })
}

fn report(args: ReportArgs) -> Outcome {
    match signing(&args.signing, None) {
        Ok(signing) => report_signed(args, signing.as_ref()),
        Err(outcome) => outcome,
    }
}

fn report_signed(args: ReportArgs, signing: Option<&Signing>) -> Outcome {
    let request = ReportRequest {
        evidence: args.evidence,
        out: args.out,
        config: args.controls.config_path(),
        waivers: args.controls.waivers_path(),
        controls: args.controls.controls,
    };
    let signer = signing.map(|s| s as &dyn auditpack::outputs::bagit::TagManifestSigner);
    match run_report_signed(&request, signer) {
        Ok(done) => {
            let s = &done.results.summary;
            println!(
                "auditpack: {} controls for organization {} (period {}): {} PASS, {} FAIL, {} NOT ASSESSED, {} WAIVED, {} DISABLED",
                done.results.controls.len(),
                done.results.organization_id,
                done.results.period,
                s.controls.pass,
                s.controls.fail,
                s.controls.not_assessed,
                s.controls.waived,
                s.controls.disabled
            );
            for w in &done.results.waivers {
                let why = match w.state {
                    auditpack::evaluation::WaiverState::Active => continue,
                    auditpack::evaluation::WaiverState::Expired => "expired: it waives nothing",
                    auditpack::evaluation::WaiverState::Stale => {
                        "stale: it matches no failing or unassessed item"
                    }
                };
                eprintln!(
                    "auditpack: warning: waiver {} for {} (expires {}) is {why}",
                    w.source, w.control, w.expires
                );
            }
            for path in [&done.results_path, &done.report_path, &done.bundle_path] {
                println!("wrote {}", path.display());
            }
            println!("{}  {}", done.bundle_sha256, done.bundle_path.display());
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::for_pipeline_error(&e)
        }
    }
}

/// `gate`, after checking the bundle's signature when trusted keys are given:
/// a pipeline that gates on a bundle built elsewhere can demand that it was
/// signed by its own release key, not merely intact.
fn gate_signed(
    path: &Path,
    trust_args: &TrustArgs,
    fail_on: auditpack::evaluation::Severity,
    format: GateFormat,
) -> Outcome {
    let trust = match trust(trust_args) {
        Ok(trust) => trust,
        Err(outcome) => return outcome,
    };
    let results = if trust.is_given() {
        signed_results(path, trust)
    } else {
        auditpack::gate::load_results(path)
    };
    match results {
        Ok(results) => gate_results(&results, fail_on, format),
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

/// The results of a bundle that passes verify's checks with `trust` (signed
/// by a trusted key, intact); verify's findings go to stderr when it does not.
fn signed_results(path: &Path, trust: Trust) -> Result<auditpack::evaluation::Results, String> {
    if path.extension().is_some_and(|e| e == "json") {
        return Err(format!(
            "{}: --allowed-signers and --pubkey need a bundle; a results.json carries no signature",
            path.display()
        ));
    }
    let options = auditpack::custody::check::VerifyOptions {
        trust,
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate: false,
    };
    let report =
        auditpack::custody::check::verify_bundle(path, &options).map_err(|e| e.to_string())?;
    if !report.is_ok() {
        eprint!("{}", auditpack::custody::check::render_text(path, &report));
        return Err(format!(
            "{} is not signed by a trusted key, or does not verify; refusing to gate on it",
            path.display()
        ));
    }
    auditpack::gate::results_in_bundle(path, &report.verification)
}

fn gate_path(path: &Path, fail_on: auditpack::evaluation::Severity, format: GateFormat) -> Outcome {
    match auditpack::gate::load_results(path) {
        Ok(results) => gate_results(&results, fail_on, format),
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn gate_results(
    results: &auditpack::evaluation::Results,
    fail_on: auditpack::evaluation::Severity,
    format: GateFormat,
) -> Outcome {
    let decision = auditpack::gate::decide(results, fail_on);
    append_step_summary(results, &decision);
    match format {
        GateFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&decision).expect("decision serialises")
        ),
        GateFormat::Text => print!("{}", auditpack::gate::text_report(results, &decision)),
    }
    if decision.passed {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    }
}

/// On GitHub Actions, adds the Markdown summary to the job's summary page. A
/// failure to write it is a warning: the gate's verdict must not depend on it.
fn append_step_summary(
    results: &auditpack::evaluation::Results,
    decision: &auditpack::gate::GateDecision,
) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let markdown = auditpack::outputs::markdown::summary_markdown(results, decision);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, markdown.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "auditpack: warning: cannot append to GITHUB_STEP_SUMMARY {}: {e}",
            Path::new(&path).display()
        );
    }
}

fn trust(args: &TrustArgs) -> Result<Trust, Outcome> {
    Trust::load(args.allowed_signers.as_deref(), &args.pubkey).map_err(|e| {
        eprintln!("auditpack: error: {e}");
        Outcome::InputError
    })
}

fn verify(args: &VerifyArgs) -> Outcome {
    let trust = match trust(&args.trust) {
        Ok(trust) => trust,
        Err(outcome) => return outcome,
    };
    let options = auditpack::custody::check::VerifyOptions {
        trust,
        max_age_days: args.max_age,
        now: chrono::Utc::now(),
        reevaluate: args.reevaluate,
    };
    match auditpack::custody::check::verify_bundle(&args.bundle, &options) {
        Ok(report) => {
            print!(
                "{}",
                auditpack::custody::check::render_text(&args.bundle, &report)
            );
            if report.is_ok() {
                Outcome::Success
            } else {
                Outcome::CheckFailed
            }
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn diff(args: &DiffArgs) -> Outcome {
    use auditpack::custody::diff::{self, DiffError};
    let trust = match trust(&args.trust) {
        Ok(trust) => trust,
        Err(outcome) => return outcome,
    };
    let facts = diff::read_facts(&args.old, &trust)
        .and_then(|old| Ok((old, diff::read_facts(&args.new, &trust)?)));
    let (old, new) = match facts {
        Ok(facts) => facts,
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            return match e {
                DiffError::NotVerified { .. } => Outcome::CheckFailed,
                _ => Outcome::InputError,
            };
        }
    };
    let changes = diff::diff(&old, &new);
    let rendered = match args.format {
        DiffFormat::Text => Ok(diff::render_text(&changes)),
        DiffFormat::Json => Ok(diff::render_json(&changes)),
        DiffFormat::Html => diff::render_html(&changes),
    };
    match rendered {
        Ok(text) => {
            print!("{text}");
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::ToolFailed
        }
    }
}

fn controls_list(args: &ControlsArgs) -> Outcome {
    match load_controls_and_config(&args.controls, args.config_path().as_deref()) {
        Ok((controls, _)) => {
            println!("{:<34} {:<9} {:<22} TITLE", "ID", "SEVERITY", "CRITERIA");
            for c in &controls {
                let severity = format!("{:?}", c.severity).to_lowercase();
                println!(
                    "{:<34} {:<9} {:<22} {}",
                    c.id,
                    severity,
                    c.tsc.join(","),
                    c.title
                );
            }
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn controls_lint(args: &ControlsArgs) -> Outcome {
    let loaded = load_controls_and_config(&args.controls, args.config_path().as_deref()).and_then(
        |(controls, config)| {
            if let Some(path) = args.waivers_path() {
                auditpack::pipeline::load_waivers(&path, &controls)?;
            }
            Ok((controls, config))
        },
    );
    match loaded {
        Ok((controls, _)) => {
            let assertions: usize = controls.iter().map(|c| c.assertions.len()).sum();
            println!(
                "OK: {} controls, {} assertions in {}",
                controls.len(),
                assertions,
                args.controls.display()
            );
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn sources() -> Outcome {
    println!(
        "{:<52} {:<8} {:<14} IAM ACTIONS",
        "SOURCE", "SCOPE", "ONE PER"
    );
    for op in operations() {
        let scope = format!("{:?}", op.scope).to_lowercase();
        println!(
            "{:<52} {:<8} {:<14} {}",
            op.source_name(),
            scope,
            op.qualified_by.unwrap_or("-"),
            op.iam_actions.join(", ")
        );
    }
    Outcome::Success
}
