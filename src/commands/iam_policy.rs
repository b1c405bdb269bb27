//! `auditpack iam-policy`: the least-privilege read-only IAM policy that
//! collection needs, generated from the operation catalog.

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str =
    "Example:\n  auditpack iam-policy > deploy/terraform/audit-role-policy.json";

/// Prints the policy as JSON.
pub fn run() -> Result<Exit, Failure> {
    let policy = auditpack_core::catalog::iam_policy::audit_role_policy();
    let text = serde_json::to_string_pretty(&policy)
        .map_err(|e| Failure::tool(format!("cannot serialise the policy: {e}")))?;
    outln!("{text}");
    Ok(Exit::Done)
}
