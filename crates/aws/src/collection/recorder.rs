//! Writes one envelope per call into the run's staging folder and keeps the
//! run's counters. Every call goes through here, so no answer (and no failure)
//! can be dropped on the way to disk. Never sees credentials: envelopes get the
//! caller's ARN, and request parameters are given by sources, never headers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use super::answer::{Answer, CallError};
use super::classify::describe_class;
use super::OperationSpec;
use auditpack_core::evidence::drop_absent_members;
use auditpack_core::evidence::{
    AnswerStatus, Call, Collector, Envelope, EnvelopeError, EvidenceKey, Pagination, RegionDir,
    SCHEMA_VERSION,
};

/// Counters for the end-of-run summary.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Calls recorded.
    pub calls: u64,
    /// Calls whose answer was `not_found`.
    pub not_found: u64,
    /// Failed calls by error code.
    pub errors_by_code: BTreeMap<String, u64>,
    /// Failed calls by account, then by why (the class in words, and the
    /// code), so the summary can say which account lost which evidence and why.
    pub failed_by_account: BTreeMap<String, BTreeMap<(String, String), FailedCalls>>,
    /// Bytes of evidence written.
    pub bytes: u64,
}

/// An account's calls that failed for one reason.
#[derive(Debug, Clone, Default)]
pub struct FailedCalls {
    /// How many.
    pub calls: u64,
    /// Their operations, `service:Operation`.
    pub operations: BTreeSet<String>,
}

/// Who made a call, where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSite<'a> {
    /// Account id.
    pub account_id: &'a str,
    /// Region, `None` for global.
    pub region: Option<&'a str>,
    /// The identity making the call.
    pub caller_arn: &'a str,
}

/// Writes envelopes below a root folder.
#[derive(Debug)]
pub(crate) struct Recorder {
    root: PathBuf,
    stats: Mutex<Stats>,
}

/// Why an envelope could not be written (the run stops: evidence would be lost).
#[derive(Debug, thiserror::Error)]
#[error("cannot write evidence {path}: {source}")]
pub struct RecordError {
    /// The file.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: std::io::Error,
}

impl Recorder {
    /// A recorder writing below `root`.
    pub(crate) fn new(root: &Path) -> Recorder {
        Recorder {
            root: root.to_path_buf(),
            stats: Mutex::new(Stats::default()),
        }
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> Stats {
        self.stats.lock().expect("stats poisoned").clone()
    }

    /// Writes the envelope for one call and returns the data when the call succeeded.
    pub(crate) fn record(
        &self,
        site: CallSite<'_>,
        spec: &OperationSpec,
        qualifier: Option<&str>,
        parameters: Value,
        outcome: Result<Answer, CallError>,
    ) -> Result<Option<Value>, RecordError> {
        let envelope = build_envelope(site, spec, qualifier, parameters, outcome);
        let key = EvidenceKey {
            account_id: site.account_id.to_string(),
            region: RegionDir::from_region(site.region),
            service: spec.service.to_string(),
            operation: spec.operation.to_string(),
            qualifier: qualifier.map(String::from),
        };
        let path = self.root.join(key.relative_path());
        let mut bytes = serde_json::to_vec_pretty(&envelope).expect("envelopes serialise");
        bytes.push(b'\n');
        let io = |source| RecordError {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(path.parent().expect("evidence paths have a parent"))
            .map_err(io)?;
        std::fs::write(&path, &bytes).map_err(io)?;
        self.count(&envelope, bytes.len() as u64);
        Ok((envelope.status == AnswerStatus::Ok).then_some(envelope.data))
    }

    fn count(&self, envelope: &Envelope, bytes: u64) {
        let mut stats = self.stats.lock().expect("stats poisoned");
        stats.calls += 1;
        stats.bytes += bytes;
        match (&envelope.status, &envelope.error) {
            (AnswerStatus::NotFound, _) => stats.not_found += 1,
            (AnswerStatus::Error, Some(e)) => {
                *stats.errors_by_code.entry(e.code.clone()).or_default() += 1;
                let why = (describe_class(e.class).to_string(), e.code.clone());
                let failed = stats
                    .failed_by_account
                    .entry(envelope.account_id.clone())
                    .or_default()
                    .entry(why)
                    .or_default();
                failed.calls += 1;
                failed.operations.insert(format!(
                    "{}:{}",
                    envelope.call.service, envelope.call.operation
                ));
            }
            _ => {}
        }
    }
}

fn build_envelope(
    site: CallSite<'_>,
    spec: &OperationSpec,
    qualifier: Option<&str>,
    parameters: Value,
    outcome: Result<Answer, CallError>,
) -> Envelope {
    let parameters = match parameters {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let (status, error, pagination, item_count, request_ids, data) = match outcome {
        Ok(answer) => (
            AnswerStatus::Ok,
            None,
            Pagination {
                pages: answer.pages,
                complete: true,
            },
            answer.item_count,
            answer.request_ids,
            drop_absent_members(answer.data),
        ),
        Err(e) => (
            e.status,
            Some(EnvelopeError {
                code: e.code,
                message: e.message,
                class: e.class,
            }),
            Pagination {
                pages: 0,
                complete: e.status == AnswerStatus::NotFound,
            },
            0,
            e.request_id.into_iter().collect(),
            Value::Object(Default::default()),
        ),
    };
    Envelope {
        schema_version: SCHEMA_VERSION,
        call: Call {
            service: spec.service.into(),
            operation: spec.operation.into(),
            parameters,
            qualifier: qualifier.map(String::from),
        },
        account_id: site.account_id.into(),
        region: site.region.map(String::from),
        collected_at: now_rfc3339(),
        collector: Collector {
            tool: auditpack_core::TOOL_NAME.into(),
            version: auditpack_core::TOOL_VERSION.into(),
        },
        caller_arn: site.caller_arn.into(),
        status,
        error,
        pagination,
        item_count,
        request_ids,
        data,
    }
}

/// The current time as RFC 3339 UTC with second precision.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
