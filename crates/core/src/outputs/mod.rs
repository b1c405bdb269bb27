//! Outputs: what people and machines read, each format in its own file, all
//! made from [`Results`] plus the run's facts. Nothing here decides a verdict.

pub mod bag_files;
pub mod bagit;
pub mod catalog_markdown;
pub mod changes_csv;
pub mod csv_export;
pub mod evidence_index;
pub mod ipe;
pub mod junit;
pub mod markdown;
pub mod oscal;
pub mod report_html;
pub mod results_json;
pub mod sarif;
#[cfg(test)]
pub(crate) mod test_samples;
pub mod xlsx;
pub(crate) mod zip_writer;

use crate::evaluation::StoredResults;
use crate::evidence::RunInfo;
use crate::org::Org;

pub use evidence_index::{index_documents, index_store, EvidenceIndex, EvidenceIndexEntry};

/// Everything the HTML report shows.
#[derive(Debug, Clone)]
pub(crate) struct ReportInput<'a> {
    /// The verdicts.
    pub results: &'a StoredResults,
    /// The account population.
    pub org: &'a Org,
    /// The collection run.
    pub run: &'a RunInfo,
    /// Every evidence file of the run.
    pub evidence: &'a EvidenceIndex,
    /// Name of the bundle (zip file stem and the bag's top folder).
    pub bundle_name: &'a str,
}
