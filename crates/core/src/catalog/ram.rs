//! The operations of the `ram` evidence source: the resource shares an account
//! owns and the principals it shares them with. The AWS side of the source is
//! `auditpack_aws::collection::sources::ram`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `ram:GetResourceShares` (`resourceOwner: SELF`).
pub const GET_RESOURCE_SHARES: OperationSpec = op(
    "ram",
    "GetResourceShares",
    &["ram:GetResourceShares"],
    Regional,
    None,
    None,
);
/// `ram:GetResourceShareAssociations` (`associationType: PRINCIPAL`): every
/// principal the account's shares are associated with, each marked external or
/// not. (The same population as `ram:ListPrincipals`, with the association's
/// status, and answered by the emulator.)
pub const GET_RESOURCE_SHARE_ASSOCIATIONS: OperationSpec = op(
    "ram",
    "GetResourceShareAssociations",
    &["ram:GetResourceShareAssociations"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[GET_RESOURCE_SHARES, GET_RESOURCE_SHARE_ASSOCIATIONS];
