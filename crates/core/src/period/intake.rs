//! Where the runs come from, and which are used: each bundle is verified
//! (hashes, signature against the trusted keys, coverage) and checked against
//! the organization and the period; one that fails any of these is excluded
//! with its reason, never dropped.

use std::path::{Path, PathBuf};

use super::model::{Excluded, PeriodSpan, RunEntry};
use super::timeline::{RunOrg, RunResults};
use crate::custody::bag_check::BagEntry;
use crate::custody::check::{verify_bundle, VerifyOptions};
use crate::custody::signature::Trust;
use crate::outputs::bagit::file_sha256;

/// One bundle to read: where it was found, and a local copy.
pub struct Fetched {
    /// Path below `--bundles`, or the locker key.
    pub label: String,
    /// The locker key, when it came from the locker.
    pub locker_key: Option<String>,
    /// The bundle file on this machine.
    pub path: PathBuf,
    /// Keeps a downloaded copy alive until the bundle is read.
    pub _temporary: Option<tempfile::TempPath>,
}

/// A place that holds bundles, read one at a time (a few at once, one per core).
pub trait BundleSource: Sync {
    /// Every bundle's label, sorted.
    fn labels(&self) -> Vec<String>;
    /// The organization a bundle's location names, when it names one
    /// (the locker's `PREFIX/<organization>/…`), without reading it.
    fn organization_hint(&self, label: &str) -> Option<String>;
    /// A local copy of one bundle.
    fn fetch(&self, label: &str) -> Result<Fetched, String>;
}

/// The bundles of a local folder: every `*.zip` below it, at any depth (the
/// locker's `<organization>/<yyyy>/<mm>/<dd>/` layout copied down, or a flat
/// folder of CI artifacts). Symbolic links are not followed.
pub struct FolderSource {
    root: PathBuf,
    files: Vec<String>,
}

impl FolderSource {
    /// Lists the folder; an unreadable folder is an error naming it.
    pub fn open(root: &Path) -> Result<FolderSource, String> {
        if !root.is_dir() {
            return Err(format!("--bundles {}: not a folder", root.display()));
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| format!("--bundles {}: {e}", root.display()))?;
            let name = entry.file_name().to_string_lossy();
            if name.ends_with(".zip") && !entry.file_type().is_dir() {
                let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
                files.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        files.sort();
        Ok(FolderSource {
            root: root.to_path_buf(),
            files,
        })
    }
}

impl BundleSource for FolderSource {
    fn labels(&self) -> Vec<String> {
        self.files.clone()
    }

    /// From the locker's layout when the folder has it (a locker copied
    /// down), else from the bundle's `bag-info.txt`: reading that means
    /// reading the zip's whole central directory (tens of thousands of
    /// entries), which over a quarter of daily runs took seconds.
    fn organization_hint(&self, label: &str) -> Option<String> {
        crate::custody::locker::organization_in_layout(label)
            .map(String::from)
            .or_else(|| bag_info_organization(&self.root.join(label)))
    }

    fn fetch(&self, label: &str) -> Result<Fetched, String> {
        let path = self.root.join(label);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{label}: {e}"))?;
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{label}: a symbolic link, not a bundle file (not followed)"
            ));
        }
        Ok(Fetched {
            label: label.to_string(),
            locker_key: None,
            path,
            _temporary: None,
        })
    }
}

/// The `Source-Organization` a zip's `bag-info.txt` names (unverified: only
/// to pick the organization when `--organization` is not given).
pub fn bag_info_organization(zip_path: &Path) -> Option<String> {
    let text = super::package::bag_info_text(zip_path)?;
    crate::custody::signature::bag_info_field(&text, "Source-Organization")
        .map(|v| v.trim_start_matches("AWS Organization ").to_string())
}

/// A run that passed every check, ready to fold in.
pub struct Accepted {
    /// Its entry in `period.json`.
    pub entry: RunEntry,
    /// Its results.
    pub results: RunResults,
    /// Its organization.
    pub org: RunOrg,
    /// The bag's top folder inside the bundle zip.
    pub bag: String,
    /// `data/results.json` and `data/org.json` as verified, in that order:
    /// the package copies them from the bundle.
    pub copies: [VerifiedFile; 2],
}

/// A file of a run's bundle, as its verification read it.
pub struct VerifiedFile {
    /// Its name under `data/` (`results.json`, `org.json`).
    pub name: &'static str,
    /// SHA-256 of its bytes (matching the bundle's manifest).
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// CRC-32 of its bytes: the copy taken from the bundle is checked
    /// against it, so a bundle changed after it was verified is not copied.
    pub crc32: u32,
}

impl VerifiedFile {
    fn new(name: &'static str, entry: &BagEntry, bytes: &[u8]) -> VerifiedFile {
        VerifiedFile {
            name,
            sha256: entry.sha256_hex(),
            size: entry.size,
            crc32: crc32fast::hash(bytes),
        }
    }
}

/// What the checks decided.
pub enum Intake {
    /// Used.
    Run(Box<Accepted>),
    /// Not used, with why.
    Excluded(Excluded),
}

/// Verifies one fetched bundle and decides whether the period uses it.
pub fn take_in(
    fetched: &Fetched,
    trust: &Trust,
    organization_id: &str,
    period: &PeriodSpan,
) -> Intake {
    let label = fetched.label.clone();
    let exclude = |sha256: Option<String>, kind: &str, reason: String| {
        Intake::Excluded(Excluded::new(&label, sha256, kind, reason))
    };
    let options = VerifyOptions {
        trust: trust.clone(),
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate: false,
        keep_results: true,
    };
    let verified = verify_bundle(&fetched.path, &options);
    // The bundle's hash names it; reading it for verification took it.
    let hashed = match &verified {
        Ok(report) => report.verification.contents.zip_sha256.clone(),
        Err(_) => None,
    };
    let sha256 = match hashed.map_or_else(|| file_sha256(&fetched.path), Ok) {
        Ok(s) => s,
        Err(e) => return exclude(None, "unreadable", format!("{label}: {e}")),
    };
    let mut report = match verified {
        Ok(r) => r,
        Err(e) => return exclude(Some(sha256), "unreadable", format!("not a bundle: {e}")),
    };
    if !report.signatures.problems.is_empty() {
        return exclude(
            Some(sha256),
            "untrusted-signature",
            first_problems(&report.signatures.problems),
        );
    }
    if !report.is_ok() {
        let mut problems: Vec<String> = report
            .verification
            .problems
            .iter()
            .map(ToString::to_string)
            .chain(report.problems.iter().cloned())
            .collect();
        problems.dedup();
        return exclude(Some(sha256), "tampered", first_problems(&problems));
    }
    let signers = report
        .signatures
        .signatures
        .iter()
        .map(|s| format!("{} ({})", s.signer, s.fingerprint))
        .collect();
    // Taken out of the report, not copied: results.json is the largest file
    // kept in memory (hundreds of MB at thousands of accounts).
    let bag = report.verification.contents.name.clone();
    let entries = &mut report.verification.contents.entries;
    let mut file = |name: &str| -> Option<(BagEntry, Vec<u8>)> {
        let (entry, bytes) = entries.take(name)?;
        Some((entry, bytes?))
    };
    if file("data/period.json").is_some() {
        return exclude(
            Some(sha256),
            "unsupported",
            "a period package, not a run bundle".into(),
        );
    }
    let (Some((results_entry, results_bytes)), Some((org_entry, org_bytes))) =
        (file("data/results.json"), file("data/org.json"))
    else {
        return exclude(
            Some(sha256),
            "unsupported",
            "data/results.json or data/org.json is missing".into(),
        );
    };
    let results: RunResults = match serde_json::from_slice(&results_bytes) {
        Ok(r) => r,
        Err(e) => {
            return exclude(
                Some(sha256),
                "unsupported",
                format!("data/results.json: {e}"),
            )
        }
    };
    if !(1..=crate::evaluation::RESULTS_SCHEMA_VERSION).contains(&results.schema_version) {
        return exclude(
            Some(sha256),
            "unsupported",
            format!(
                "data/results.json: schema_version {}; this auditpack reads 1 to {}",
                results.schema_version,
                crate::evaluation::RESULTS_SCHEMA_VERSION
            ),
        );
    }
    let org: RunOrg = match serde_json::from_slice(&org_bytes) {
        Ok(o) => o,
        Err(e) => return exclude(Some(sha256), "unsupported", format!("data/org.json: {e}")),
    };
    if results.organization_id != organization_id {
        return exclude(
            Some(sha256),
            "other-organization",
            format!(
                "evidence of organization {}, not {organization_id}",
                results.organization_id
            ),
        );
    }
    let window = &results.collection_window;
    if !within(&window.start, period) {
        return exclude(
            Some(sha256),
            "outside-period",
            format!(
                "collected from {} to {}, outside the period {} ({} to {})",
                window.start, window.end, period.label, period.start, period.end
            ),
        );
    }
    Intake::Run(Box::new(Accepted {
        entry: RunEntry {
            bundle: label,
            sha256,
            locker_key: fetched.locker_key.clone(),
            started_at: window.start.clone(),
            finished_at: window.end.clone(),
            signers,
            controls: [0; 5],
        },
        results,
        org,
        bag,
        copies: [
            VerifiedFile::new("results.json", &results_entry, &results_bytes),
            VerifiedFile::new("org.json", &org_entry, &org_bytes),
        ],
    }))
}

/// True when `time` (RFC 3339) lies in the period: a run belongs to the
/// period its collection starts in.
fn within(time: &str, period: &PeriodSpan) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(time), parse(&period.start), parse(&period.end)) {
        (Some(t), Some(start), Some(end)) => t >= start && t <= end,
        _ => false,
    }
}

/// The first three problems, joined: enough to say why without a wall of text.
fn first_problems(problems: &[String]) -> String {
    let mut text = problems
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > 3 {
        text.push_str(&format!("; and {} more", problems.len() - 3));
    }
    text
}
