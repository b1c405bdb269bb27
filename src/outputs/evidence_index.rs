//! The index of every evidence file: what the report's evidence table and the
//! bundle's payload are built from.

use std::path::Path;

use serde::Serialize;
use walkdir::WalkDir;

use crate::evidence::{sha256_hex, Envelope, Status};

/// One evidence file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceIndexEntry {
    /// Path relative to the evidence root, `/`-separated.
    pub path: String,
    /// Account id (from the envelope, or the path when unreadable).
    pub account_id: String,
    /// Region, `None` for global.
    pub region: Option<String>,
    /// Service prefix.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// Qualifier, if any.
    pub qualifier: Option<String>,
    /// `ok`, `not_found`, `error`, or `invalid` for a file that is not an envelope.
    pub status: String,
    /// Error code when not ok.
    pub error_code: Option<String>,
    /// When it was collected.
    pub collected_at: Option<String>,
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// Every envelope under `root` (not `run.json`/`org.json`), sorted by path.
pub fn index_evidence(root: &Path) -> std::io::Result<Vec<EvidenceIndexEntry>> {
    let mut entries = Vec::new();
    for entry in WalkDir::new(root).min_depth(2).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under root");
        let path = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        entries.push(describe(path, &bytes));
    }
    Ok(entries)
}

fn describe(path: String, bytes: &[u8]) -> EvidenceIndexEntry {
    let size = bytes.len() as u64;
    let sha256 = sha256_hex(bytes);
    match serde_json::from_slice::<Envelope>(bytes) {
        Ok(env) => EvidenceIndexEntry {
            path,
            account_id: env.account_id,
            region: env.region,
            service: env.call.service,
            operation: env.call.operation,
            qualifier: env.call.qualifier,
            status: match env.status {
                Status::Ok => "ok",
                Status::NotFound => "not_found",
                Status::Error => "error",
            }
            .into(),
            error_code: env.error.map(|e| e.code),
            collected_at: Some(env.collected_at),
            size,
            sha256,
        },
        Err(_) => {
            let parts: Vec<&str> = path.split('/').collect();
            EvidenceIndexEntry {
                account_id: parts.first().unwrap_or(&"").to_string(),
                region: parts
                    .get(1)
                    .filter(|r| **r != "global")
                    .map(|r| r.to_string()),
                service: parts.get(2).unwrap_or(&"").to_string(),
                operation: parts.get(3).unwrap_or(&"").to_string(),
                qualifier: None,
                status: "invalid".into(),
                error_code: None,
                collected_at: None,
                size,
                sha256,
                path,
            }
        }
    }
}
