//! The evidence store: one JSON envelope per AWS API call, laid out on disk as
//! `<root>/<account_id>/<region or "global">/<service>/<operation>[.<qualifier>].json`,
//! with `org.json` and `run.json` beside the account folders.
//!
//! This module fixes the format everything else reads (see `docs/evidence-format.md`).
//! It never talks to AWS and never holds credentials: envelopes carry the caller's
//! ARN, never keys or tokens.

pub mod attachments;
pub mod coverage;
mod envelope;
mod layout;
pub mod merge;
pub mod org_check;
pub mod period;
pub(crate) mod read_ahead;
pub mod read_back;
pub mod regions;
mod run;
pub mod staging;
mod store;

pub use envelope::{
    AnswerStatus, Call, Collector, Envelope, EnvelopeError, ErrorClass, Pagination,
};
pub use layout::{qualifier_to_file_stem, EvidenceKey, RegionDir, GLOBAL_DIR};
pub use regions::{region_enabled, split_regions};
pub use run::{RunInfo, ShardRun, ToolInfo};
pub use store::{
    read_json_file, sha256_hex, EvidenceDoc, EvidenceStore, InvalidDocument, StoreError,
};

/// Version of the envelope, `org.json`, `run.json` and `results.json` formats.
/// Bumped on any change a reader would notice.
pub const SCHEMA_VERSION: u32 = 1;

/// `value` without the object members whose value is `null`, at any depth.
///
/// Evidence keeps AWS's JSON shape: a field the API did not return is not
/// written, so `has()` in a control means "AWS returned it". The SDK maps an
/// absent field to `None`, which would otherwise be written as `null`.
pub fn drop_absent_members(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_absent_members(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_absent_members).collect()),
        other => other,
    }
}

#[cfg(test)]
mod absent_tests {
    #[test]
    fn null_members_are_dropped_at_every_depth_and_list_items_kept() {
        let v = serde_json::json!({"a": null, "b": {"c": null, "d": 1}, "l": [null, {"e": null}]});
        assert_eq!(
            super::drop_absent_members(v),
            serde_json::json!({"b": {"d": 1}, "l": [null, {}]})
        );
    }
}
