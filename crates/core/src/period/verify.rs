//! `auditpack verify` on a period package: the bag's hashes and signatures as
//! for any bundle, then that `period.json` names a copy of every run it used;
//! with `--reevaluate`, the period verdicts, intervals, gaps and sample are
//! re-derived from those copies (with the settings and seed `period.json`
//! records) and `period.json`, `period.csv` and `period.html` must be exactly
//! what the re-derivation writes.

use std::collections::BTreeMap;
use std::path::Path;

use super::model::{PeriodDoc, PERIOD_SCHEMA_VERSION};
use super::package::{period_json, run_dir};
use super::timeline::{Accumulator, RunOrg, RunResults};
use crate::custody::bag_check::{check, copy_payload, read_bag, VerifyError};
use crate::custody::check::{kept_files, CustodyReport, VerifyOptions};
use crate::custody::reevaluate::Reevaluation;
use crate::custody::signature::check_signatures;

/// Verifies a period package.
pub fn verify_period_package(
    path: &Path,
    options: &VerifyOptions,
) -> Result<CustodyReport, VerifyError> {
    let verification = check(read_bag(path)?);
    let files = kept_files(&verification);
    let signatures = check_signatures(&files, &options.trust);
    let mut problems = signatures.problems.clone();
    let mut notes = vec!["a Type II period package (period.json): its runs are referenced by SHA-256; verify each run's bundle on its own".to_string()];
    if options.max_age_days.is_some() {
        notes.push("--max-age does not apply to a period package (it spans the period)".into());
    }
    let manifest = &verification.payload();
    let doc = match files
        .get("data/period.json")
        .map(|b| serde_json::from_slice::<PeriodDoc>(b))
    {
        None => {
            problems.push("data/period.json: missing".into());
            None
        }
        Some(Err(e)) => {
            problems.push(format!("data/period.json: unreadable ({e})"));
            None
        }
        Some(Ok(doc)) if doc.schema_version != PERIOD_SCHEMA_VERSION => {
            problems.push(format!(
                "data/period.json: schema_version {}; this auditpack reads version {PERIOD_SCHEMA_VERSION}",
                doc.schema_version
            ));
            None
        }
        Some(Ok(doc)) => Some(doc),
    };
    if let Some(doc) = &doc {
        for run in &doc.runs {
            for name in ["results.json", "org.json"] {
                let file = format!("data/{}/{name}", run_dir(&run.sha256));
                if !manifest.contains_key(&file) {
                    problems.push(format!(
                        "{file}: missing (period.json uses run {})",
                        run.bundle
                    ));
                }
            }
        }
    }
    let collection_window = doc
        .as_ref()
        .map(|d| (d.period.start.clone(), d.period.end.clone()));
    let reevaluation = match (&doc, options.reevaluate) {
        (Some(doc), true) if verification.is_intact() && problems.is_empty() => {
            match rederive(path, manifest, doc, &files) {
                Ok(r) => {
                    problems.extend(r.differences.iter().cloned());
                    Some(r)
                }
                Err(e) => {
                    problems.push(format!("re-derivation failed: {e}"));
                    None
                }
            }
        }
        (_, true) => {
            notes.push("re-derivation skipped: the package must verify before its verdicts can be re-derived".into());
            None
        }
        _ => None,
    };
    Ok(CustodyReport {
        verification,
        signatures,
        coverage: None,
        collection_window,
        age_days: None,
        reevaluation,
        problems,
        notes,
        period_package: true,
    })
}

/// Re-derives the findings from the packaged runs and compares the outputs.
fn rederive(
    bag: &Path,
    manifest: &BTreeMap<String, String>,
    doc: &PeriodDoc,
    files: &BTreeMap<String, &[u8]>,
) -> Result<Reevaluation, String> {
    let work = tempfile::Builder::new()
        .prefix("auditpack-period-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let root = work.path().to_path_buf();
    copy_payload(bag, manifest, &|rel: &str| {
        let rest = rel.strip_prefix("data/")?;
        (rest.starts_with("runs/") || matches!(rest, "period.csv" | "period.html"))
            .then(|| root.join(rest))
    })
    .map_err(|e| e.to_string())?;
    let mut accumulator = Accumulator::default();
    let mut items = 0;
    for run in &doc.runs {
        let dir = root.join(run_dir(&run.sha256));
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| format!("data/{}/{name}: {e}", run_dir(&run.sha256)))
        };
        let results: RunResults = serde_json::from_slice(&read("results.json")?)
            .map_err(|e| format!("data/{}/results.json: {e}", run_dir(&run.sha256)))?;
        let org: RunOrg = serde_json::from_slice(&read("org.json")?)
            .map_err(|e| format!("data/{}/org.json: {e}", run_dir(&run.sha256)))?;
        items += results
            .controls
            .iter()
            .map(|c| c.results.len())
            .sum::<usize>();
        let mut entry = run.clone();
        entry.controls = [0; 5];
        accumulator.add(entry, results, &org);
    }
    // Derived with the settings recorded: a seed not set in them must be the
    // one the runs' hashes give, so a swapped seed (a hand-picked sample) shows.
    let mut derived = accumulator.derive(&doc.settings, &doc.period, &doc.organization_id);
    derived.excluded.clone_from(&doc.excluded);
    derived.summary.excluded = doc.excluded.len();
    derived.signatures.clone_from(&doc.signatures);
    if derived.seed != doc.seed {
        return Ok(Reevaluation {
            controls: derived.controls.len(),
            items,
            differences: vec![format!(
                "data/period.json: seed {} is not the seed the runs give ({})",
                doc.seed, derived.seed
            )],
            version_note: None,
        });
    }
    let mut differences = differences(doc, &derived);
    if differences.is_empty()
        && files.get("data/period.json").copied() != Some(period_json(&derived).as_slice())
    {
        differences
            .push("data/period.json: differs from the re-derivation from the packaged runs".into());
    }
    for (name, bytes) in [
        ("period.csv", super::csv::period_csv(&derived)),
        (
            "period.html",
            super::html::period_html(&derived).into_bytes(),
        ),
    ] {
        let packaged = std::fs::read(root.join(name)).unwrap_or_default();
        if packaged != bytes {
            differences.push(format!("data/{name}: is not what period.json's runs give"));
        }
    }
    Ok(Reevaluation {
        controls: derived.controls.len(),
        items,
        differences,
        version_note: (doc.tool.version != crate::TOOL_VERSION).then(|| {
            format!(
                "the package was made by auditpack {}; this is {}",
                doc.tool.version,
                crate::TOOL_VERSION
            )
        }),
    })
}

/// Control by control, what the packaged `period.json` says that the runs do not.
fn differences(recorded: &PeriodDoc, derived: &PeriodDoc) -> Vec<String> {
    let mut out = Vec::new();
    let by_id: BTreeMap<&str, _> = derived
        .controls
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    for c in &recorded.controls {
        match by_id.get(c.id.as_str()) {
            None => out.push(format!("data/period.json: control {} is not in any packaged run", c.id)),
            Some(d) if d.status != c.status => out.push(format!(
                "data/period.json: control {} says {}, the packaged runs give {}",
                c.id,
                c.status.label(),
                d.status.label()
            )),
            Some(d) if *d != c => out.push(format!(
                "data/period.json: control {}: items, intervals, gaps or sample differ from the packaged runs",
                c.id
            )),
            _ => {}
        }
    }
    for d in &derived.controls {
        if !recorded.controls.iter().any(|c| c.id == d.id) {
            out.push(format!(
                "data/period.json: control {} of the packaged runs is missing",
                d.id
            ));
        }
    }
    if recorded.runs != derived.runs {
        out.push("data/period.json: the runs list differs from the packaged runs".into());
    }
    out
}
