//! The AWS side of each evidence source: one module per source, named as its
//! declaration in `auditpack_core::catalog`, with one `collect` function that
//! makes the calls the controls need in one account × region (and only those:
//! [`RegionCtx::needs`]).
//!
//! Adding a source: see "How to add an evidence source" in ARCHITECTURE.md; a
//! test fails when a catalog source has no entry in [`COLLECTORS`].

pub mod access_analyzer;
pub mod account;
pub mod cloudtrail;
pub mod config;
pub mod ec2;
pub mod guardduty;
pub mod iam;
pub mod kms;
pub mod organizations;
pub mod ram;
pub mod route53resolver;
pub mod s3;
pub mod securityhub;
pub mod sso;

use futures::future::BoxFuture;

use super::context::RegionCtx;
use super::recorder::RecordError;

/// Makes a source's calls in one account × region.
pub(crate) type CollectFn = for<'a> fn(&'a RegionCtx<'a>) -> BoxFuture<'a, Result<(), RecordError>>;

/// How each catalog source (`auditpack_core::catalog::SOURCES`, by name) is
/// collected. `None` for sources whose calls are made elsewhere: STS by the
/// session, the enabled regions by the runner, the organization listing by
/// discovery (its other calls are collected here).
pub(crate) const COLLECTORS: &[(&str, Option<CollectFn>)] = &[
    (
        "organizations",
        Some(|ctx| Box::pin(organizations::collect(ctx))),
    ),
    ("sts", None),
    ("account", None),
    ("cloudtrail", Some(|ctx| Box::pin(cloudtrail::collect(ctx)))),
    ("s3", Some(|ctx| Box::pin(s3::collect(ctx)))),
    ("guardduty", Some(|ctx| Box::pin(guardduty::collect(ctx)))),
    ("config", Some(|ctx| Box::pin(config::collect(ctx)))),
    ("iam", Some(|ctx| Box::pin(iam::collect(ctx)))),
    ("ec2", Some(|ctx| Box::pin(ec2::collect(ctx)))),
    ("kms", Some(|ctx| Box::pin(kms::collect(ctx)))),
    ("ram", Some(|ctx| Box::pin(ram::collect(ctx)))),
    (
        "route53resolver",
        Some(|ctx| Box::pin(route53resolver::collect(ctx))),
    ),
    ("sso", Some(|ctx| Box::pin(sso::collect(ctx)))),
    (
        "securityhub",
        Some(|ctx| Box::pin(securityhub::collect(ctx))),
    ),
    (
        "access_analyzer",
        Some(|ctx| Box::pin(access_analyzer::collect(ctx))),
    ),
];

/// The collector of the catalog source `name`.
pub(crate) fn collector(name: &str) -> Option<CollectFn> {
    COLLECTORS
        .iter()
        .find(|(source, _)| *source == name)
        .and_then(|(_, collect)| *collect)
}

/// Formats an SDK timestamp as RFC 3339, the form evidence uses.
pub(crate) fn rfc3339(t: &aws_smithy_types::DateTime) -> String {
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

#[cfg(test)]
mod tests {
    /// Every source the catalog declares has a collector entry here (and no
    /// entry names a source the catalog lacks), so a new source cannot be
    /// declared and silently never collected.
    #[test]
    fn every_catalog_source_has_a_collector_entry() {
        let catalog: Vec<&str> = auditpack_core::catalog::SOURCES
            .iter()
            .map(|s| s.name)
            .collect();
        let here: Vec<&str> = super::COLLECTORS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            catalog, here,
            "crates/aws/src/collection/sources/mod.rs COLLECTORS must list the catalog's sources in its order"
        );
    }
}
