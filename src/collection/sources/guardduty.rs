//! GuardDuty: delegated administrator, detectors, organization configuration and membership.

use super::op;
use crate::collection::{CallScope::Regional, OperationSpec};

const PER_DETECTOR: Option<&str> = Some("detector id");
const FROM_DETECTORS: Option<&str> = Some("guardduty:ListDetectors");

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op(
        "guardduty",
        "ListOrganizationAdminAccounts",
        &["guardduty:ListOrganizationAdminAccounts"],
        Regional,
        None,
        None,
    ),
    op("guardduty", "ListDetectors", &["guardduty:ListDetectors"], Regional, None, None),
    op("guardduty", "GetDetector", &["guardduty:GetDetector"], Regional, PER_DETECTOR, FROM_DETECTORS),
    op(
        "guardduty",
        "DescribeOrganizationConfiguration",
        &["guardduty:DescribeOrganizationConfiguration"],
        Regional,
        PER_DETECTOR,
        FROM_DETECTORS,
    ),
    op("guardduty", "ListMembers", &["guardduty:ListMembers"], Regional, PER_DETECTOR, FROM_DETECTORS),
    op(
        "guardduty",
        "GetAdministratorAccount",
        &["guardduty:GetAdministratorAccount"],
        Regional,
        PER_DETECTOR,
        FROM_DETECTORS,
    ),
];
