//! `results.json`: the machine-readable verdicts (schema in `docs/results-format.md`).

use crate::evaluation::Results;

/// Serialises results as pretty JSON with a trailing newline. Field order is
/// fixed by the types and maps are sorted, so the same results give the same bytes.
pub(crate) fn render_results(results: &Results) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(results).expect("results always serialise");
    bytes.push(b'\n');
    bytes
}

/// Reads `results.json` back (used by gate, verify and diff).
pub(crate) fn parse_results(bytes: &[u8]) -> Result<Results, serde_json::Error> {
    serde_json::from_slice(bytes)
}
