//! `auditpack period`: the Type II period package from every run of the
//! period, read from a folder of bundles or from the evidence locker.

use std::path::PathBuf;

use auditpack_core::evaluation::config::Config;
use auditpack_core::evidence::period::resolve_period;
use auditpack_core::outputs::bagit::TagManifestSigner;
use auditpack_core::period::intake::{BundleSource, FolderSource};
use auditpack_core::period::model::PeriodSpan;
use auditpack_core::period::settings::Settings;
use auditpack_core::period::{build_period, PeriodOutcome, PeriodRequest};
use clap::Args;

use super::{SigningArgs, TrustArgs};
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack period --bundles audit/runs --period 2026-Q4 --out audit/period --allowed-signers team_signers\n  \
    auditpack period --bundles s3://acme-evidence-locker/soc2 --period 2026-Q4 --out period --pubkey kms.pem\n\n\
    Every bundle found is verified; one that does not verify, is not signed by a trusted key, belongs to\n\
    another organization or was collected outside the period is excluded and listed with the reason.\n\
    Frequencies, allowed gaps, sample sizes and the seed: [period] in auditpack.toml (docs/period.md).\n\
    Exit codes: 0 the package was written (whatever the verdicts), 2 no usable run or bad input, 3 writing failed.";

/// `auditpack period`'s arguments.
#[derive(Args)]
pub struct PeriodArgs {
    /// Where the runs' bundles are: a folder (searched at any depth) or the locker, s3://BUCKET/PREFIX.
    #[arg(long, value_name = "DIR|S3_URL")]
    pub bundles: String,
    /// The audit period (2026-Q4, 2026-H2, 2026, or 2026-10-01/2026-12-31).
    #[arg(long)]
    pub period: String,
    /// Output folder for period.json, period.csv, period.html and the package zip.
    #[arg(long)]
    pub out: PathBuf,
    /// The organization (o-…); needed only when the bundles found name several.
    #[arg(long, value_name = "ID")]
    pub organization: Option<String>,
    /// Settings file ([period]: frequency, max_gap_days, sample_sizes, seed); default ./auditpack.toml when present.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The sampling seed (overrides [period] seed; default: derived from the runs' hashes).
    #[arg(long)]
    pub seed: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// AWS profile for reading the locker.
    #[arg(long)]
    pub profile: Option<String>,
    /// Path-style S3 addressing (emulators).
    #[arg(long, hide = true)]
    pub s3_path_style: bool,
}

/// Builds the period package.
pub fn run(args: &PeriodArgs) -> Result<Exit, Failure> {
    let config_path = super::config_or_default(args.config.as_deref());
    let config = match &config_path {
        Some(path) => Config::load(path).map_err(|errors| {
            Failure::input(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?,
        None => Config::default(),
    };
    let dates = resolve_period(&args.period, config.period.fiscal_year_start_month)
        .map_err(|e| Failure::input(format!("--period: {e}")))?;
    let mut settings = Settings::from_config(&config.period).map_err(|e| {
        let file = config_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Failure::input(format!("{file}: {e}"))
    })?;
    if let Some(seed) = &args.seed {
        settings.seed = Some(seed.clone());
    }
    super::out_must_be_a_folder(&args.out)?;
    let trust = args.trust.load()?;
    let signing = args.signing.load(args.profile.as_deref())?;
    let source = open_source(args)?;
    let request = PeriodRequest {
        period: PeriodSpan {
            label: args.period.clone(),
            start: dates.start,
            end: dates.end,
        },
        organization: args.organization.clone(),
        trust,
        settings,
        out: args.out.clone(),
    };
    let signer = signing.as_ref().map(|s| s as &dyn TagManifestSigner);
    let done = build_period(source.as_ref(), &request, signer)?;
    print_outcome(&done);
    Ok(Exit::Done)
}

/// The folder or locker named by `--bundles`.
fn open_source(args: &PeriodArgs) -> Result<Box<dyn BundleSource>, Failure> {
    if args.bundles.starts_with("s3://") {
        return open_locker(args);
    }
    Ok(Box::new(
        FolderSource::open(std::path::Path::new(&args.bundles)).map_err(Failure::input)?,
    ))
}

#[cfg(feature = "aws")]
fn open_locker(args: &PeriodArgs) -> Result<Box<dyn BundleSource>, Failure> {
    let target = auditpack_core::custody::locker::LockerTarget::parse(&args.bundles)
        .map_err(|e| Failure::input(format!("--bundles: {e}")))?;
    let source = auditpack_aws::locker_read::LockerSource::open(
        target,
        args.profile.as_deref(),
        args.s3_path_style,
    )
    .map_err(Failure::tool)?;
    Ok(Box::new(source))
}

#[cfg(not(feature = "aws"))]
fn open_locker(_args: &PeriodArgs) -> Result<Box<dyn BundleSource>, Failure> {
    Err(Failure::input(
        "--bundles s3://…: this auditpack was built without AWS support; copy the bundles to a folder",
    ))
}

fn print_outcome(done: &PeriodOutcome) {
    let d = &done.doc;
    let s = &d.summary;
    outln!(
        "auditpack: period {} of organization {}: {} runs used, {} bundles excluded; {} controls: {} PASS, {} FAIL, {} NOT ASSESSED, {} WAIVED, {} DISABLED",
        d.period.label,
        d.organization_id,
        s.runs,
        s.excluded,
        d.controls.len(),
        s.pass,
        s.fail,
        s.not_assessed,
        s.waived,
        s.disabled
    );
    for e in &d.excluded {
        eprintln!(
            "auditpack: excluded {} ({}): {}",
            e.bundle, e.kind, e.reason
        );
    }
    outln!("sampling seed: {}", d.seed);
    for path in [&done.json_path, &done.html_path, &done.bundle_path] {
        outln!("wrote {}", path.display());
    }
    outln!("{}  {}", done.bundle_sha256, done.bundle_path.display());
}
