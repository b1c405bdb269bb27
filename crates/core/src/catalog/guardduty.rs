//! The operations of the `guardduty` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::guardduty`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

const PER_DETECTOR: Option<&str> = Some("detector id");
const FROM_DETECTORS: Option<&OperationSpec> = Some(&LIST_DETECTORS);
/// `guardduty:ListOrganizationAdminAccounts` (the delegated administrator, read in the management account).
pub const LIST_ORGANIZATION_ADMIN_ACCOUNTS: OperationSpec = op(
    "guardduty",
    "ListOrganizationAdminAccounts",
    &["guardduty:ListOrganizationAdminAccounts"],
    Regional,
    None,
    None,
);
/// `guardduty:ListDetectors`.
pub const LIST_DETECTORS: OperationSpec = op(
    "guardduty",
    "ListDetectors",
    &["guardduty:ListDetectors"],
    Regional,
    None,
    None,
);
/// `guardduty:GetDetector`.
pub const GET_DETECTOR: OperationSpec = op(
    "guardduty",
    "GetDetector",
    &["guardduty:GetDetector"],
    Regional,
    PER_DETECTOR,
    FROM_DETECTORS,
);
/// `guardduty:DescribeOrganizationConfiguration` (answers in the administrator account).
pub const DESCRIBE_ORGANIZATION_CONFIGURATION: OperationSpec = op(
    "guardduty",
    "DescribeOrganizationConfiguration",
    &["guardduty:DescribeOrganizationConfiguration"],
    Regional,
    PER_DETECTOR,
    FROM_DETECTORS,
);
/// `guardduty:GetAdministratorAccount`.
pub const GET_ADMINISTRATOR_ACCOUNT: OperationSpec = op(
    "guardduty",
    "GetAdministratorAccount",
    &["guardduty:GetAdministratorAccount"],
    Regional,
    PER_DETECTOR,
    FROM_DETECTORS,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    LIST_ORGANIZATION_ADMIN_ACCOUNTS,
    LIST_DETECTORS,
    GET_DETECTOR,
    DESCRIBE_ORGANIZATION_CONFIGURATION,
    GET_ADMINISTRATOR_ACCOUNT,
];
