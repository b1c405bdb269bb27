//! STS: who the collector is in each account. A failed `AssumeRole` is recorded
//! here as an error envelope, so an unreachable account is visible evidence.

use super::op;
use crate::collection::{CallScope::Global, OperationSpec};

/// Operations of this source. `AssumeRole` needs `sts:AssumeRole` in the auditing
/// account's own policy, not in the audit role; it changes nothing in the target.
pub const OPERATIONS: &[OperationSpec] = &[
    op("sts", "GetCallerIdentity", &[], Global, None, None),
    op("sts", "AssumeRole", &[], Global, None, None),
];
