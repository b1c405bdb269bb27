//! The operations of the `organizations` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::organizations`.

use super::CallScope::Global;
use super::{op, OperationSpec};

const FROM_POLICIES: Option<&OperationSpec> = Some(&LIST_POLICIES);
const PER_PARENT: Option<&str> = Some("parent id");
/// `organizations:DescribeOrganization`.
pub const DESCRIBE_ORGANIZATION: OperationSpec = op(
    "organizations",
    "DescribeOrganization",
    &["organizations:DescribeOrganization"],
    Global,
    None,
    None,
);
/// `organizations:ListAccounts`.
pub const LIST_ACCOUNTS: OperationSpec = op(
    "organizations",
    "ListAccounts",
    &["organizations:ListAccounts"],
    Global,
    None,
    None,
);
/// `organizations:ListRoots`.
pub const LIST_ROOTS: OperationSpec = op(
    "organizations",
    "ListRoots",
    &["organizations:ListRoots"],
    Global,
    None,
    None,
);
/// `organizations:ListOrganizationalUnitsForParent`.
pub const LIST_OUS: OperationSpec = op(
    "organizations",
    "ListOrganizationalUnitsForParent",
    &["organizations:ListOrganizationalUnitsForParent"],
    Global,
    PER_PARENT,
    Some(&LIST_ROOTS),
);
/// `organizations:ListAccountsForParent`.
pub const LIST_ACCOUNTS_FOR_PARENT: OperationSpec = op(
    "organizations",
    "ListAccountsForParent",
    &["organizations:ListAccountsForParent"],
    Global,
    PER_PARENT,
    Some(&LIST_ROOTS),
);
/// `organizations:ListTagsForResource` (per account, only when role rules select by tag).
pub const LIST_TAGS: OperationSpec = op(
    "organizations",
    "ListTagsForResource",
    &["organizations:ListTagsForResource"],
    Global,
    Some("account id"),
    Some(&LIST_ACCOUNTS),
);
/// `organizations:ListPolicies` (qualifier: the policy type).
pub const LIST_POLICIES: OperationSpec = op(
    "organizations",
    "ListPolicies",
    &["organizations:ListPolicies"],
    Global,
    Some("policy type"),
    None,
);
/// `organizations:DescribePolicy`.
pub const DESCRIBE_POLICY: OperationSpec = op(
    "organizations",
    "DescribePolicy",
    &["organizations:DescribePolicy"],
    Global,
    Some("policy id"),
    FROM_POLICIES,
);
/// `organizations:ListTargetsForPolicy`.
pub const LIST_TARGETS: OperationSpec = op(
    "organizations",
    "ListTargetsForPolicy",
    &["organizations:ListTargetsForPolicy"],
    Global,
    Some("policy id"),
    FROM_POLICIES,
);
/// `organizations:ListDelegatedAdministrators`.
pub const LIST_DELEGATED_ADMINS: OperationSpec = op(
    "organizations",
    "ListDelegatedAdministrators",
    &["organizations:ListDelegatedAdministrators"],
    Global,
    None,
    None,
);
/// `organizations:ListDelegatedServicesForAccount` (per delegated administrator).
pub const LIST_DELEGATED_SERVICES: OperationSpec = op(
    "organizations",
    "ListDelegatedServicesForAccount",
    &["organizations:ListDelegatedServicesForAccount"],
    Global,
    Some("account id"),
    Some(&LIST_DELEGATED_ADMINS),
);
/// `organizations:ListAWSServiceAccessForOrganization`.
pub const LIST_SERVICE_ACCESS: OperationSpec = op(
    "organizations",
    "ListAWSServiceAccessForOrganization",
    &["organizations:ListAWSServiceAccessForOrganization"],
    Global,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    DESCRIBE_ORGANIZATION,
    LIST_ACCOUNTS,
    LIST_ROOTS,
    LIST_OUS,
    LIST_ACCOUNTS_FOR_PARENT,
    LIST_TAGS,
    LIST_POLICIES,
    DESCRIBE_POLICY,
    LIST_TARGETS,
    LIST_DELEGATED_ADMINS,
    LIST_DELEGATED_SERVICES,
    LIST_SERVICE_ACCESS,
];
