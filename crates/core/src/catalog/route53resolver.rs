//! The operations of the `route53resolver` evidence source: the Resolver
//! query-logging configurations visible to an account (its own and those shared
//! with it) and the VPCs associated with them. The AWS side of the source is
//! `auditpack_aws::collection::sources::route53resolver`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `route53resolver:ListResolverQueryLogConfigs`.
pub const LIST_QUERY_LOG_CONFIGS: OperationSpec = op(
    "route53resolver",
    "ListResolverQueryLogConfigs",
    &["route53resolver:ListResolverQueryLogConfigs"],
    Regional,
    None,
    None,
);
/// `route53resolver:ListResolverQueryLogConfigAssociations`.
pub const LIST_QUERY_LOG_CONFIG_ASSOCIATIONS: OperationSpec = op(
    "route53resolver",
    "ListResolverQueryLogConfigAssociations",
    &["route53resolver:ListResolverQueryLogConfigAssociations"],
    Regional,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] =
    &[LIST_QUERY_LOG_CONFIGS, LIST_QUERY_LOG_CONFIG_ASSOCIATIONS];
