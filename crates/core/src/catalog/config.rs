//! The operations of the `config` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::config`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `config:DescribeConfigurationRecorders`.
pub const DESCRIBE_RECORDERS: OperationSpec = op(
    "config",
    "DescribeConfigurationRecorders",
    &["config:DescribeConfigurationRecorders"],
    Regional,
    None,
    None,
)
.not_found(&["NoSuchConfigurationRecorderException"]);
/// `config:DescribeConfigurationRecorderStatus`.
pub const DESCRIBE_RECORDER_STATUS: OperationSpec = op(
    "config",
    "DescribeConfigurationRecorderStatus",
    &["config:DescribeConfigurationRecorderStatus"],
    Regional,
    None,
    None,
)
.not_found(&["NoSuchConfigurationRecorderException"]);
/// `config:DescribeDeliveryChannels`.
pub const DESCRIBE_DELIVERY_CHANNELS: OperationSpec = op(
    "config",
    "DescribeDeliveryChannels",
    &["config:DescribeDeliveryChannels"],
    Regional,
    None,
    None,
)
.not_found(&["NoSuchDeliveryChannelException"]);
/// `config:DescribeConfigurationAggregators`.
pub const DESCRIBE_AGGREGATORS: OperationSpec = op(
    "config",
    "DescribeConfigurationAggregators",
    &["config:DescribeConfigurationAggregators"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_RECORDERS,
    DESCRIBE_RECORDER_STATUS,
    DESCRIBE_DELIVERY_CHANNELS,
    DESCRIBE_AGGREGATORS,
];
