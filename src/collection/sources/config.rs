//! AWS Config: recorders, their status, delivery channels, aggregators and rule compliance.

use super::op;
use crate::collection::{CallScope::Regional, OperationSpec};

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op("config", "DescribeConfigurationRecorders", &["config:DescribeConfigurationRecorders"], Regional, None, None),
    op(
        "config",
        "DescribeConfigurationRecorderStatus",
        &["config:DescribeConfigurationRecorderStatus"],
        Regional,
        None,
        None,
    ),
    op("config", "DescribeDeliveryChannels", &["config:DescribeDeliveryChannels"], Regional, None, None),
    op(
        "config",
        "DescribeConfigurationAggregators",
        &["config:DescribeConfigurationAggregators"],
        Regional,
        None,
        None,
    ),
    op("config", "DescribeComplianceByConfigRule", &["config:DescribeComplianceByConfigRule"], Regional, None, None),
];
