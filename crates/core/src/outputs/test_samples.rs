//! The samples (`evidence-samples/`, the repository's controls) evaluated
//! in-process, for the tests of the outputs that read them back. Built from
//! the layers below `outputs` (the `report` pipeline is above it).

use std::path::{Path, PathBuf};

use crate::evaluation::config::Config;
use crate::evaluation::{evaluate, load_control_set, ControlSet, Results, StoredResults};
use crate::evidence::{read_json_file, EvidenceStore, RunInfo};
use crate::org::Org;
use crate::outputs::{index_store, EvidenceIndex, EvidenceIndexEntry, ReportInput};

/// What an evaluation of an evidence folder gives the outputs.
pub(crate) struct Evaluated {
    pub results: Results,
    pub org: Org,
    pub run: RunInfo,
    pub evidence: Vec<EvidenceIndexEntry>,
    /// `evidence` as the outputs read it (on disk): [`Evaluated::refresh`]
    /// after changing `evidence`.
    pub index: EvidenceIndex,
    /// `results` as the outputs read them (items on disk):
    /// [`Evaluated::refresh`] after changing `results`.
    pub stored: StoredResults,
}

impl Evaluated {
    /// Writes `evidence` and `results` to `index` and `stored` again.
    pub(crate) fn refresh(&mut self) {
        self.index = EvidenceIndex::of_entries(&self.evidence).expect("a temporary file");
        self.stored = StoredResults::of_results(self.results.clone()).expect("a temporary file");
    }
}

/// The repository's root.
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The samples, evaluated with the repository's controls.
pub(crate) fn samples() -> Evaluated {
    evaluated(&repo().join("evidence-samples"))
}

/// An evidence folder evaluated with the repository's controls.
pub(crate) fn evaluated(folder: &Path) -> Evaluated {
    let store = EvidenceStore::open(folder).expect("an evidence folder");
    let run = store.run_info().expect("run.json");
    let org: Org = read_json_file(&folder.join("org.json")).expect("org.json");
    let controls = load_control_set(&ControlSet::only(&repo().join("controls"))).expect("controls");
    let evidence = index_store(&store).expect("evidence");
    let results = evaluate(&controls, &Config::default(), &store, &org, &run);
    Evaluated {
        stored: StoredResults::of_results(results.clone()).expect("a temporary file"),
        results,
        org,
        run,
        index: EvidenceIndex::of_entries(&evidence).expect("a temporary file"),
        evidence,
    }
}

/// What the outputs read, from an evaluation.
pub(crate) fn input(e: &Evaluated) -> ReportInput<'_> {
    ReportInput {
        results: &e.stored,
        org: &e.org,
        run: &e.run,
        evidence: &e.index,
        bundle_name: "auditpack-test",
        ipe: Default::default(),
    }
}
