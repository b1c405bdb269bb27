//! `results.json`: the machine-readable verdicts (schema in `docs/results-format.md`).

use serde::de::Error as _;

use crate::evaluation::{Results, RESULTS_SCHEMA_VERSION};

/// The versions this auditpack reads: version 1 files load (every field added
/// since is optional) and mean what they meant; anything newer is refused,
/// never read as if it were a version this tool knows.
const READABLE_VERSIONS: std::ops::RangeInclusive<u32> = 1..=RESULTS_SCHEMA_VERSION;

/// Serialises results as pretty JSON with a trailing newline. Field order is
/// fixed by the types and maps are sorted, so the same results give the same bytes.
#[cfg(test)]
pub(crate) fn render_results(results: &Results) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_results(results, &mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// [`render_results`] written to `out` as it is serialised: at 10,000
/// accounts the file is most of a gigabyte, and `report` never holds it.
pub(crate) fn write_results(
    results: &Results,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, results)?;
    out.write_all(b"\n")
}

/// Reads `results.json` back (used by gate, verify and diff); a schema
/// version this auditpack does not know is an error.
pub(crate) fn parse_results(bytes: &[u8]) -> Result<Results, serde_json::Error> {
    let results: Results = serde_json::from_slice(bytes)?;
    if !READABLE_VERSIONS.contains(&results.schema_version) {
        return Err(serde_json::Error::custom(format!(
            "schema_version {}; this auditpack reads results.json versions {} to {}",
            results.schema_version,
            READABLE_VERSIONS.start(),
            READABLE_VERSIONS.end()
        )));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 file as an earlier auditpack wrote it (no period fields).
    fn with_version(version: u32) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schema_version": version,
            "tool": {"name": "auditpack", "version": "0.1.0"},
            "organization_id": "o-a1b2c3d4e5", "management_account_id": "111111111111",
            "period": "2026-Q4", "generated_at": "2026-11-20T09:16:41Z",
            "collection_window": {"start": "2026-11-20T09:12:00Z", "end": "2026-11-20T09:16:41Z"},
            "home_region": "us-east-1", "regions": ["us-east-1"],
            "summary": {"controls": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0},
                        "items": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0}},
            "controls": []
        }))
        .unwrap()
    }

    #[test]
    fn versions_one_and_two_are_read_and_later_ones_refused() {
        assert_eq!(parse_results(&with_version(1)).unwrap().schema_version, 1);
        assert_eq!(parse_results(&with_version(2)).unwrap().schema_version, 2);
        for unknown in [0, 3, 99] {
            let e = parse_results(&with_version(unknown)).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("schema_version {unknown};")),
                "{e}"
            );
        }
    }
}
