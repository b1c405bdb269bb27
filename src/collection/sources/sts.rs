//! STS: who the collector is in each account. Every AssumeRole attempt is
//! recorded (`sts:AssumeRole`), so an unreachable account is visible evidence.

use super::op;
use crate::collection::{CallScope::Global, OperationSpec};

/// `sts:GetCallerIdentity` (needs no permission).
pub const GET_CALLER_IDENTITY: OperationSpec =
    op("sts", "GetCallerIdentity", &[], Global, None, None);
/// `sts:AssumeRole`: needs `sts:AssumeRole` in the auditing account's own policy,
/// not in the audit role; it changes nothing in the target account.
pub const ASSUME_ROLE: OperationSpec = op("sts", "AssumeRole", &[], Global, None, None);

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[GET_CALLER_IDENTITY, ASSUME_ROLE];
