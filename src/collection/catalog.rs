//! The catalog of every operation auditpack can collect.

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
    /// IAM actions the call needs (read-only by construction).
    pub iam_actions: &'static [&'static str],
    /// Global or regional.
    pub scope: CallScope,
    /// What the qualifier is when the operation is called once per resource
    /// (e.g. "bucket name"); `None` when it is called once.
    pub qualified_by: Option<&'static str>,
    /// Which earlier answer the qualifiers come from, for the collection plan.
    pub depends_on: Option<&'static str>,
}

impl OperationSpec {
    /// `service:Operation`, the form control files use.
    pub fn source_name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// Every operation of every source, in source order.
pub fn operations() -> impl Iterator<Item = &'static OperationSpec> {
    super::sources::ALL
        .iter()
        .flat_map(|source| source.operations.iter())
}

/// Looks up `service:Operation`.
pub fn find_operation(source_name: &str) -> Option<&'static OperationSpec> {
    let (service, operation) = source_name.split_once(':')?;
    operations().find(|op| op.service == service && op.operation == operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_read_only() {
        for op in operations() {
            for action in op.iam_actions {
                let verb = action.split_once(':').map(|(_, v)| v).unwrap_or("");
                assert!(
                    ["Describe", "Get", "List"]
                        .iter()
                        .any(|p| verb.starts_with(p)),
                    "{action} is not a read-only action"
                );
            }
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        let mut seen = std::collections::HashSet::new();
        for op in operations() {
            assert!(
                seen.insert(op.source_name()),
                "duplicate {}",
                op.source_name()
            );
            assert!(find_operation(&op.source_name()).is_some());
        }
        assert!(find_operation("s3:DeleteBucket").is_none());
        assert!(find_operation("nonsense").is_none());
    }
}
