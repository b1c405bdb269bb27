//! Collection: read-only AWS API calls in every account and region, written to the
//! evidence store.
//!
//! Each evidence source is one small module under [`sources`] that declares the
//! operations it performs and the IAM actions they need. The [`catalog`] joins
//! those declarations; control files are checked against it (an unknown evidence
//! source is an error), and the collection plan and least-privilege IAM policy are
//! derived from it, so neither can drift from what the code calls.
//!
//! Never writes: every operation here is a Describe/Get/List call.

pub mod answer;
pub mod catalog;
pub mod classify;
pub mod context;
pub mod iam_policy;
pub mod limits;
pub mod plan;
pub mod recorder;
pub mod runner;
pub mod session;
pub mod sources;

pub use catalog::{find_operation, operations, CallScope, OperationSpec};
