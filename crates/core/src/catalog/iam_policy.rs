//! The least-privilege, read-only IAM policy collection needs, generated from the
//! sources' own declarations so it cannot drift from what the code calls.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::operations;

/// Every IAM action any source declares, sorted.
pub fn required_actions() -> BTreeSet<&'static str> {
    operations()
        .flat_map(|op| op.iam_actions.iter().copied())
        .collect()
}

/// The policy document for the audit role in every member account.
pub fn audit_role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AuditpackReadOnlyEvidence",
            "Effect": "Allow",
            "Action": required_actions().into_iter().collect::<Vec<_>>(),
            "Resource": "*"
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_read_only_and_covers_every_source() {
        let actions = required_actions();
        assert!(actions.len() > 30, "{actions:?}");
        for action in &actions {
            let verb = action.split(':').nth(1).unwrap_or_default();
            assert!(
                verb.starts_with("Describe") || verb.starts_with("Get") || verb.starts_with("List"),
                "{action}"
            );
        }
        for op in operations() {
            for action in op.iam_actions {
                assert!(actions.contains(action));
            }
        }
        assert_eq!(audit_role_policy()["Statement"][0]["Effect"], "Allow");
    }
}

#[cfg(test)]
mod drift {
    /// The Terraform module ships the generated policy; it must not drift.
    #[test]
    fn terraform_policy_is_the_generated_one() {
        let shipped: serde_json::Value = serde_json::from_str(include_str!(
            "../../deploy/terraform/audit-role/policy.json"
        ))
        .expect("policy.json is JSON");
        assert_eq!(
            shipped,
            super::audit_role_policy(),
            "run: auditpack iam-policy > deploy/terraform/audit-role/policy.json"
        );
    }
}
