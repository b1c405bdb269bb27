//! auditpack's AWS side: discovering the Organization, collecting read-only
//! evidence from every account and region, and signing bundles with a KMS key.
//!
//! Everything here talks to AWS; everything after the evidence store lives in
//! `auditpack-core`, which this crate uses and which never uses it. What each
//! evidence source may call is declared in `auditpack_core::catalog`; this
//! crate makes those calls and writes their envelopes.
//!
//! Never writes to AWS: every call is a Describe/Get/List (the catalog's test
//! checks the IAM actions), except `kms:Sign`, which signs a bundle's tag
//! manifest with a key the user names.
#![forbid(unsafe_code)]

pub mod collection;
pub mod discovery;
pub mod kms_signer;
pub mod locker;
pub mod locker_read;
