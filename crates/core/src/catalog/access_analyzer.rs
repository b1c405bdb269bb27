//! The operations of the `access-analyzer` evidence source: the IAM Access
//! Analyzer analyzers of an account × region. The AWS side of the source is
//! `auditpack_aws::collection::sources::access_analyzer`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `access-analyzer:ListAnalyzers` (every type: ACCOUNT, ORGANIZATION, and the
/// unused-access kinds).
pub const LIST_ANALYZERS: OperationSpec = op(
    "access-analyzer",
    "ListAnalyzers",
    &["access-analyzer:ListAnalyzers"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[LIST_ANALYZERS];
