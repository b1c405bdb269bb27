//! `auditpack period`: the Type II period package, built from every run of
//! the period.
//!
//! Each run already wrote a signed bundle; together they show whether the
//! controls held *throughout* the period. This module reads them one at a
//! time ([`intake`]: verified, or excluded with the reason), folds each run's
//! verdicts into per control × account × region timelines ([`timeline`]),
//! derives the period verdicts, failure intervals, gaps and the auditor's
//! sample, and writes `period.json`, `period.csv`, `period.html` and a BagIt
//! zip that holds them with every run's `results.json` and `org.json`
//! ([`package`]). `verify` re-derives the verdicts from those copies
//! ([`verify`]).

pub mod csv;
pub mod html;
mod in_order;
pub mod intake;
pub mod model;
pub mod package;
pub mod settings;
pub mod timeline;
pub mod verify;

use std::path::{Path, PathBuf};

use crate::custody::signature::Trust;
use crate::outputs::bagit::{Content, TagManifestSigner};
use intake::{take_in, BundleSource, Intake};
use model::{Excluded, PeriodDoc, PeriodSpan};
use settings::Settings;
use timeline::{Accumulator, MAX_RUNS};

/// What `auditpack period` was asked to do.
pub struct PeriodRequest {
    /// The period.
    pub period: PeriodSpan,
    /// `--organization`, when given.
    pub organization: Option<String>,
    /// The auditor's trusted keys (empty: self-consistency only).
    pub trust: Trust,
    /// From `[period]` of auditpack.toml.
    pub settings: Settings,
    /// Output folder.
    pub out: PathBuf,
}

/// What was written.
pub struct PeriodOutcome {
    /// The findings.
    pub doc: PeriodDoc,
    /// `period.json`.
    pub json_path: PathBuf,
    /// `period.html`.
    pub html_path: PathBuf,
    /// The package zip.
    pub bundle_path: PathBuf,
    /// Its SHA-256.
    pub bundle_sha256: String,
}

/// Why no package was written.
#[derive(Debug, thiserror::Error)]
pub enum PeriodError {
    /// The user's input (exit 2).
    #[error("{0}")]
    Input(String),
    /// Writing failed (exit 3).
    #[error("{path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the outputs or the zip failed (exit 3).
    #[error("{0}")]
    Write(#[from] crate::report::PipelineError),
}

/// Reads every bundle of `source`, one at a time, and writes the package.
pub fn build_period(
    source: &dyn BundleSource,
    request: &PeriodRequest,
    signer: Option<&dyn TagManifestSigner>,
) -> Result<PeriodOutcome, PeriodError> {
    let labels = source.labels();
    if labels.is_empty() {
        return Err(PeriodError::Input(
            "--bundles: no bundle (*.zip) found".into(),
        ));
    }
    let organization = match &request.organization {
        Some(o) => o.clone(),
        None => pick_organization(source, &labels)?,
    };
    std::fs::create_dir_all(&request.out).map_err(|source| PeriodError::Output {
        path: request.out.clone(),
        source,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".period-staging-")
        .tempdir_in(&request.out)
        .map_err(|source| PeriodError::Output {
            path: request.out.clone(),
            source,
        })?;
    let mut accumulator = Accumulator::default();
    let mut excluded = Vec::new();
    let mut used = std::collections::BTreeMap::<String, String>::new();
    let package = package_name(&organization, &request.period.label);
    let mut staged = std::collections::BTreeMap::new();
    // One bundle per core (verifying one is inflating and hashing, one core's
    // work), each core running at most one bundle ahead of the fold: memory
    // holds that many runs, however many bundles there are.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let take = |label: &String| -> Result<(Intake, Vec<(String, Content)>), PeriodError> {
        let fetched = match source.fetch(label) {
            Ok(f) => f,
            Err(reason) => {
                let e = Excluded::new(label, None, "unreadable", reason);
                return Ok((Intake::Excluded(e), Vec::new()));
            }
        };
        let intake = take_in(&fetched, &request.trust, &organization, &request.period);
        let Intake::Run(run) = intake else {
            return Ok((intake, Vec::new()));
        };
        let sha256 = Some(run.entry.sha256.clone());
        Ok(
            match package::stage_run(staging.path(), &package, &fetched.path, &run)? {
                Ok(files) => (Intake::Run(run), files),
                Err(reason) => (
                    Intake::Excluded(Excluded::new(label, sha256, "tampered", reason)),
                    Vec::new(),
                ),
            },
        )
    };
    in_order::work_in_order(&labels, workers, workers + 1, take, |taken| {
        let (intake, files) = taken?;
        match intake {
            Intake::Excluded(e) => {
                tracing::info!(bundle = %e.bundle, reason = %e.reason, "excluded");
                excluded.push(e);
            }
            Intake::Run(run) => {
                let (bundle, sha256) = (&run.entry.bundle, Some(run.entry.sha256.clone()));
                if let Some(first) = used.get(&run.entry.sha256) {
                    let reason = format!("the same bytes as {first}, already used");
                    excluded.push(Excluded::new(bundle, sha256, "duplicate", reason));
                } else if accumulator.len() >= MAX_RUNS {
                    let reason = format!("more than {MAX_RUNS} runs in one period");
                    excluded.push(Excluded::new(bundle, sha256, "unsupported", reason));
                } else {
                    staged.extend(files);
                    let run = *run;
                    used.insert(run.entry.sha256.clone(), run.entry.bundle.clone());
                    accumulator.add(run.entry, run.results, &run.org);
                }
            }
        }
        Ok::<(), PeriodError>(())
    })?;
    if accumulator.is_empty() {
        let reasons: Vec<String> = excluded
            .iter()
            .map(|e| format!("  {}: {}", e.bundle, e.reason))
            .collect();
        return Err(PeriodError::Input(format!(
            "no run of organization {organization} in period {} among {} bundle(s):\n{}",
            request.period.label,
            labels.len(),
            reasons.join("\n")
        )));
    }
    let mut doc = accumulator.derive(&request.settings, &request.period, &organization);
    doc.summary.excluded = excluded.len();
    doc.excluded = excluded;
    doc.signatures = signature_note(&request.trust);
    package::write_package(&doc, staged, &request.out, signer)
}

/// The one organization the bundles' locations or bag-info name; several (or
/// none) is an input error asking for `--organization`.
fn pick_organization(source: &dyn BundleSource, labels: &[String]) -> Result<String, PeriodError> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for label in labels {
        if let Some(o) = source.organization_hint(label) {
            *counts.entry(o).or_default() += 1;
        }
    }
    match counts.len() {
        1 => Ok(counts.into_keys().next().unwrap_or_default()),
        0 => Err(PeriodError::Input(
            "cannot tell which organization the bundles belong to; name it with --organization o-…"
                .into(),
        )),
        _ => {
            let found: Vec<String> = counts.iter().map(|(o, n)| format!("{o} ({n})")).collect();
            Err(PeriodError::Input(format!(
                "the bundles belong to several organizations: {}; name one with --organization",
                found.join(", ")
            )))
        }
    }
}

/// How the runs' signatures were checked, for the package's cover.
fn signature_note(trust: &Trust) -> String {
    if trust.is_given() {
        "every run's signature was checked against the trusted keys given (--allowed-signers/--pubkey); unsigned runs and runs signed by other keys are excluded".into()
    } else {
        "no trusted keys were given: each run was checked for integrity (hashes, coverage) only; a signature proves nothing without keys the auditor trusts".into()
    }
}

/// The package's file name stem.
pub fn package_name(organization_id: &str, period: &str) -> String {
    format!(
        "{}-period",
        crate::outputs::bagit::bag_name(organization_id, period)
    )
}

/// True when the bag at `path` is a period package (its `bag-info.txt` says
/// so). A run bundle carrying the line, or a package without it, fails the
/// other kind's checks: the label only picks which checks run.
pub fn is_period_package(path: &Path) -> bool {
    package::bag_info_text(path)
        .and_then(|t| crate::custody::signature::bag_info_field(&t, package::PACKAGE_FIELD))
        .is_some_and(|v| v == package::PACKAGE_KIND)
}
