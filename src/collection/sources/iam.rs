//! IAM: the account summary (root MFA and root access keys) and the password policy.

use super::op;
use crate::collection::{CallScope::Global, OperationSpec};

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op("iam", "GetAccountSummary", &["iam:GetAccountSummary"], Global, None, None),
    op("iam", "GetAccountPasswordPolicy", &["iam:GetAccountPasswordPolicy"], Global, None, None),
    op("iam", "ListUsers", &["iam:ListUsers"], Global, None, None),
    op("iam", "GetLoginProfile", &["iam:GetLoginProfile"], Global, Some("user name"), Some("iam:ListUsers")),
];
