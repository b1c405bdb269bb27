//! One module per evidence source, each declaring its operations.

pub mod cloudtrail;
pub mod config;
pub mod guardduty;
pub mod iam;
pub mod organizations;
pub mod s3;
pub mod sts;

use super::OperationSpec;

/// Every source's operations; adding a source means adding its module here.
pub const ALL: &[&[OperationSpec]] = &[
    organizations::OPERATIONS,
    sts::OPERATIONS,
    cloudtrail::OPERATIONS,
    s3::OPERATIONS,
    guardduty::OPERATIONS,
    config::OPERATIONS,
    iam::OPERATIONS,
];

/// Shorthand for a declaration; keeps the tables in each source readable.
pub(crate) const fn op(
    service: &'static str,
    operation: &'static str,
    iam_actions: &'static [&'static str],
    scope: super::CallScope,
    qualified_by: Option<&'static str>,
    depends_on: Option<&'static str>,
) -> OperationSpec {
    OperationSpec { service, operation, iam_actions, scope, qualified_by, depends_on }
}
