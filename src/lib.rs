//! auditpack: SOC 2 evidence for a whole AWS Organization, packaged for auditors.
//!
//! The crate is laid out along the data flow, one module per stage:
//!
//! ```text
//! discovery  → collection → evidence (store on disk) → evaluation → outputs (report, bundle) → verify / gate
//! ```
//!
//! Only discovery and collection ever touch the network. Everything after the
//! evidence store runs offline, from a folder or from a bundle, so an auditor can
//! re-run it without AWS credentials.
#![forbid(unsafe_code)]

pub mod collection;
pub mod config;
pub mod custody;
pub mod discovery;
pub mod evaluation;
pub mod evidence;
pub mod exit_code;
pub mod gate;
pub mod outputs;
pub mod pipeline;
pub mod verify;

/// The tool's name and version, as written into every evidence envelope and bundle.
pub const TOOL_NAME: &str = env!("CARGO_PKG_NAME");
/// See [`TOOL_NAME`].
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
