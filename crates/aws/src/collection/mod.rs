//! Collection: read-only AWS API calls in every account and region, written to the
//! evidence store.
//!
//! What each evidence source can call is declared as data in
//! `auditpack_core::catalog` (operations, IAM actions, typed dependencies,
//! "not found" codes); [`sources`] holds the calls themselves, one module per
//! source. The collection [`plan`] is derived from the control files and the
//! catalog, so the collector calls only what some control reads.
//!
//! Never writes: every operation here is a Describe/Get/List call.

pub mod answer;
pub mod classify;
pub mod context;
pub mod limits;
pub mod plan;
pub mod recorder;
pub mod runner;
pub mod session;
pub mod sources;

pub use auditpack_core::catalog::{find_operation, operations, CallScope, OperationSpec};
