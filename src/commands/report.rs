//! `auditpack report`: evaluate the controls over an evidence folder and write
//! results.json/.csv, inventory.csv, report.html, junit.xml, results.sarif,
//! summary.md and the bundle.

use std::path::PathBuf;

use auditpack_core::custody::signature::Signing;
use auditpack_core::evaluation::{Severity, WaiverState};
use auditpack_core::outputs::bagit::TagManifestSigner;
use auditpack_core::report::{run_report, ReportOutcome, ReportRequest};
use clap::Args;

use super::{ControlsArgs, SigningArgs};
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str =
    "Example:\n  auditpack report --evidence evidence-samples --out out\n  \
    auditpack report --evidence ev/ --out out/ --controls my-controls/ --config auditpack.toml";

/// `auditpack report`'s arguments.
#[derive(Args)]
pub struct ReportArgs {
    /// Evidence folder (from `auditpack collect`, or evidence-samples/).
    #[arg(long)]
    pub evidence: PathBuf,
    /// Output folder for results.json, report.html and the bundle.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub controls: ControlsArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// Loads the signing keys, then reports.
pub fn run(args: ReportArgs) -> Result<Exit, Failure> {
    let signing = args.signing.load(None)?;
    report(&args, signing.as_ref(), Severity::Low)
}

/// Reports with keys already loaded; `summary.md` states the gate's verdict
/// at `fail_on`. Exit 0 whatever the verdicts (the gate decides on those).
pub fn report(
    args: &ReportArgs,
    signing: Option<&Signing>,
    fail_on: Severity,
) -> Result<Exit, Failure> {
    let request = ReportRequest {
        evidence: args.evidence.clone(),
        out: args.out.clone(),
        config: args.controls.config_path(),
        waivers: args.controls.waivers_path(),
        controls: args.controls.set(),
        fail_on,
    };
    super::out_must_be_a_folder(&args.out)?;
    super::out_must_be_outside(&args.out, &args.evidence)?;
    let signer = signing.map(|s| s as &dyn TagManifestSigner);
    let done = run_report(&request, signer)?;
    print_outcome(&done);
    Ok(Exit::Done)
}

fn print_outcome(done: &ReportOutcome) {
    let v = &done.verdicts;
    let s = &v.summary;
    outln!(
        "auditpack: {} controls for organization {} (period {}): {} PASS, {} FAIL, {} NOT ASSESSED, {} WAIVED, {} DISABLED",
        v.controls,
        v.organization_id,
        v.period,
        s.controls.pass,
        s.controls.fail,
        s.controls.not_assessed,
        s.controls.waived,
        s.controls.disabled
    );
    for w in &v.waivers {
        let why = match w.state {
            WaiverState::Active => continue,
            WaiverState::Expired => "expired: it waives nothing",
            WaiverState::Stale => "stale: it matches no failing or unassessed item",
        };
        eprintln!(
            "auditpack: warning: waiver {} for {} (expires {}) is {why}",
            w.source, w.control, w.expires
        );
    }
    for path in [&done.results_path, &done.report_path, &done.bundle_path] {
        outln!("wrote {}", path.display());
    }
    outln!("{}  {}", done.bundle_sha256, done.bundle_path.display());
}
