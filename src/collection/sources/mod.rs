//! One module per evidence source. Each declares its operations (with the IAM
//! actions they need) and one `collect` function that makes the calls the
//! controls need in one account × region. Adding a source: a module here and a
//! line in [`ALL`].

pub mod account;
pub mod cloudtrail;
pub mod config;
pub mod guardduty;
pub mod iam;
pub mod organizations;
pub mod s3;
pub mod sts;

use futures::future::BoxFuture;

use super::context::RegionCtx;
use super::recorder::RecordError;
use super::OperationSpec;

/// Makes a source's calls in one account × region.
pub type CollectFn = for<'a> fn(&'a RegionCtx<'a>) -> BoxFuture<'a, Result<(), RecordError>>;

/// An evidence source.
pub struct Source {
    /// Name, for logs.
    pub name: &'static str,
    /// What it can collect.
    pub operations: &'static [OperationSpec],
    /// How it collects. `None` for sources whose calls are made elsewhere
    /// (STS by the session, the organization listing by discovery).
    pub collect: Option<CollectFn>,
}

/// Every source.
pub const ALL: &[Source] = &[
    Source {
        name: "organizations",
        operations: organizations::OPERATIONS,
        collect: Some(|ctx| Box::pin(organizations::collect(ctx))),
    },
    Source {
        name: "sts",
        operations: sts::OPERATIONS,
        collect: None,
    },
    Source {
        name: "cloudtrail",
        operations: cloudtrail::OPERATIONS,
        collect: Some(|ctx| Box::pin(cloudtrail::collect(ctx))),
    },
    Source {
        name: "s3",
        operations: s3::OPERATIONS,
        collect: Some(|ctx| Box::pin(s3::collect(ctx))),
    },
    Source {
        name: "guardduty",
        operations: guardduty::OPERATIONS,
        collect: Some(|ctx| Box::pin(guardduty::collect(ctx))),
    },
    Source {
        name: "config",
        operations: config::OPERATIONS,
        collect: Some(|ctx| Box::pin(config::collect(ctx))),
    },
    Source {
        name: "iam",
        operations: iam::OPERATIONS,
        collect: Some(|ctx| Box::pin(iam::collect(ctx))),
    },
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
    OperationSpec {
        service,
        operation,
        iam_actions,
        scope,
        qualified_by,
        depends_on,
    }
}

/// Formats an SDK timestamp as RFC 3339, the form evidence uses.
pub fn rfc3339(t: &aws_smithy_types::DateTime) -> String {
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}
