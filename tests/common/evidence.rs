//! Evidence envelopes as the collector writes them, for tests that build their
//! own evidence folders (`engine`, `control_cases`).

use std::path::Path;

use auditpack_core::evidence::{
    AnswerStatus, Call, Collector, Envelope, EnvelopeError, ErrorClass, EvidenceKey, Pagination,
    SCHEMA_VERSION,
};
use serde_json::{Map, Value};

/// `collected_at` of every envelope the tests write: inside the collection
/// window of the runs they write (`tests/fixtures/case-org/run.json`, `engine`'s).
pub const COLLECTED_AT: &str = "2026-11-20T09:13:00Z";

/// What the call answered.
pub enum Answer {
    /// `ok` with `data`; `complete` is false when pagination stopped early.
    Data { data: Value, complete: bool },
    /// `not_found`: AWS's code saying the configuration does not exist.
    NotFound(String),
    /// `error`: AWS's code and the class the collector gives it.
    Error(String, ErrorClass),
}

impl Answer {
    /// A complete `ok` answer.
    pub fn data(data: Value) -> Answer {
        Answer::Data {
            data,
            complete: true,
        }
    }
}

/// The envelope the collector would write at `key` for `answer`.
pub fn envelope(key: &EvidenceKey, answer: Answer) -> Envelope {
    let failure = |code: String, class| EnvelopeError {
        message: format!("{code} (test case)"),
        code,
        class,
    };
    let empty = Value::Object(Map::new());
    let (status, error, complete, data) = match answer {
        Answer::Data { data, complete } => (AnswerStatus::Ok, None, complete, data),
        Answer::NotFound(code) => (
            AnswerStatus::NotFound,
            Some(failure(code, ErrorClass::NotFound)),
            true,
            empty,
        ),
        Answer::Error(code, class) => {
            (AnswerStatus::Error, Some(failure(code, class)), true, empty)
        }
    };
    // The length of the answer's main list, 1 for a single object, 0 for none.
    let item_count = match (&status, &data) {
        (AnswerStatus::Ok, Value::Object(map)) => map
            .values()
            .find_map(|v| v.as_array().map(|a| a.len() as u64))
            .unwrap_or(1),
        (AnswerStatus::Ok, _) => 1,
        _ => 0,
    };
    Envelope {
        schema_version: SCHEMA_VERSION,
        call: Call {
            service: key.service.clone(),
            operation: key.operation.clone(),
            parameters: Map::new(),
            qualifier: key.qualifier.clone(),
        },
        account_id: key.account_id.clone(),
        region: key.region.region().map(str::to_string),
        collected_at: COLLECTED_AT.into(),
        collector: Collector {
            tool: "auditpack".into(),
            version: "0.1.0".into(),
        },
        caller_arn: format!(
            "arn:aws:sts::{}:assumed-role/AuditpackReadOnly/auditpack-2026-Q4",
            key.account_id
        ),
        status,
        error,
        pagination: Pagination { pages: 1, complete },
        item_count,
        request_ids: Vec::new(),
        data,
    }
}

/// Writes `envelope` into the evidence folder `root` at `key`'s path.
pub fn write_envelope(root: &Path, key: &EvidenceKey, envelope: &Envelope) {
    let path = root.join(key.relative_path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec_pretty(envelope).unwrap()).unwrap();
}
