//! The `auditpack` command: parses arguments, calls the library, maps the
//! outcome to an exit code. No logic of its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use auditpack::collection::operations;
use auditpack::collection::runner::{CollectRequest, CollectSummary};
use auditpack::collection::session::{AssumeSettings, ClientSettings};
use auditpack::exit_code::Outcome;
use auditpack::pipeline::{load_controls_and_config, run_report, ReportRequest};
use auditpack::verify::{verify_path, Verification};

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
        AWS_PROFILE=audit auditpack collect --role-name AuditpackReadOnly --external-id $EXT --regions us-east-1 --out ev\n\n\
        Credentials come from the SDK's default chain (environment, --profile, SSO, web identity, instance or\n\
        container role); AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are honoured."
    )]
    Collect(CollectArgs),
    /// Collect, then report: the quarterly command. Writes OUT/evidence, results, report and bundle.
    #[command(
        after_help = "Example:\n  auditpack run --regions us-east-1,eu-west-1 --period 2026-Q4 --out audit-2026-Q4"
    )]
    Run(CollectArgs),
    /// Evaluate controls over an evidence folder; write results.json, report.html and the bundle zip.
    #[command(
        after_help = "Example:\n  auditpack report --evidence evidence-samples --out out\n  \
        auditpack report --evidence ev/ --out out/ --controls my-controls/ --config auditpack.toml"
    )]
    Report(ReportArgs),
    /// Check every hash of a bundle (zip or unzipped folder); names each changed, missing or extra file.
    #[command(
        after_help = "Example:\n  auditpack verify out/auditpack-o-a1b2c3d4e5-2026-Q4.zip\n  \
        auditpack verify unzipped/auditpack-o-a1b2c3d4e5-2026-Q4/"
    )]
    Verify {
        /// The bundle zip, or the folder of an unzipped bag.
        bundle: PathBuf,
    },
    /// Fail a pipeline when a control fails or is not assessed: exit 0 pass, 1 fail, 2 bad input or tampered bundle.
    #[command(
        after_help = "Examples:\n  auditpack gate out/results.json\n  auditpack gate out/auditpack-o-a1b2c3d4e5-2026-Q4.zip --fail-on high --format json"
    )]
    Gate {
        /// results.json, or a bundle (zip or unzipped bag), which is verified first.
        results: PathBuf,
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
    /// Calls in flight across the whole run.
    #[arg(long, default_value_t = 64)]
    max_concurrency: usize,
    /// Calls in flight per account (keeps each account under AWS's per-account API rates).
    #[arg(long, default_value_t = 8)]
    account_concurrency: usize,
    /// Seconds one call may take, retries included.
    #[arg(long, default_value_t = 60)]
    call_timeout: u64,
    /// Attempts per call (adaptive retry for throttling).
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
    /// Path-style S3 addressing (S3-compatible endpoints and emulators).
    #[arg(long)]
    s3_path_style: bool,
    /// No progress bar, plain lines only.
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    controls: ControlsArgs,
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
}

#[derive(Args)]
struct ControlsArgs {
    /// Folder of control files.
    #[arg(long, default_value = "controls")]
    controls: PathBuf,
    /// Settings file (parameter overrides, disabled controls); default ./auditpack.toml when present.
    #[arg(long)]
    config: Option<PathBuf>,
}

impl ControlsArgs {
    fn config_path(&self) -> Option<PathBuf> {
        self.config
            .clone()
            .or_else(|| Some(PathBuf::from("auditpack.toml")).filter(|p| p.is_file()))
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
        Command::Verify { bundle } => verify(&bundle),
        Command::Gate {
            results,
            fail_on,
            format,
        } => gate(&results, fail_on, format),
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
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
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
            Err(Outcome::ToolFailed)
        }
        Some(Ok(summary)) => {
            print_collect_summary(&summary);
            Ok(summary.out)
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

fn run(args: CollectArgs) -> Outcome {
    let mut collect_args = args;
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
    let evidence = match collect(&collect_args) {
        Ok(evidence) => evidence,
        Err(outcome) => return outcome,
    };
    report(ReportArgs {
        evidence,
        out,
        controls: collect_args.controls,
    })
}

fn report(args: ReportArgs) -> Outcome {
    let request = ReportRequest {
        evidence: args.evidence,
        out: args.out,
        config: args.controls.config_path(),
        controls: args.controls.controls,
    };
    match run_report(&request) {
        Ok(done) => {
            let s = &done.results.summary;
            println!(
                "auditpack: {} controls for organization {} (period {}): {} PASS, {} FAIL, {} NOT ASSESSED, {} DISABLED",
                done.results.controls.len(),
                done.results.organization_id,
                done.results.period,
                s.controls.pass,
                s.controls.fail,
                s.controls.not_assessed,
                s.controls.disabled
            );
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

fn gate(path: &Path, fail_on: auditpack::evaluation::Severity, format: GateFormat) -> Outcome {
    let results = match auditpack::gate::load_results(path) {
        Ok(results) => results,
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            return Outcome::InputError;
        }
    };
    let decision = auditpack::gate::decide(&results, fail_on);
    match format {
        GateFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&decision).expect("decision serialises")
        ),
        GateFormat::Text => println!("{}", decision.summary),
    }
    if decision.passed {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    }
}

fn verify(bundle: &Path) -> Outcome {
    match verify_path(bundle) {
        Ok(v) => {
            print_verification(bundle, &v);
            Outcome::for_verification(&v)
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn print_verification(bundle: &Path, v: &Verification) {
    for problem in &v.problems {
        println!("{problem}");
    }
    let files = v.contents.entries.len();
    if v.is_intact() {
        println!(
            "OK: {} — {} payload files and every tag file match their SHA-256 manifests",
            bundle.display(),
            v.payload_files
        );
    } else {
        println!(
            "FAILED: {} — {} problem(s) in {} files",
            bundle.display(),
            v.problems.len(),
            files
        );
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
    match load_controls_and_config(&args.controls, args.config_path().as_deref()) {
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
