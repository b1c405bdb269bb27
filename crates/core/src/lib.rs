//! auditpack's offline core: everything after the evidence store.
//!
//! This crate never depends on an AWS crate, so an auditor can build it and
//! re-run every check offline from a folder or a bundle. The AWS side
//! (discovery, collection, the KMS signer) lives in `auditpack-aws`, which
//! depends on this crate and never the other way round.
//!
//! The modules are layered; a module may use only the modules listed before it
//! (the `layers` test in `tests/` checks this against the source):
//!
//! ```text
//! org → catalog → evidence → evaluation → gate → outputs → report → custody
//! ```
#![forbid(unsafe_code)]

pub mod org;
pub mod catalog;
pub mod evidence;
pub mod evaluation;
pub mod gate;
pub mod outputs;
pub mod report;
pub mod custody;

/// The layers of this crate, lowest first: a module may use only modules
/// listed before it. Written once, here; the layer test reads it.
pub const LAYERS: &[&str] = &[
    "org",
    "catalog",
    "evidence",
    "evaluation",
    "gate",
    "outputs",
    "report",
    "custody",
];

/// The tool's name, as written into every evidence envelope and bundle.
pub const TOOL_NAME: &str = "auditpack";
/// The tool's version (the workspace's crates share one version).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
