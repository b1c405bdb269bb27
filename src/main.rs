//! The `auditpack` command: parses arguments, calls the library, maps the
//! outcome to an exit code. No logic of its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use auditpack::collection::operations;
use auditpack::exit_code::Outcome;
use auditpack::pipeline::{load_controls_and_config, run_report, ReportRequest};
use auditpack::verify::{verify_path, Verification};

/// SOC 2 evidence for a whole AWS Organization, packaged for auditors.
#[derive(Parser)]
#[command(name = "auditpack", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 done, 1 check failed (verify mismatch), 2 usage or input error, 3 tool failure.")]
struct Cli {
    /// More log detail on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate controls over an evidence folder; write results.json, report.html and the bundle zip.
    #[command(after_help = "Example:\n  auditpack report --evidence evidence-samples --out out\n  \
        auditpack report --evidence ev/ --out out/ --controls my-controls/ --config auditpack.toml")]
    Report(ReportArgs),
    /// Check every hash of a bundle (zip or unzipped folder); names each changed, missing or extra file.
    #[command(after_help = "Example:\n  auditpack verify out/auditpack-o-a1b2c3d4e5-2026-Q4.zip\n  \
        auditpack verify unzipped/auditpack-o-a1b2c3d4e5-2026-Q4/")]
    Verify {
        /// The bundle zip, or the folder of an unzipped bag.
        bundle: PathBuf,
    },
    /// Work with control definitions.
    #[command(subcommand)]
    Controls(ControlsCommand),
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
        self.config.clone().or_else(|| Some(PathBuf::from("auditpack.toml")).filter(|p| p.is_file()))
    }
}

#[derive(Subcommand)]
enum ControlsCommand {
    /// List the controls with their criteria and severity.
    #[command(after_help = "Example:\n  auditpack controls list --controls controls/")]
    List(ControlsArgs),
    /// Check every control file (and the config); names file, line and field of each problem.
    #[command(after_help = "Example:\n  auditpack controls lint --controls controls/ --config auditpack.toml")]
    Lint(ControlsArgs),
    /// List the evidence sources (service:Operation) a control can read, with their IAM actions.
    Sources,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let outcome = match cli.command {
        Command::Report(args) => report(args),
        Command::Verify { bundle } => verify(&bundle),
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
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
        println!("OK: {} — {} payload files and every tag file match their SHA-256 manifests", bundle.display(), v.payload_files);
    } else {
        println!("FAILED: {} — {} problem(s) in {} files", bundle.display(), v.problems.len(), files);
    }
}

fn controls_list(args: &ControlsArgs) -> Outcome {
    match load_controls_and_config(&args.controls, args.config_path().as_deref()) {
        Ok((controls, _)) => {
            println!("{:<34} {:<9} {:<22} TITLE", "ID", "SEVERITY", "CRITERIA");
            for c in &controls {
                let severity = format!("{:?}", c.severity).to_lowercase();
                println!("{:<34} {:<9} {:<22} {}", c.id, severity, c.tsc.join(","), c.title);
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
            println!("OK: {} controls, {} assertions in {}", controls.len(), assertions, args.controls.display());
            Outcome::Success
        }
        Err(e) => {
            eprintln!("auditpack: error: {e}");
            Outcome::InputError
        }
    }
}

fn sources() -> Outcome {
    println!("{:<52} {:<8} {:<14} IAM ACTIONS", "SOURCE", "SCOPE", "ONE PER");
    for op in operations() {
        let scope = format!("{:?}", op.scope).to_lowercase();
        println!("{:<52} {:<8} {:<14} {}", op.source_name(), scope, op.qualified_by.unwrap_or("-"), op.iam_actions.join(", "));
    }
    Outcome::Success
}
