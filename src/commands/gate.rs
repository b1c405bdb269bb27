//! `auditpack gate`: fail a pipeline when a control fails or is not assessed.
//! Exit 0 pass, 1 fail, 2 bad input or a bundle that does not verify.

use std::path::{Path, PathBuf};

use auditpack_core::custody::check::{render_text, verify_bundle, VerifyOptions};
use auditpack_core::custody::gate_input::{
    is_results_json, load_results, results_in_bundle, GateInputError,
};
use auditpack_core::custody::signature::Trust;
use auditpack_core::evaluation::Results;
use auditpack_core::gate::{decide, text_report, GateDecision};
use clap::Args;

use super::{FailOn, TrustArgs};
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack gate out/results.json\n  auditpack gate out/auditpack-o-a1b2c3d4e5-2026-Q4.zip --fail-on high --format json\n  \
    auditpack gate bundle.zip --allowed-signers team_signers   (only a bundle signed by a listed key is gated)";

/// `auditpack gate`'s arguments.
#[derive(Args)]
pub struct GateArgs {
    /// results.json, or a bundle (zip or unzipped bag), which is verified first.
    pub results: PathBuf,
    /// With a bundle: refuse it (exit 2) unless it is signed by a key these list.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Lowest severity that fails the gate.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GateFormat,
}

/// How the gate prints its decision.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GateFormat {
    /// Lines for a person.
    Text,
    /// The decision as JSON, alone on stdout.
    Json,
}

/// Gates, after checking the bundle's signature when trusted keys are given: a
/// pipeline that gates on a bundle built elsewhere can demand that it was
/// signed by its own release key, not merely intact.
pub fn run(args: &GateArgs) -> Result<Exit, Failure> {
    let trust = args.trust.load()?;
    let results = if trust.is_given() {
        signed_results(&args.results, trust)?
    } else {
        load_results(&args.results)?
    };
    gate_results(&results, args.fail_on, args.format)
}

/// Gates on a results.json or bundle without trusted keys (`run --gate`).
pub fn gate_path(path: &Path, fail_on: FailOn, format: GateFormat) -> Result<Exit, Failure> {
    gate_results(&load_results(path)?, fail_on, format)
}

/// The results of a bundle that passes verify's checks with `trust` (signed
/// by a trusted key, intact); verify's findings go to stderr when it does not.
fn signed_results(path: &Path, trust: Trust) -> Result<Results, Failure> {
    if is_results_json(path) {
        return Err(GateInputError::UnsignedResults {
            path: path.to_path_buf(),
        }
        .into());
    }
    let options = VerifyOptions {
        trust,
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate: false,
    };
    let report = verify_bundle(path, &options)?;
    if !report.is_ok() {
        eprint!("{}", render_text(path, &report));
        return Err(GateInputError::Untrusted {
            path: path.to_path_buf(),
        }
        .into());
    }
    Ok(results_in_bundle(path, &report.verification)?)
}

fn gate_results(results: &Results, fail_on: FailOn, format: GateFormat) -> Result<Exit, Failure> {
    let decision = decide(results, fail_on.into());
    append_step_summary(results, &decision);
    match format {
        GateFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&decision)
                .map_err(|e| Failure::tool(format!("cannot serialise the decision: {e}")))?
        ),
        GateFormat::Text => out!("{}", text_report(results, &decision)),
    }
    Ok(if decision.passed {
        Exit::Done
    } else {
        Exit::CheckFailed
    })
}

/// On GitHub Actions, adds the Markdown summary to the job's summary page. A
/// failure to write it is a warning: the gate's verdict must not depend on it.
fn append_step_summary(results: &Results, decision: &GateDecision) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let markdown = auditpack_core::outputs::markdown::summary_markdown(results, decision);
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
