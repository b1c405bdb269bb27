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
    /// With a bundle: gate on its results.json as bundled, without re-deriving
    /// it from the bundle's own evidence and controls. Faster on large bundles,
    /// but a bundle whose results were edited and its manifests recomputed
    /// then passes; keep it for bundles signed by a trusted key.
    #[arg(long)]
    pub trust_results: bool,
}

/// How the gate prints its decision.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GateFormat {
    /// Lines for a person.
    Text,
    /// The decision as JSON, alone on stdout.
    Json,
}

/// Gates on proven facts. A bundle is verified first and, unless
/// `--trust-results`, its results are re-derived from its own evidence and
/// controls: a bundle whose results.json was edited and re-hashed is refused
/// (exit 2) instead of gated. With trusted keys, it must also be signed by one
/// (a pipeline gating on a bundle built elsewhere can demand its own release
/// key). A bare results.json is gated as it reads (its statuses recomputed
/// from its items): it carries no evidence to re-derive it from.
pub fn run(args: &GateArgs) -> Result<Exit, Failure> {
    let trust = args.trust.load()?;
    let results = if is_results_json(&args.results) {
        if trust.is_given() {
            return Err(GateInputError::UnsignedResults {
                path: args.results.clone(),
            }
            .into());
        }
        load_results(&args.results)?
    } else {
        proven_results(&args.results, trust, !args.trust_results)?
    };
    gate_results(&results, args.fail_on, args.format)
}

/// Gates on a results.json or bundle without trusted keys (`run --gate`).
#[cfg(feature = "aws")]
pub fn gate_path(path: &Path, fail_on: FailOn, format: GateFormat) -> Result<Exit, Failure> {
    gate_results(&load_results(path)?, fail_on, format)
}

/// The results of a bundle that passes verify's checks: intact, signed by a
/// trusted key when `trust` names keys, and (when `reevaluate`) results that
/// its own evidence and controls give again. Verify's findings go to stderr
/// when it does not pass.
fn proven_results(path: &Path, trust: Trust, reevaluate: bool) -> Result<Results, Failure> {
    let keys_given = trust.is_given();
    let options = VerifyOptions {
        trust,
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate,
        keep_results: true,
    };
    let report = verify_bundle(path, &options)?;
    if !report.is_ok() {
        eprint!("{}", render_text(path, &report));
        let path = path.to_path_buf();
        return Err(if keys_given {
            GateInputError::Untrusted { path }
        } else {
            GateInputError::NotProven { path }
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
