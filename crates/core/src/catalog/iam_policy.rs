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
    fn the_policy_grants_only_read_only_actions() {
        let actions = required_actions();
        for action in &actions {
            assert!(
                crate::catalog::is_read_only_action(action),
                "{action} is not a read-only action"
            );
        }
        assert!(!crate::catalog::is_read_only_action(
            "iam:GenerateServiceLastAccessedDetails"
        ));
        assert!(!crate::catalog::is_read_only_action("s3:PutBucketPolicy"));
        assert_eq!(audit_role_policy()["Statement"][0]["Effect"], "Allow");
        assert_eq!(audit_role_policy()["Statement"][0]["Resource"], "*");
    }
}
