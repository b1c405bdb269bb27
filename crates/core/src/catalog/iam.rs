//! The operations of the `iam` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::iam`.

use super::CallScope::Global;
use super::{op, OperationSpec};

/// `iam:GetAccountSummary`.
pub const GET_ACCOUNT_SUMMARY: OperationSpec = op(
    "iam",
    "GetAccountSummary",
    &["iam:GetAccountSummary"],
    Global,
    None,
    None,
);
/// `iam:GetAccountPasswordPolicy`.
pub const GET_ACCOUNT_PASSWORD_POLICY: OperationSpec = op(
    "iam",
    "GetAccountPasswordPolicy",
    &["iam:GetAccountPasswordPolicy"],
    Global,
    None,
    None,
)
.not_found(&["NoSuchEntity"]);
/// `iam:ListUsers`.
pub const LIST_USERS: OperationSpec =
    op("iam", "ListUsers", &["iam:ListUsers"], Global, None, None);
/// `iam:GetLoginProfile` (per user; `not_found` when the user has no console password).
pub const GET_LOGIN_PROFILE: OperationSpec = op(
    "iam",
    "GetLoginProfile",
    &["iam:GetLoginProfile"],
    Global,
    Some("user name"),
    Some(&LIST_USERS),
)
.not_found(&["NoSuchEntity"]);
/// `iam:GetCredentialReport`, after `iam:GenerateCredentialReport` has made
/// a fresh one: one evidence document with the report's CSV as AWS returned it
/// (`Content`) beside its rows parsed (`Rows`).
pub const GET_CREDENTIAL_REPORT: OperationSpec = op(
    "iam",
    "GetCredentialReport",
    &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
    Global,
    None,
    None,
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    GET_ACCOUNT_SUMMARY,
    GET_ACCOUNT_PASSWORD_POLICY,
    LIST_USERS,
    GET_LOGIN_PROFILE,
    GET_CREDENTIAL_REPORT,
];
