//! What an evidence source gets for one account × region: the account's SDK
//! config for that region (whose HTTP client carries the run's and the
//! account's concurrency limits, see [`super::limits`]), which operations the
//! controls need there and the recorder. Sources only make calls through
//! [`RegionCtx::call`], which records the envelope.

use std::collections::BTreeSet;
use std::future::Future;

use aws_config::SdkConfig;
use serde_json::Value;

use super::answer::{Answer, CallError};
use super::recorder::{RecordError, Recorder};
use super::session::AccountSession;
use super::OperationSpec;

/// Operations needed in one account × region, as `service:Operation`.
pub(crate) type OpSet = BTreeSet<String>;

/// One account × region, for one source.
pub(crate) struct RegionCtx<'a> {
    /// The account and its credentials.
    pub session: &'a AccountSession,
    /// Region, `None` for global services.
    pub region: Option<&'a str>,
    /// The account's config for this region.
    pub config: SdkConfig,
    /// Path-style S3 addressing.
    pub s3_path_style: bool,
    /// What the controls need here.
    pub needed: &'a OpSet,
    /// Where envelopes go.
    pub recorder: &'a Recorder,
    /// The CloudTrail event-history lookups the controls declare, and over
    /// which window.
    pub lookups: &'a LookupPlan,
}

/// What `cloudtrail:LookupEvents` asks in every account × region where it
/// is planned: each lookup the controls declare (`Username=root`), over the
/// part of the audit period the event history (90 days) still holds at
/// collection time. `window` is `None` when no part of the period is within
/// reach (entirely older than 90 days, or not begun): nothing is asked, and
/// the controls reading it are NOT ASSESSED.
#[derive(Debug, Clone, Default)]
pub struct LookupPlan {
    /// `AttributeKey=value`, sorted, unique.
    pub queries: Vec<String>,
    /// The changes controls declare, and the events that undo them,
    /// `eventSource:eventName`: looked up once (`ReadOnly=false`, every write
    /// event of the window) and kept only when listed here, under the
    /// qualifier `changes`.
    pub changes: Vec<String>,
    /// Start and end of the window queried.
    pub window: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
}

/// How far back CloudTrail's event history goes.
pub const EVENT_HISTORY_DAYS: i64 = 90;

impl LookupPlan {
    /// The plan for `controls` over `period`, as of `now`.
    pub fn new(
        controls: &[auditpack_core::evaluation::Control],
        period: &auditpack_core::evidence::period::PeriodDates,
        now: chrono::DateTime<chrono::Utc>,
    ) -> LookupPlan {
        let queries: std::collections::BTreeSet<String> = controls
            .iter()
            .flat_map(|c| c.lookups.iter().cloned())
            .collect();
        let changes: std::collections::BTreeSet<String> = controls
            .iter()
            .flat_map(|c| {
                let undo = c.changes.iter().filter_map(|e| {
                    let name = c.restored_by.get(&e.name)?;
                    Some(format!("{}:{name}", e.source))
                });
                c.changes
                    .iter()
                    .map(|e| e.to_string())
                    .chain(undo)
                    .collect::<Vec<_>>()
            })
            .collect();
        let parse = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let window = match (parse(&period.start), parse(&period.end)) {
            (Some(start), Some(end)) => {
                let start = start.max(now - chrono::Duration::days(EVENT_HISTORY_DAYS));
                let end = end.min(now);
                (start < end).then_some((start, end))
            }
            _ => None,
        };
        LookupPlan {
            queries: queries.into_iter().collect(),
            changes: changes.into_iter().collect(),
            window,
        }
    }
}

impl RegionCtx<'_> {
    /// True when some control needs `spec` here.
    pub(crate) fn needs(&self, spec: &OperationSpec) -> bool {
        self.needed.contains(&spec.source_name())
    }

    /// Runs one call, once the account admits it (see `super::limits`), and
    /// records its envelope.
    /// Returns the data when the call succeeded (`None` for not-found or error,
    /// which the envelope already records).
    pub(crate) async fn call<F>(
        &self,
        spec: &'static OperationSpec,
        qualifier: Option<&str>,
        parameters: Value,
        request: F,
    ) -> Result<Option<Value>, RecordError>
    where
        F: Future<Output = Result<Answer, CallError>>,
    {
        Ok(self
            .call_detailed(spec, qualifier, parameters, request)
            .await?
            .ok())
    }

    /// [`RegionCtx::call`] when some control needs `spec`; otherwise nothing
    /// (the request future is dropped unpolled, so no request is sent). The
    /// one shape of every conditional call in the sources.
    pub(crate) async fn call_if_needed<F>(
        &self,
        spec: &'static OperationSpec,
        qualifier: Option<&str>,
        parameters: Value,
        request: F,
    ) -> Result<(), RecordError>
    where
        F: Future<Output = Result<Answer, CallError>>,
    {
        if self.needs(spec) {
            self.call(spec, qualifier, parameters, request).await?;
        }
        Ok(())
    }

    /// Like [`RegionCtx::call`], but keeps the error for callers that cannot go
    /// on without the answer (discovery).
    pub(crate) async fn call_detailed<F>(
        &self,
        spec: &'static OperationSpec,
        qualifier: Option<&str>,
        parameters: Value,
        request: F,
    ) -> Result<Result<Value, CallError>, RecordError>
    where
        F: Future<Output = Result<Answer, CallError>>,
    {
        let outcome = {
            let _admitted = self
                .session
                .admission
                .acquire()
                .await
                .expect("semaphore never closes");
            request.await.map_err(|e| e.for_operation(spec))
        };
        let error = outcome.as_ref().err().cloned();
        let data = self.recorder.record(
            self.session.site(self.region),
            spec,
            qualifier,
            parameters,
            outcome,
        )?;
        Ok(match (data, error) {
            (Some(data), _) => Ok(data),
            (None, Some(e)) => Err(e),
            (None, None) => Err(CallError::local(
                "NotFound",
                "no data",
                auditpack_core::evidence::ErrorClass::NotFound,
            )),
        })
    }
}
