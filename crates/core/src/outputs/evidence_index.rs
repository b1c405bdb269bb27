//! The index of every evidence file: what the report's evidence table and the
//! bundle's payload are built from.

use serde::Serialize;

use crate::evidence::{AnswerStatus, EvidenceDoc, EvidenceStore, StoreError};

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
    /// How the call was made, as its envelope records it (none for a file
    /// that is not an envelope): what the IPE sheet reconciles. Left out of
    /// the report's data, which shows it per control, not per file.
    #[serde(skip)]
    pub facts: Option<CallFacts>,
}

/// What an envelope says about its call, beyond the answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallFacts {
    /// Request parameters (pagination tokens left out), as JSON text: what
    /// the IPE sheet lists. Kept as text, not a map, because the index holds
    /// one per evidence file for the whole report (837,090 at 10,000
    /// accounts × 4 regions).
    pub parameters: String,
    /// The identity that made the call: one per account, shared by the
    /// account's files rather than copied into each.
    pub caller_arn: std::sync::Arc<str>,
    /// Pages read.
    pub pages: u32,
    /// Whether every page was read.
    pub complete: bool,
    /// Items in the answer's main list.
    pub item_count: u64,
    /// How many AWS request ids were recorded.
    pub request_ids: usize,
}

/// The index of documents read from the store (see [`index_store`]), in
/// their order. A file that is not a
/// valid envelope for its path is listed as `invalid`, with what its path says.
pub fn index_documents(docs: &[EvidenceDoc]) -> Vec<EvidenceIndexEntry> {
    let mut caller: Option<std::sync::Arc<str>> = None;
    docs.iter().map(|doc| describe(doc, &mut caller)).collect()
}

/// `arn`, as the `last` one when they are equal (an account's files, read
/// together, share it), else made anew and remembered.
fn shared(arn: &str, last: &mut Option<std::sync::Arc<str>>) -> std::sync::Arc<str> {
    match last {
        Some(known) if &**known == arn => known.clone(),
        _ => last.insert(arn.into()).clone(),
    }
}

/// How many documents the index reads at a time: enough for every core,
/// few enough that the store is never held whole.
const INDEX_BATCH: usize = 4096;

/// The index of every evidence file of `store`, read a batch at a time.
pub fn index_store(store: &EvidenceStore) -> Result<Vec<EvidenceIndexEntry>, StoreError> {
    let paths = store.evidence_paths()?;
    let mut index = Vec::with_capacity(paths.len());
    for batch in paths.chunks(INDEX_BATCH) {
        index.extend(index_documents(&store.read_documents(batch)?));
    }
    Ok(index)
}

fn describe(doc: &EvidenceDoc, caller: &mut Option<std::sync::Arc<str>>) -> EvidenceIndexEntry {
    let path = doc.path.clone();
    let (size, sha256) = (doc.size, doc.sha256.clone());
    match &doc.envelope {
        Ok(env) => EvidenceIndexEntry {
            path,
            account_id: env.account_id.clone(),
            region: env.region.clone(),
            service: env.call.service.clone(),
            operation: env.call.operation.clone(),
            qualifier: env.call.qualifier.clone(),
            status: match env.status {
                AnswerStatus::Ok => "ok",
                AnswerStatus::NotFound => "not_found",
                AnswerStatus::Error => "error",
            }
            .into(),
            error_code: env.error.as_ref().map(|e| e.code.clone()),
            collected_at: Some(env.collected_at.clone()),
            size,
            sha256,
            facts: Some(CallFacts {
                parameters: serde_json::to_string(&env.call.parameters)
                    .expect("a JSON map serialises"),
                caller_arn: shared(&env.caller_arn, caller),
                pages: env.pagination.pages,
                complete: env.pagination.complete,
                item_count: env.item_count,
                request_ids: env.request_ids.len(),
            }),
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
                facts: None,
            }
        }
    }
}
