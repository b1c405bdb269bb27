//! `auditpack verify`: everything checked about one bundle, in one report.
//!
//! 1. both manifests (every hash; missing, extra and unsafe files);
//! 2. the signature(s) over the tag manifest, against the auditor's trusted
//!    keys when given (else: "self-consistent only");
//! 3. the coverage record against `org.json` and the evidence listed;
//! 4. the collection window, and its age against `--max-age`;
//! 5. on request, re-evaluation of the bag's controls over its evidence.
//!
//! Pure apart from reading the bag (and, for re-evaluation, a private temporary
//! folder): the caller passes the current time, so age checks are testable.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::reevaluate::Reevaluation;
use super::signature::{check_signatures, SignatureReport, Trust};
use crate::custody::bag_check::{read_bag_keeping, Verification, VerifyError};
use crate::evidence::coverage::{self, Coverage};
use crate::evidence::RunInfo;

/// What the auditor asked to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Trusted keys (`--allowed-signers`, `--pubkey`).
    pub trust: Trust,
    /// `--max-age DAYS`: evidence older than this fails.
    pub max_age_days: Option<u64>,
    /// "Now", for the age check.
    pub now: DateTime<Utc>,
    /// `--reevaluate`.
    pub reevaluate: bool,
    /// Keep `data/results.json`'s bytes in the report (the gate, diff and
    /// period read them; re-evaluation keeps them anyway). A plain `verify`
    /// only hashes it, so its memory does not grow with the results.
    pub keep_results: bool,
}

/// Everything `verify` found.
#[derive(Debug, Clone)]
pub struct CustodyReport {
    /// Hashes against both manifests.
    pub verification: Verification,
    /// Signatures and trust.
    pub signatures: SignatureReport,
    /// The coverage record, when it is readable and consistent.
    pub coverage: Option<Coverage>,
    /// `run.json` started_at / finished_at.
    pub collection_window: Option<(String, String)>,
    /// Whole days between the start of collection and now.
    pub age_days: Option<i64>,
    /// Re-evaluation, when asked for and possible.
    pub reevaluation: Option<Reevaluation>,
    /// Every problem beyond hash mismatches, each naming its file.
    pub problems: Vec<String>,
    /// Facts worth saying that are not failures.
    pub notes: Vec<String>,
    /// True for a Type II period package (`auditpack period`): its window is
    /// the period, and re-evaluation re-derives period verdicts.
    pub period_package: bool,
}

impl CustodyReport {
    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.verification.is_intact() && self.problems.is_empty()
    }
}

/// The bag's files whose bytes were kept while reading (tag files, results,
/// org and run records), by path: what the signature and coverage checks read.
pub(crate) fn kept_files(verification: &Verification) -> BTreeMap<String, &[u8]> {
    // Borrowed, not copied: results.json is among them (70 MB at 1,000
    // accounts × 4 regions).
    verification
        .contents
        .entries
        .kept()
        .map(|(path, bytes)| (path.to_string(), bytes))
        .collect()
}

/// Verifies a bundle (zip or unzipped bag).
pub fn verify_bundle(path: &Path, options: &VerifyOptions) -> Result<CustodyReport, VerifyError> {
    let contents = read_bag_keeping(path, options.keep_results || options.reevaluate)?;
    let verification = crate::custody::bag_check::check(contents);
    let files = kept_files(&verification);
    let mut problems = Vec::new();
    let mut notes = Vec::new();

    let signatures = check_signatures(&files, &options.trust);
    problems.extend(signatures.problems.iter().cloned());

    let org: Option<crate::org::Org> = files
        .get("data/org.json")
        .and_then(|b| serde_json::from_slice(b).ok());
    let coverage = match (files.get(crate::evidence::coverage::COVERAGE_JSON), &org) {
        (None, _) => {
            problems.push(format!(
                "{}: missing (every bundle carries its coverage record)",
                crate::evidence::coverage::COVERAGE_JSON
            ));
            None
        }
        (Some(_), None) => {
            problems.push("data/org.json: missing or unreadable".into());
            None
        }
        (Some(recorded), Some(org)) => {
            const EVIDENCE: &str = "data/evidence/";
            let evidence = (verification.payload_paths()).filter_map(|mut path| {
                path.starts_with(EVIDENCE).then(|| {
                    path.replace_range(..EVIDENCE.len(), "");
                    path
                })
            });
            let rebuilt = coverage::coverage(org, evidence);
            match coverage::check(recorded, &rebuilt) {
                Ok(c) => Some(c),
                Err(p) => {
                    problems.extend(p);
                    None
                }
            }
        }
    };

    let run: Option<RunInfo> = files
        .get("data/run.json")
        .and_then(|b| serde_json::from_slice(b).ok());
    let collection_window = run
        .as_ref()
        .map(|r| (r.started_at.clone(), r.finished_at.clone()));
    let started = run
        .as_ref()
        .and_then(|r| DateTime::parse_from_rfc3339(&r.started_at).ok())
        .map(|t| t.with_timezone(&Utc));
    let age_days = started.map(|t| (options.now - t).num_days());
    match (options.max_age_days, started, &run) {
        (Some(_), _, None) => problems.push("data/run.json: missing or unreadable".into()),
        (Some(_), None, Some(r)) => problems.push(format!(
            "data/run.json: started_at '{}' is not an RFC 3339 time",
            r.started_at
        )),
        (Some(max), Some(t), Some(r)) => {
            problems.extend(window_problem(r, t, options.now));
            let age = options.now - t;
            // Capped far below chrono's limit, so a huge --max-age cannot panic.
            let limit = i64::try_from(max.min(10_000_000)).unwrap_or(10_000_000);
            if age > chrono::Duration::days(limit) {
                problems.push(format!(
                    "data/run.json: evidence collected from {} is {} day(s) old, older than --max-age {max}",
                    r.started_at,
                    age.num_days()
                ));
            }
        }
        _ => {}
    }

    let reevaluation = if !options.reevaluate {
        None
    } else if !verification.is_intact() || !problems.is_empty() {
        notes.push(
            "re-evaluation skipped: the bundle must verify before its results can be re-derived"
                .into(),
        );
        None
    } else {
        let results = files.get("data/results.json").copied().unwrap_or_default();
        match super::reevaluate::reevaluate(path, &verification.payload(), results) {
            Ok(r) => {
                for d in &r.differences {
                    problems.push(format!("data/results.json: {d}"));
                }
                if let Some(note) = &r.version_note {
                    notes.push(note.clone());
                }
                Some(r)
            }
            Err(e) => {
                problems.push(format!("re-evaluation failed: {e}"));
                None
            }
        }
    };

    Ok(CustodyReport {
        verification,
        signatures,
        coverage,
        collection_window,
        age_days,
        reevaluation,
        problems,
        notes,
        period_package: false,
    })
}

/// How far ahead of the verifier's clock a collection may seem to start
/// (clocks of the collecting machine and the auditor's laptop differ).
pub const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Why a collection window cannot be aged: it starts in the future (beyond
/// [`CLOCK_SKEW`]), so it would never be older than `--max-age`, or it ends
/// before it starts (or its end is not a time). `None` for a sound window.
fn window_problem(run: &RunInfo, started: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
    if started > now + CLOCK_SKEW {
        return Some(format!(
            "data/run.json: the collection window starts at {}, in the future (now is {}); its age cannot be checked against --max-age",
            run.started_at,
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    match DateTime::parse_from_rfc3339(&run.finished_at) {
        Err(_) => Some(format!(
            "data/run.json: finished_at '{}' is not an RFC 3339 time",
            run.finished_at
        )),
        Ok(end) if end < started => Some(format!(
            "data/run.json: the collection window is inverted: it ends at {} before it starts at {}",
            run.finished_at, run.started_at
        )),
        Ok(_) => None,
    }
}

/// The report for people, as `auditpack verify` prints it.
pub fn render_text(bundle: &Path, r: &CustodyReport) -> String {
    // The verdict comes first when it is OK and last when it is not, after the
    // problems, so it is the line a person (or `tail -1`) sees.
    let mut t = String::new();
    let v = &r.verification;
    if r.is_ok() {
        t.push_str(&format!(
            "OK: {} — {} payload files and every tag file match their SHA-256 manifests\n",
            bundle.display(),
            v.payload_files
        ));
    }
    for problem in &v.problems {
        t.push_str(&format!("{problem}\n"));
    }
    for problem in &r.problems {
        t.push_str(&format!("{problem}\n"));
    }
    let s = &r.signatures;
    for sig in &s.signatures {
        let when = s
            .signed_at
            .as_deref()
            .map(|w| format!(" at {w}"))
            .unwrap_or_default();
        let trust = match (&sig.trusted_by, s.trust_given) {
            (Some(by), _) => format!("trusted: listed in {by}"),
            (None, true) => "NOT among the trusted keys".to_string(),
            (None, false) => {
                "self-consistent only: no trusted key was given (--allowed-signers or --pubkey), so this shows the bundle is unchanged since this key signed it, not who holds the key".to_string()
            }
        };
        t.push_str(&format!(
            "signature ({}): signed by {} key {}{when}; {trust}\n",
            sig.kind, sig.signer, sig.fingerprint
        ));
    }
    if !s.is_signed() {
        t.push_str("signature: none (the bundle is not signed)\n");
    }
    if let Some((start, end)) = &r.collection_window {
        let age = r
            .age_days
            .map(|d| format!(" ({d} day(s) ago)"))
            .unwrap_or_default();
        let label = if r.period_package {
            "period"
        } else {
            "collection window"
        };
        t.push_str(&format!("{label}: {start} → {end}{age}\n"));
    }
    if let Some(c) = &r.coverage {
        t.push_str(&format!("coverage: {}\n", c.summary()));
        for f in &c.failed {
            t.push_str(&format!(
                "  not collected: {} — {}\n",
                f.account_id, f.reason
            ));
        }
    }
    if let Some(re) = &r.reevaluation {
        t.push_str(&reevaluation_line(re, r.period_package));
    }
    for note in &r.notes {
        t.push_str(&format!("note: {note}\n"));
    }
    let count = v.problems.len() + r.problems.len();
    if !r.is_ok() {
        t.push_str(&format!(
            "FAILED: {} — {count} problem(s) in {} files\n",
            bundle.display(),
            v.contents.entries.len()
        ));
    }
    t
}

/// What re-evaluation found, in one line: of a run bundle (its results from
/// its evidence and controls) or of a period package (its period verdicts
/// from its runs' results).
fn reevaluation_line(re: &Reevaluation, period_package: bool) -> String {
    let (label, counts, identical, differs) = if period_package {
        (
            "re-derivation",
            format!(
                "the period verdicts, intervals, gaps and samples of {} controls ({} run items)",
                re.controls, re.items
            ),
            "the packaged runs' results; identical to data/period.json, period.csv and period.html",
            "the package and its runs' results",
        )
    } else {
        (
            "re-evaluation",
            format!("{} controls, {} items", re.controls, re.items),
            "the bundle's evidence and controls; identical to data/results.json",
            "data/results.json and the bundle's evidence and controls",
        )
    };
    if re.differences.is_empty() {
        format!("{label}: {counts} re-derived from {identical}\n")
    } else {
        format!(
            "{label}: {} difference(s) between {differs}\n",
            re.differences.len()
        )
    }
}
