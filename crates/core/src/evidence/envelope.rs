//! The envelope around one AWS API call's answer.
//!
//! Why an envelope: an auditor must be able to tell, for every piece of evidence,
//! what was asked, of which account and region, when, by whom, and whether the
//! answer is complete. A failed call is evidence too (of what could *not* be
//! checked), so it is written as an envelope with `status = "error"`, never dropped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What AWS's answer means for the controls that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    /// The call succeeded; `data` holds the answer.
    Ok,
    /// AWS answered definitely that the configuration does not exist
    /// (e.g. `ObjectLockConfigurationNotFoundError`). This is evidence of
    /// absence: controls see an empty `data` object and can FAIL on it.
    NotFound,
    /// The call failed (access denied, throttled past retries, timeout, 5xx,
    /// unparseable answer). Controls that need it become NOT_ASSESSED.
    Error,
}

/// Coarse class of a failed or negative answer, so readers need not know every AWS error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The configuration does not exist (goes with [`AnswerStatus::NotFound`]).
    NotFound,
    /// AccessDenied, UnauthorizedOperation, an account whose role could not be assumed.
    AccessDenied,
    /// Throttled past the SDK's retries.
    Throttled,
    /// No answer within the per-call timeout.
    Timeout,
    /// 5xx from AWS.
    Server,
    /// The region is not enabled for the account.
    RegionDisabled,
    /// An answer that could not be parsed.
    Unparseable,
    /// The endpoint could not be reached: connection refused or reset, name
    /// not resolved (an outage, a proxy, a network rule), as opposed to an
    /// answer refusing access.
    Unreachable,
    /// Anything else.
    Other,
}

/// The API call that produced this evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Service prefix as in IAM actions, e.g. `cloudtrail`, `s3`, `guardduty`.
    pub service: String,
    /// Operation name as in the AWS API reference, e.g. `DescribeTrails`.
    pub operation: String,
    /// Request parameters, with AWS's parameter names (pagination tokens omitted).
    #[serde(default)]
    pub parameters: serde_json::Map<String, Value>,
    /// What distinguishes this call from others of the same operation
    /// (a bucket name, a trail ARN, a detector id); `null` when there is one call.
    #[serde(default)]
    pub qualifier: Option<String>,
}

/// The tool that collected the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collector {
    /// Always `auditpack` for evidence this tool wrote.
    pub tool: String,
    /// The tool's version.
    pub version: String,
}

/// A failed or negative answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeError {
    /// AWS's error code, e.g. `AccessDenied`, `ThrottlingException`.
    pub code: String,
    /// AWS's error message (never contains credentials; the collector scrubs it).
    pub message: String,
    /// The class the collector assigned to the code.
    pub class: ErrorClass,
}

/// How much of a paginated answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    /// Pages read (merged into `data`).
    pub pages: u32,
    /// True when the last page said there was no more; false means `data` is partial.
    pub complete: bool,
}

/// One API call's evidence, exactly as stored in one JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Format version ([`super::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What was called.
    pub call: Call,
    /// The 12-digit account the call was made in.
    pub account_id: String,
    /// The region the call was sent to; `null` for global services (IAM, Organizations, S3 ListBuckets).
    pub region: Option<String>,
    /// When the answer arrived, RFC 3339 UTC.
    pub collected_at: String,
    /// Which tool collected it.
    pub collector: Collector,
    /// ARN of the identity that made the call (an assumed role in member accounts).
    pub caller_arn: String,
    /// What the answer means for controls.
    pub status: AnswerStatus,
    /// Set when `status` is `error` or `not_found`.
    #[serde(default)]
    pub error: Option<EnvelopeError>,
    /// Pagination record.
    pub pagination: Pagination,
    /// Number of items in the answer's main list (trails, buckets, accounts…); 1 for a single object, 0 for none.
    pub item_count: u64,
    /// AWS request ids of every page, for cross-reference with CloudTrail.
    #[serde(default)]
    pub request_ids: Vec<String>,
    /// The answer, with the field names of the AWS API reference. `{}` when not ok.
    pub data: Value,
}

impl Envelope {
    /// True when the evidence can be used by a control (an answer, or a definite absence).
    pub fn is_usable(&self) -> bool {
        matches!(self.status, AnswerStatus::Ok | AnswerStatus::NotFound) && self.pagination.complete
    }

    /// One line saying why this evidence cannot be used, for NOT_ASSESSED messages.
    pub(crate) fn unusable_reason(&self) -> Option<String> {
        let call = format!("{}:{}", self.call.service, self.call.operation);
        match (&self.status, &self.error) {
            (AnswerStatus::Error, Some(e)) => {
                Some(format!("{} failed with {}: {}", call, e.code, e.message))
            }
            (AnswerStatus::Error, None) => Some(format!("{call} failed")),
            _ if !self.pagination.complete => Some(format!(
                "{call} is incomplete: pagination stopped after {} page(s)",
                self.pagination.pages
            )),
            _ => None,
        }
    }
}
