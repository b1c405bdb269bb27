//! The operations of the `account` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::account`.

use super::CallScope::Global;
use super::{op, OperationSpec};

/// `account:ListRegions` (enabled and enabled-by-default regions).
pub const LIST_REGIONS: OperationSpec = op(
    "account",
    "ListRegions",
    &["account:ListRegions"],
    Global,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[LIST_REGIONS];
