//! One file per command: each holds its clap arguments and one `run`
//! returning `Result<Exit, Failure>` (see `crate::exit`). Arguments shared by
//! several commands live here. Adding a command: a file here, a variant in
//! [`Command`], a line in [`Command::run`], and a row in the README's table.

#[cfg(feature = "aws")]
pub mod collect;
pub mod completions;
pub mod controls;
pub mod diff;
pub mod gate;
pub mod iam_policy;
#[cfg(feature = "aws")]
pub mod init;
pub mod man;
pub mod merge;
pub mod period;
pub mod report;
#[cfg(feature = "aws")]
pub mod run;
#[cfg(feature = "aws")]
pub mod upload;
pub mod verify;

use std::path::{Path, PathBuf};

use auditpack_core::custody::signature::{Signing, Trust};
use auditpack_core::evaluation::{ControlSet, Severity};
use clap::{Args, Subcommand};

use crate::exit::{Exit, Failure};

/// Every command.
#[derive(Subcommand)]
pub enum Command {
    /// Collect evidence from every account and region of the Organization (read-only API calls).
    #[cfg(feature = "aws")]
    #[command(after_help = collect::AFTER_HELP)]
    Collect(collect::CollectArgs),
    /// Collect, then report: the quarterly command. Writes OUT/evidence, results, report and bundle.
    #[cfg(feature = "aws")]
    #[command(after_help = run::AFTER_HELP)]
    Run(run::RunArgs),
    /// Evaluate controls over an evidence folder; write results.json, report.html and the bundle zip.
    #[command(after_help = report::AFTER_HELP)]
    Report(report::ReportArgs),
    /// Verify a bundle (zip or unzipped folder): hashes, signature, coverage, age; optionally re-evaluate it.
    #[command(after_help = verify::AFTER_HELP)]
    Verify(verify::VerifyArgs),
    /// Join shards of one run (collected with --ou/--accounts by separate jobs) into one evidence folder.
    #[command(after_help = merge::AFTER_HELP)]
    Merge(merge::MergeArgs),
    /// Build the Type II period package from every run of the period (a folder of bundles or the locker).
    #[command(after_help = period::AFTER_HELP)]
    Period(period::PeriodArgs),
    /// Compare two verified bundles: accounts, verdicts, parameters and control definitions that changed.
    #[command(after_help = diff::AFTER_HELP)]
    Diff(diff::DiffArgs),
    /// Store a verified bundle in the evidence locker (S3 with Object Lock, COMPLIANCE mode): the one write to AWS.
    #[cfg(feature = "aws")]
    #[command(after_help = upload::AFTER_HELP)]
    Upload(upload::UploadArgs),
    /// Fail a pipeline when a control fails or is not assessed: exit 0 pass, 1 fail, 2 bad input or tampered bundle.
    #[command(after_help = gate::AFTER_HELP)]
    Gate(gate::GateArgs),
    /// Discover the organization and write a starter auditpack.toml (roles guessed, shown for review).
    #[cfg(feature = "aws")]
    #[command(after_help = init::AFTER_HELP)]
    Init(init::InitArgs),
    /// Print the least-privilege read-only IAM policy that collection needs (JSON).
    #[command(name = "iam-policy", after_help = iam_policy::AFTER_HELP)]
    IamPolicy(iam_policy::IamPolicyArgs),
    /// Work with control definitions.
    #[command(subcommand)]
    Controls(controls::ControlsCommand),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out DIR.
    #[command(after_help = man::AFTER_HELP)]
    Man(man::ManArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(self) -> Result<Exit, Failure> {
        match self {
            #[cfg(feature = "aws")]
            Command::Collect(args) => collect::run(&args).map(|_| Exit::Done),
            #[cfg(feature = "aws")]
            Command::Run(args) => run::run(args),
            Command::Report(args) => report::run(args),
            Command::Verify(args) => verify::run(&args),
            Command::Merge(args) => merge::run(&args),
            Command::Diff(args) => diff::run(&args),
            Command::Period(args) => period::run(&args),
            Command::Gate(args) => gate::run(&args),
            #[cfg(feature = "aws")]
            Command::Upload(args) => upload::run(&args),
            #[cfg(feature = "aws")]
            Command::Init(args) => init::run(&args),
            Command::IamPolicy(args) => iam_policy::run(&args),
            Command::Controls(command) => controls::run(&command),
            Command::Completions(args) => completions::run(&args),
            Command::Man(args) => man::run(&args),
        }
    }
}

/// `--fail-on`: the lowest severity that fails the gate. A CLI type of its own,
/// so the domain's `Severity` does not depend on clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Every control fails the gate.
    Low,
    /// Medium, high and critical controls.
    Medium,
    /// High and critical controls.
    High,
    /// Critical controls only.
    Critical,
}

impl From<FailOn> for Severity {
    fn from(value: FailOn) -> Severity {
        match value {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// Control files, settings and waivers, as every evaluating command takes them.
#[derive(Args)]
pub struct ControlsArgs {
    /// A folder of your own control files, evaluated with the built-in catalog
    /// (an id or file name that clashes with a built-in control is an error).
    #[arg(long, value_name = "DIR")]
    pub controls: Option<PathBuf>,
    /// Leave the built-in catalog out: evaluate only the --controls folder
    /// (e.g. an edited copy from `auditpack controls export`).
    #[arg(long, requires = "controls")]
    pub no_builtin_controls: bool,
    /// Settings file (parameter overrides, disabled controls); default ./auditpack.toml when present.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Exceptions register (accepted failures with approver and expiry); default ./waivers.toml when present.
    #[arg(long)]
    pub waivers: Option<PathBuf>,
}

impl ControlsArgs {
    /// The control definitions these flags ask for.
    pub fn set(&self) -> ControlSet {
        ControlSet {
            builtin: !self.no_builtin_controls,
            folder: self.controls.clone(),
        }
    }

    /// `--config`, or `./auditpack.toml` when it exists.
    pub fn config_path(&self) -> Option<PathBuf> {
        config_or_default(self.config.as_deref())
    }

    /// `--waivers`, or `./waivers.toml` when it exists.
    pub fn waivers_path(&self) -> Option<PathBuf> {
        self.waivers
            .clone()
            .or_else(|| Some(PathBuf::from("waivers.toml")).filter(|p| p.is_file()))
    }
}

/// `--config` when given, or `./auditpack.toml` when it exists (every command
/// that reads settings finds them the same way).
pub fn config_or_default(given: Option<&Path>) -> Option<PathBuf> {
    given
        .map(Path::to_path_buf)
        .or_else(|| Some(PathBuf::from("auditpack.toml")).filter(|p| p.is_file()))
}

/// Signing the bundle (see docs/chain-of-custody.md).
#[derive(Args)]
pub struct SigningArgs {
    /// Sign the bundle with this OpenSSH private key (ed25519 or ecdsa P-256); an encrypted
    /// key's passphrase is read from AUDITPACK_SIGN_KEY_PASSPHRASE.
    #[arg(long, value_name = "PATH")]
    pub sign_key: Option<PathBuf>,
    /// The signer's name in the bundle's allowed_signers file; default: the key's comment.
    #[arg(long, requires = "sign_key")]
    pub signer_identity: Option<String>,
    /// Sign the bundle with this asymmetric AWS KMS key (ECC_NIST_P256), id or ARN; credentials
    /// from the SDK's default chain (with `run`, its --profile).
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "KEY")]
    pub kms_key_id: Option<String>,
}

impl SigningArgs {
    /// Loads the signing keys asked for, before any work is done (exit 2 when
    /// one is unusable, naming it).
    pub fn load(&self, aws_profile: Option<&str>) -> Result<Option<Signing>, Failure> {
        #[cfg(feature = "aws")]
        let kms = self
            .kms_key_id
            .as_deref()
            .map(|key| auditpack_aws::kms_signer::KmsSigner::connect(key, aws_profile))
            .transpose()?
            .map(|signer| Box::new(signer) as Box<_>);
        #[cfg(not(feature = "aws"))]
        let kms = {
            let _ = aws_profile;
            None
        };
        Ok(Signing::from_options(
            self.sign_key.as_deref(),
            self.signer_identity.as_deref(),
            kms,
        )?)
    }
}

/// Keys the auditor trusts.
#[derive(Args)]
pub struct TrustArgs {
    /// OpenSSH allowed_signers file: the bundle must be signed by a key it lists.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// A trusted public key (OpenSSH .pub, or a KMS key's PEM); repeatable.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Vec<PathBuf>,
}

impl TrustArgs {
    /// Loads the trusted keys (exit 2 when a file is unreadable or not a key).
    pub fn load(&self) -> Result<Trust, Failure> {
        Ok(Trust::load(self.allowed_signers.as_deref(), &self.pubkey)?)
    }
}

/// True when `path` exists and holds something.
#[cfg(feature = "aws")]
pub fn is_non_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some())
}

/// Refuses an `--out` inside the evidence folder (exit 2): the outputs would
/// sit among the evidence, and the next report of that folder would bundle
/// them (and its own earlier bundle) as evidence.
pub fn out_must_be_outside(out: &Path, evidence: &Path) -> Result<(), Failure> {
    let Ok(evidence_real) = evidence.canonicalize() else {
        return Ok(()); // a missing evidence folder is the pipeline's error to name
    };
    if resolved(out).starts_with(&evidence_real) {
        return Err(Failure::input(format!(
            "--out {} is inside the evidence folder {}: the outputs would be read as evidence by the next report; choose a folder outside it",
            out.display(),
            evidence.display()
        )));
    }
    Ok(())
}

/// `path` made absolute, with its longest existing prefix resolved (symlinks,
/// `..`), so two spellings of one place compare equal even before it exists.
fn resolved(path: &Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut prefix = absolute.as_path();
    loop {
        if let Ok(real) = prefix.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (prefix.parent(), prefix.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                prefix = parent;
            }
            _ => return absolute,
        }
    }
}

/// Refuses an `--out` that exists but is not a folder: the user's input
/// (exit 2), as `collect` refuses an `--out` that holds a run, not a failure
/// to write (exit 3).
pub fn out_must_be_a_folder(out: &Path) -> Result<(), Failure> {
    match std::fs::metadata(out) {
        Ok(meta) if !meta.is_dir() => Err(Failure::input(format!(
            "--out {}: exists and is not a folder",
            out.display()
        ))),
        _ => Ok(()),
    }
}
