//! Evaluation: control definitions (data files) applied to the evidence store,
//! giving PASS, FAIL or NOT_ASSESSED per control and per account (× region).
//!
//! Pure and offline: it reads the evidence folder and the control files and
//! returns [`Results`]; it never calls AWS and never writes files.

mod attachment_check;
mod budget;
pub mod config;
mod control;
mod criteria;
mod engine;
mod expr;
mod loader;
mod outcome;
mod pair_functions;
mod peer_functions;
mod policy_functions;
mod results;
pub mod starter_config;
mod stored;
mod waivers;

pub use attachment_check::check_attachments;
pub use budget::{OverBudget, MAX_CONTROL_COST, MAX_EVALUATION_COST};
pub use control::{
    parse_control, toml_to_json, AccountRef, AccountSelector, Assertion, Control, ControlOrigin,
    EvidenceBinding, LintError, ManualRule, QualifierRef, RegionRef, RegionSelector, Severity,
    WhenEmpty, WhenFalse,
};
pub use criteria::{
    criterion_order, is_known_criterion, CriterionControl, CriterionCoverage, CATEGORIES, CRITERIA,
};
pub use engine::{evaluate, evaluate_stored};
pub use expr::{Expr, ExprError};
pub use loader::{
    builtin_control_files, load_control_set, load_controls, ControlSet, BUILTIN_FOLDER,
};
pub use outcome::Verdict;
pub use results::{
    AppliedWaiver, AssertionInfo, AssertionResult, ChangeRecord, CollectionWindow, ControlResult,
    Counts, EvidenceRef, ItemPeriod, ItemResult, OutOfScope, Results, Summary, WaiverRecord,
    WaiverState, RESULTS_SCHEMA_VERSION,
};
pub use stored::{ResultsSource, StoredResults};
pub use waivers::{apply_waivers, Waiver, Waivers};
