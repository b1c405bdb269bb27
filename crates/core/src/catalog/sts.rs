//! The operations of the `sts` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::sts`.

use super::CallScope::Global;
use super::{op, OperationSpec};

/// `sts:GetCallerIdentity` (needs no permission).
pub const GET_CALLER_IDENTITY: OperationSpec =
    op("sts", "GetCallerIdentity", &[], Global, None, None);
/// `sts:AssumeRole`: needs `sts:AssumeRole` in the auditing account's own policy,
/// not in the audit role; it changes nothing in the target account.
pub const ASSUME_ROLE: OperationSpec = op("sts", "AssumeRole", &[], Global, None, None);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[GET_CALLER_IDENTITY, ASSUME_ROLE];
