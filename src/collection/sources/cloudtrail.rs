//! CloudTrail: trails (including shadow copies of organization trails), their status and event selectors.

use super::op;
use crate::collection::{CallScope::Regional, OperationSpec};

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op("cloudtrail", "DescribeTrails", &["cloudtrail:DescribeTrails"], Regional, None, None),
    op(
        "cloudtrail",
        "GetTrailStatus",
        &["cloudtrail:GetTrailStatus"],
        Regional,
        Some("trail ARN"),
        Some("cloudtrail:DescribeTrails"),
    ),
    op(
        "cloudtrail",
        "GetEventSelectors",
        &["cloudtrail:GetEventSelectors"],
        Regional,
        Some("trail ARN"),
        Some("cloudtrail:DescribeTrails"),
    ),
];
