//! The evidence store: one JSON envelope per AWS API call, laid out on disk as
//! `<root>/<account_id>/<region or "global">/<service>/<operation>[.<qualifier>].json`,
//! with `org.json` and `run.json` beside the account folders.
//!
//! This module fixes the format everything else reads (see `docs/evidence-format.md`).
//! It never talks to AWS and never holds credentials: envelopes carry the caller's
//! ARN, never keys or tokens.

pub mod coverage;
mod envelope;
mod layout;
pub mod merge;
mod run;
pub mod staging;
mod store;

pub use envelope::{Call, Collector, Envelope, EnvelopeError, ErrorClass, Pagination, Status};
pub use layout::{qualifier_to_file_stem, EvidenceKey, RegionDir, GLOBAL_DIR};
pub use run::{RunInfo, ShardRun, ToolInfo};
pub use store::{read_json_file, sha256_hex, EvidenceDoc, EvidenceStore, StoreError};

/// Version of the envelope, `org.json`, `run.json` and `results.json` formats.
/// Bumped on any change a reader would notice.
pub const SCHEMA_VERSION: u32 = 1;
