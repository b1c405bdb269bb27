//! The operations of the `ec2` evidence source: the VPCs and their flow logs,
//! EBS encryption by default and the Transit Gateways of each account × region.
//! The AWS side of the source is `auditpack_aws::collection::sources::ec2`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `ec2:DescribeVpcs` (every VPC of the region, shared ones included).
pub const DESCRIBE_VPCS: OperationSpec = op(
    "ec2",
    "DescribeVpcs",
    &["ec2:DescribeVpcs"],
    Regional,
    None,
    None,
);
/// `ec2:DescribeFlowLogs` (every flow log of the region, whatever it logs).
pub const DESCRIBE_FLOW_LOGS: OperationSpec = op(
    "ec2",
    "DescribeFlowLogs",
    &["ec2:DescribeFlowLogs"],
    Regional,
    None,
    None,
);
/// `ec2:GetEbsEncryptionByDefault`.
pub const GET_EBS_ENCRYPTION_BY_DEFAULT: OperationSpec = op(
    "ec2",
    "GetEbsEncryptionByDefault",
    &["ec2:GetEbsEncryptionByDefault"],
    Regional,
    None,
    None,
);
/// `ec2:DescribeTransitGateways` (owned by the account or shared with it).
pub const DESCRIBE_TRANSIT_GATEWAYS: OperationSpec = op(
    "ec2",
    "DescribeTransitGateways",
    &["ec2:DescribeTransitGateways"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_VPCS,
    DESCRIBE_FLOW_LOGS,
    GET_EBS_ENCRYPTION_BY_DEFAULT,
    DESCRIBE_TRANSIT_GATEWAYS,
];
