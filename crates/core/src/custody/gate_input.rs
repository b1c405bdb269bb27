//! The results the gate decides on, read from a `results.json` or from a bundle
//! (zip or unzipped bag) that matches its manifests: a bundle that does not is
//! refused rather than trusted.

use std::path::{Path, PathBuf};

use super::bag_check::{verify_path, Verification, VerifyError};
use super::limits::{read_capped, CappedRead};
use crate::evaluation::Results;

/// Why there are no results to gate on (exit 2: bad input).
#[derive(Debug, thiserror::Error)]
pub enum GateInputError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bundle cannot be read as a bag.
    #[error(transparent)]
    Bag(#[from] VerifyError),
    /// The bundle does not match its manifests.
    #[error("{} does not match its manifests ({first_problem}); refusing to gate on it", path.display())]
    NotIntact {
        /// The bundle.
        path: PathBuf,
        /// The first problem verify found.
        first_problem: String,
    },
    /// The bundle has no results.
    #[error("{} has no data/results.json", path.display())]
    NoResults {
        /// The bundle.
        path: PathBuf,
    },
    /// The results do not parse.
    #[error("{}: not a results.json: line {} column {}: {source}", path.display(), source.line(), source.column())]
    NotResults {
        /// The file or bundle.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The statuses do not follow from the items (see `gate::consistency_problems`).
    #[error("{}: refusing to gate on results whose verdicts do not add up: {}", path.display(), problems.join("; "))]
    Inconsistent {
        /// The file or bundle.
        path: PathBuf,
        /// Every inconsistency found.
        problems: Vec<String>,
    },
    /// Trusted keys were given for a results.json, which carries no signature.
    #[error("{}: --allowed-signers and --pubkey need a bundle; a results.json carries no signature", path.display())]
    UnsignedResults {
        /// The file.
        path: PathBuf,
    },
    /// The bundle does not verify, or its results are not what its own
    /// evidence and controls give (edited and re-hashed).
    #[error("{} does not verify, or its results.json is not what its own evidence and controls give; refusing to gate on it (see the findings above)", path.display())]
    NotProven {
        /// The bundle.
        path: PathBuf,
    },
    /// The bundle is not signed by a trusted key or does not verify.
    #[error("{} is not signed by a trusted key, or does not verify; refusing to gate on it", path.display())]
    Untrusted {
        /// The bundle.
        path: PathBuf,
    },
}

/// Reads results from `results.json` (by its extension) or from a bundle,
/// which is verified first.
pub fn load_results(path: &Path) -> Result<Results, GateInputError> {
    if is_results_json(path) {
        let bytes = read_capped(path).map_err(|e| match e {
            CappedRead::Io(source) => GateInputError::Read {
                path: path.to_path_buf(),
                source,
            },
            CappedRead::TooLarge(exceeded) => GateInputError::Bag(VerifyError::TooLarge {
                path: path.to_path_buf(),
                entry: "results.json".into(),
                exceeded,
            }),
            CappedRead::BadCap(e) => GateInputError::Bag(e.into()),
        })?;
        return parse_results(path, &bytes);
    }
    let verification = verify_path(path)?;
    results_in_bundle(path, &verification)
}

/// Whether `path` names a results file rather than a bundle.
pub fn is_results_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

/// The results of a bundle already read and checked (by `verify_path`, or by
/// the custody checks when the gate demands a signature, so the bag is read
/// and hashed once); refused unless it matches its manifests.
pub fn results_in_bundle(
    path: &Path,
    verification: &Verification,
) -> Result<Results, GateInputError> {
    if !verification.is_intact() {
        return Err(GateInputError::NotIntact {
            path: path.to_path_buf(),
            first_problem: verification
                .problems
                .first()
                .map(|p| p.to_string())
                .unwrap_or_default(),
        });
    }
    let bytes = verification
        .contents
        .entries
        .bytes("data/results.json")
        .ok_or_else(|| GateInputError::NoResults {
            path: path.to_path_buf(),
        })?;
    parse_results(path, bytes)
}

/// Parses results and checks that their verdicts add up.
fn parse_results(path: &Path, bytes: &[u8]) -> Result<Results, GateInputError> {
    let results = crate::outputs::results_json::parse_results(bytes).map_err(|source| {
        GateInputError::NotResults {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let problems = crate::gate::consistency_problems(&results);
    if !problems.is_empty() {
        return Err(GateInputError::Inconsistent {
            path: path.to_path_buf(),
            problems,
        });
    }
    Ok(results)
}
