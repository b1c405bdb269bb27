//! AWS Organizations, read from the management account (or a delegated read-only account).

use super::op;
use crate::collection::{CallScope::Global, OperationSpec};

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op("organizations", "DescribeOrganization", &["organizations:DescribeOrganization"], Global, None, None),
    op("organizations", "ListAccounts", &["organizations:ListAccounts"], Global, None, None),
    op("organizations", "ListRoots", &["organizations:ListRoots"], Global, None, None),
    op(
        "organizations",
        "ListOrganizationalUnitsForParent",
        &["organizations:ListOrganizationalUnitsForParent"],
        Global,
        Some("parent id"),
        Some("organizations:ListRoots"),
    ),
    op(
        "organizations",
        "ListPolicies",
        &["organizations:ListPolicies"],
        Global,
        Some("policy type"),
        None,
    ),
    op(
        "organizations",
        "DescribePolicy",
        &["organizations:DescribePolicy"],
        Global,
        Some("policy id"),
        Some("organizations:ListPolicies"),
    ),
    op(
        "organizations",
        "ListTargetsForPolicy",
        &["organizations:ListTargetsForPolicy"],
        Global,
        Some("policy id"),
        Some("organizations:ListPolicies"),
    ),
    op(
        "organizations",
        "ListDelegatedAdministrators",
        &["organizations:ListDelegatedAdministrators"],
        Global,
        None,
        None,
    ),
    op(
        "organizations",
        "ListAWSServiceAccessForOrganization",
        &["organizations:ListAWSServiceAccessForOrganization"],
        Global,
        None,
        None,
    ),
];
