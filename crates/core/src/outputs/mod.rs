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
    /// Every control's IPE sheet, once made (see [`ReportInput::ipe_sheets`]).
    pub ipe: std::sync::OnceLock<Vec<ipe::IpeSheet>>,
}

impl ReportInput<'_> {
    /// Every control's IPE sheet, made on first use and kept: the page, the
    /// workbook and `ipe.json` show the same sheets, and making them reads
    /// every control's items back and looks up each file they cite in the
    /// evidence index on disk (about a tenth of `report`'s CPU time when
    /// each output made its own). The sheets are a few lines a control.
    pub(crate) fn ipe_sheets(&self) -> &[ipe::IpeSheet] {
        self.ipe.get_or_init(|| ipe::ipe_sheets(self))
    }
}
