//! Evidence no API gives: `attachments/` beside the evidence. Each file (a
//! policy approval, a training completion export, an access review) has a
//! small metadata file, `<file>.meta.toml`, naming the controls or criteria
//! it supports, its owner, its date, the period it covers, what it is and who
//! reviewed it. Attachments are bagged and hashed like every other evidence
//! file; manual controls (`kind = "manual"`) judge them.
//!
//! This module only reads: it never decides whether an attachment is current
//! (the manual control does) and never skips a problem silently (`report`
//! refuses a folder with an unreadable metadata file, naming it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::sha256_hex;

/// The folder, under the evidence root.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// The metadata file of `<file>` is `<file>` followed by this.
pub const META_SUFFIX: &str = ".meta.toml";

/// An attachment and what its metadata says, as results.json records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// `attachments/<name>`, relative to the evidence root.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// `attachments/<name>.meta.toml`.
    pub metadata_file: String,
    /// SHA-256 of the metadata file.
    pub metadata_sha256: String,
    /// Control ids it supports.
    pub controls: Vec<String>,
    /// Trust Services Criteria it supports.
    pub criteria: Vec<String>,
    /// Who owns the document or the activity (empty when not named).
    pub owner: String,
    /// The date of the activity or approval it records, `YYYY-MM-DD`.
    pub date: String,
    /// The period it covers (`YYYY-MM-DD`), when it covers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<AttachmentPeriod>,
    /// What it is.
    pub description: String,
    /// Who reviewed it (empty when not named).
    pub reviewed_by: String,
    /// When it was reviewed, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_on: Option<String>,
}

/// The first and last day an attachment covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentPeriod {
    /// First day, `YYYY-MM-DD`.
    pub start: String,
    /// Last day, `YYYY-MM-DD`.
    pub end: String,
}

impl Attachment {
    /// Whether it names both its owner and its reviewer.
    pub fn attributed(&self) -> bool {
        !self.owner.trim().is_empty() && !self.reviewed_by.trim().is_empty()
    }
}

/// The metadata file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaFile {
    #[serde(default)]
    controls: Vec<String>,
    #[serde(default)]
    criteria: Vec<String>,
    #[serde(default)]
    owner: String,
    date: toml::value::Datetime,
    period: Option<PeriodFile>,
    description: String,
    #[serde(default)]
    reviewed_by: String,
    reviewed_on: Option<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodFile {
    start: toml::value::Datetime,
    end: toml::value::Datetime,
}

/// A problem with an attachment or its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 for the file as a whole.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Every attachment under `root/attachments/`, sorted by name, and every
/// problem found (each named by file and line). No folder: none, no problem.
pub fn read_attachments(root: &Path) -> (Vec<Attachment>, Vec<AttachmentError>) {
    let dir = root.join(ATTACHMENTS_DIR);
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (found, errors);
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_file() {
            errors.push(whole(&path, "attachments/ holds files only (no folders)"));
        } else {
            names.push(name);
        }
    }
    names.sort();
    for name in &names {
        if let Some(of) = name.strip_suffix(META_SUFFIX) {
            if !names.iter().any(|n| n == of) {
                errors.push(whole(
                    &dir.join(name),
                    &format!("metadata of '{of}', which is not in attachments/"),
                ));
            }
            continue;
        }
        let meta = format!("{name}{META_SUFFIX}");
        if !names.contains(&meta) {
            errors.push(whole(&dir.join(name), &format!("has no metadata file ({meta}): name the controls or criteria it supports, its owner, date and reviewer")));
            continue;
        }
        match read_one(&dir, name, &meta) {
            Ok(a) => found.push(a),
            Err(e) => errors.push(e),
        }
    }
    (found, errors)
}

fn whole(path: &Path, message: &str) -> AttachmentError {
    AttachmentError {
        file: path.to_path_buf(),
        line: 0,
        message: message.to_string(),
    }
}

fn read_one(dir: &Path, name: &str, meta: &str) -> Result<Attachment, AttachmentError> {
    let file_bytes =
        std::fs::read(dir.join(name)).map_err(|e| whole(&dir.join(name), &e.to_string()))?;
    let meta_path = dir.join(meta);
    let meta_bytes = std::fs::read(&meta_path).map_err(|e| whole(&meta_path, &e.to_string()))?;
    let text = String::from_utf8(meta_bytes.clone()).map_err(|_| whole(&meta_path, "not UTF-8"))?;
    let parsed: MetaFile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].lines().count().max(1)
        });
        AttachmentError {
            file: meta_path.clone(),
            line,
            message: e.message().to_string(),
        }
    })?;
    let day = |d: &toml::value::Datetime, field: &str| match (d.date, d.time) {
        (Some(date), None) => Ok(date.to_string()),
        _ => Err(whole(
            &meta_path,
            &format!("{field}: a date without a time (2026-09-30)"),
        )),
    };
    if parsed.controls.is_empty() && parsed.criteria.is_empty() {
        return Err(whole(
            &meta_path,
            "names no control and no criterion it supports (controls = [...], criteria = [...])",
        ));
    }
    if parsed.description.trim().is_empty() {
        return Err(whole(&meta_path, "description: must not be empty"));
    }
    let period = match &parsed.period {
        Some(p) => Some(AttachmentPeriod {
            start: day(&p.start, "period.start")?,
            end: day(&p.end, "period.end")?,
        }),
        None => None,
    };
    Ok(Attachment {
        file: format!("{ATTACHMENTS_DIR}/{name}"),
        sha256: sha256_hex(&file_bytes),
        size: file_bytes.len() as u64,
        metadata_file: format!("{ATTACHMENTS_DIR}/{meta}"),
        metadata_sha256: sha256_hex(&meta_bytes),
        controls: parsed.controls,
        criteria: parsed.criteria,
        owner: parsed.owner.trim().to_string(),
        date: day(&parsed.date, "date")?,
        period,
        description: parsed
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        reviewed_by: parsed.reviewed_by.trim().to_string(),
        reviewed_on: parsed
            .reviewed_on
            .as_ref()
            .map(|d| day(d, "reviewed_on"))
            .transpose()?,
    })
}
