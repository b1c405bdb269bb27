//! The catalog of every operation auditpack can collect: one file per evidence
//! source, each declaring its operations as data.
//!
//! The catalog is the contract between the two halves of the tool. Control files
//! name operations (`service:Operation`) and are checked against it offline; the
//! collection plan follows its typed dependencies; the least-privilege IAM policy
//! ([`iam_policy`]) is derived from it; and "this configuration does not exist"
//! is decided per operation from its `not_found` codes. The AWS calls themselves
//! live in `auditpack-aws` (one module per source, same names as here), so this
//! crate stays buildable without the AWS SDK.
//!
//! Adding a source: see "How to add an evidence source" in ARCHITECTURE.md.

pub mod access_analyzer;
pub mod account;
pub mod cloudtrail;
pub mod config;
pub mod ec2;
pub mod guardduty;
pub mod iam;
pub mod iam_policy;
pub mod kms;
pub mod organizations;
pub mod ram;
pub mod route53resolver;
pub mod s3;
pub mod securityhub;
pub mod sso;
pub mod sts;
#[cfg(test)]
mod touch_points;

/// Whether an operation is called once per account or once per account × region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallScope {
    /// Global service: stored under the `global` region folder.
    Global,
    /// Regional service: stored under each region's folder.
    Regional,
}

/// One collectable API operation.
#[derive(Debug, Clone, Copy)]
pub struct OperationSpec {
    /// Service prefix as in IAM actions (`s3`, `guardduty`).
    pub service: &'static str,
    /// Operation name from the AWS API reference.
    pub operation: &'static str,
    /// IAM actions the call needs (read-only by construction; the policy grants exactly these).
    pub iam_actions: &'static [&'static str],
    /// Global or regional.
    pub scope: CallScope,
    /// What the qualifier is when the operation is called once per resource
    /// (e.g. "bucket name"); `None` when it is called once.
    pub qualified_by: Option<&'static str>,
    /// The operation whose answer this one needs first (its qualifiers, or the
    /// resource's region); the collection plan adds it whenever this one is planned.
    pub depends_on: Option<&'static OperationSpec>,
    /// AWS error codes that mean "the configuration does not exist" for this
    /// operation: a definite answer (`not_found`) a control may FAIL on, unlike
    /// an error, which makes it NOT ASSESSED.
    pub not_found: &'static [&'static str],
}

impl OperationSpec {
    /// `service:Operation`, the form control files use.
    pub fn source_name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    /// Whether this is `service:Operation` (no allocation, for lookups).
    pub(crate) fn is(&self, service: &str, operation: &str) -> bool {
        self.service == service && self.operation == operation
    }

    /// This operation with its "does not exist" error codes.
    pub(crate) const fn not_found(mut self, codes: &'static [&'static str]) -> OperationSpec {
        self.not_found = codes;
        self
    }

    /// The chain of operations this one needs, itself first.
    pub fn with_dependencies(&'static self) -> impl Iterator<Item = &'static OperationSpec> {
        std::iter::successors(Some(self), |op| op.depends_on)
    }
}

/// An evidence source: a name (the module name here and in `auditpack-aws`)
/// and its operations.
#[derive(Debug)]
pub struct SourceSpec {
    /// Module name, also used in logs.
    pub name: &'static str,
    /// What it can collect.
    pub operations: &'static [OperationSpec],
}

/// Every source, in collection order.
pub const SOURCES: &[SourceSpec] = &[
    SourceSpec {
        name: "organizations",
        operations: organizations::OPERATIONS,
    },
    SourceSpec {
        name: "sts",
        operations: sts::OPERATIONS,
    },
    SourceSpec {
        name: "account",
        operations: account::OPERATIONS,
    },
    SourceSpec {
        name: "cloudtrail",
        operations: cloudtrail::OPERATIONS,
    },
    SourceSpec {
        name: "s3",
        operations: s3::OPERATIONS,
    },
    SourceSpec {
        name: "guardduty",
        operations: guardduty::OPERATIONS,
    },
    SourceSpec {
        name: "config",
        operations: config::OPERATIONS,
    },
    SourceSpec {
        name: "iam",
        operations: iam::OPERATIONS,
    },
    SourceSpec {
        name: "ec2",
        operations: ec2::OPERATIONS,
    },
    SourceSpec {
        name: "kms",
        operations: kms::OPERATIONS,
    },
    SourceSpec {
        name: "ram",
        operations: ram::OPERATIONS,
    },
    SourceSpec {
        name: "route53resolver",
        operations: route53resolver::OPERATIONS,
    },
    SourceSpec {
        name: "sso",
        operations: sso::OPERATIONS,
    },
    SourceSpec {
        name: "securityhub",
        operations: securityhub::OPERATIONS,
    },
    SourceSpec {
        name: "access_analyzer",
        operations: access_analyzer::OPERATIONS,
    },
];

/// Shorthand for a declaration; keeps the tables in each source readable.
pub(crate) const fn op(
    service: &'static str,
    operation: &'static str,
    iam_actions: &'static [&'static str],
    scope: CallScope,
    qualified_by: Option<&'static str>,
    depends_on: Option<&'static OperationSpec>,
) -> OperationSpec {
    OperationSpec {
        service,
        operation,
        iam_actions,
        scope,
        qualified_by,
        depends_on,
        not_found: &[],
    }
}

/// Every operation of every source, in source order.
pub fn operations() -> impl Iterator<Item = &'static OperationSpec> {
    SOURCES.iter().flat_map(|source| source.operations.iter())
}

/// Actions whose verb does not say "read" but whose access level in AWS's
/// Service Authorization Reference is Read: generating the credential report
/// changes nothing in the account, and looking events up reads the event
/// history (both are in AWS's SecurityAudit policy).
const READ_ACCESS_LEVEL: &[&str] = &["iam:GenerateCredentialReport", "cloudtrail:LookupEvents"];

/// Whether an IAM action only reads: its verb is Describe, Get or List, or AWS
/// classifies it as Read ([`READ_ACCESS_LEVEL`]). Collection may declare no other.
pub fn is_read_only_action(action: &str) -> bool {
    let verb = action.split_once(':').map(|(_, v)| v).unwrap_or("");
    ["Describe", "Get", "List"]
        .iter()
        .any(|p| verb.starts_with(p))
        || READ_ACCESS_LEVEL.contains(&action)
}

/// Looks up `service:Operation`.
pub fn find_operation(source_name: &str) -> Option<&'static OperationSpec> {
    let (service, operation) = source_name.split_once(':')?;
    operations().find(|op| op.is(service, operation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_read_only() {
        for op in operations() {
            for action in op.iam_actions {
                assert!(
                    is_read_only_action(action),
                    "{action} is not a read-only action"
                );
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for op in operations() {
            assert!(
                seen.insert(op.source_name()),
                "duplicate {}",
                op.source_name()
            );
        }
        assert!(find_operation("s3:DeleteBucket").is_none());
        assert!(find_operation("nonsense").is_none());
    }

    /// A dependency is an operation of the catalog with the same scope (its
    /// answer is read in the same account × region folder), and following
    /// dependencies always ends: no operation needs itself.
    #[test]
    fn dependencies_are_catalog_operations_of_the_same_scope() {
        for op in operations() {
            if let Some(dep) = op.depends_on {
                let listed = find_operation(&dep.source_name()).unwrap_or_else(|| {
                    panic!(
                        "{} depends on {}, not in SOURCES",
                        op.source_name(),
                        dep.source_name()
                    )
                });
                assert_eq!(listed.iam_actions, dep.iam_actions);
                assert_eq!(
                    dep.scope,
                    op.scope,
                    "{} and its dependency",
                    op.source_name()
                );
                assert!(dep.qualified_by.is_none() || op.qualified_by.is_some());
            }
            let chain: Vec<String> = op.with_dependencies().map(|o| o.source_name()).collect();
            let unique: std::collections::HashSet<&String> = chain.iter().collect();
            assert_eq!(unique.len(), chain.len(), "cycle: {chain:?}");
        }
        let chain: Vec<String> = s3::GET_BUCKET_POLICY
            .with_dependencies()
            .map(|o| o.source_name())
            .collect();
        assert_eq!(
            chain,
            [
                "s3:GetBucketPolicy",
                "s3:GetBucketLocation",
                "s3:ListBuckets"
            ]
        );
    }
}
