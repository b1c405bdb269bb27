//! The operations of the `cloudtrail` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::cloudtrail`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

const PER_TRAIL: Option<&str> = Some("trail ARN");
const FROM_TRAILS: Option<&OperationSpec> = Some(&DESCRIBE_TRAILS);
/// `cloudtrail:DescribeTrails` (with shadow trails).
pub const DESCRIBE_TRAILS: OperationSpec = op(
    "cloudtrail",
    "DescribeTrails",
    &["cloudtrail:DescribeTrails"],
    Regional,
    None,
    None,
);
/// `cloudtrail:GetTrailStatus` (per trail homed here and owned by the account).
pub const GET_TRAIL_STATUS: OperationSpec = op(
    "cloudtrail",
    "GetTrailStatus",
    &["cloudtrail:GetTrailStatus"],
    Regional,
    PER_TRAIL,
    FROM_TRAILS,
)
.not_found(&["TrailNotFoundException"]);
/// `cloudtrail:GetEventSelectors` (per trail homed here and owned by the account).
pub const GET_EVENT_SELECTORS: OperationSpec = op(
    "cloudtrail",
    "GetEventSelectors",
    &["cloudtrail:GetEventSelectors"],
    Regional,
    PER_TRAIL,
    FROM_TRAILS,
)
.not_found(&["TrailNotFoundException"]);
/// `cloudtrail:LookupEvents`, once per lookup a control declares
/// (`Username=root`): the management events of the event history (90 days)
/// in the part of the audit period it still holds, at most 2 requests a
/// second per account and region as AWS allows.
pub const LOOKUP_EVENTS: OperationSpec = op(
    "cloudtrail",
    "LookupEvents",
    &["cloudtrail:LookupEvents"],
    Regional,
    Some("lookup (AttributeKey=value)"),
    None,
);
/// The qualifier under which `LookupEvents` keeps the change events controls
/// declare (`changes`), looked up as `ReadOnly=false` and filtered to them.
pub const CHANGES_QUALIFIER: &str = "changes";
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_TRAILS,
    GET_TRAIL_STATUS,
    GET_EVENT_SELECTORS,
    LOOKUP_EVENTS,
];
