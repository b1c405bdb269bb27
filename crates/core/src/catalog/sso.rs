//! The operations of the `sso` evidence source (IAM Identity Center; the API is
//! `sso-admin`, its IAM prefix `sso`). The AWS side of the source is
//! `auditpack_aws::collection::sources::sso`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `sso:ListInstances` (sso-admin `ListInstances`): the Identity Center
/// instances visible to the account in the region.
pub const LIST_INSTANCES: OperationSpec = op(
    "sso",
    "ListInstances",
    &["sso:ListInstances"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[LIST_INSTANCES];
