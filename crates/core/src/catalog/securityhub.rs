//! The operations of the `securityhub` evidence source: whether Security Hub is
//! on in an account × region, which account administers it, and whether the
//! organization enables it for new accounts. The AWS side of the source is
//! `auditpack_aws::collection::sources::securityhub`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `securityhub:DescribeHub`; Security Hub answers `InvalidAccessException`
/// ("not subscribed") in an account × region where it is not enabled.
pub const DESCRIBE_HUB: OperationSpec = op(
    "securityhub",
    "DescribeHub",
    &["securityhub:DescribeHub"],
    Regional,
    None,
    None,
)
.not_found(&["InvalidAccessException"]);
/// `securityhub:GetAdministratorAccount` (the member's administrator, absent when none).
pub const GET_ADMINISTRATOR_ACCOUNT: OperationSpec = op(
    "securityhub",
    "GetAdministratorAccount",
    &["securityhub:GetAdministratorAccount"],
    Regional,
    None,
    None,
);
/// `securityhub:DescribeOrganizationConfiguration` (answers in the administrator account).
pub const DESCRIBE_ORGANIZATION_CONFIGURATION: OperationSpec = op(
    "securityhub",
    "DescribeOrganizationConfiguration",
    &["securityhub:DescribeOrganizationConfiguration"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_HUB,
    GET_ADMINISTRATOR_ACCOUNT,
    DESCRIBE_ORGANIZATION_CONFIGURATION,
];
