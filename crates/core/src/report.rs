//! The offline pipeline behind `auditpack report`: evidence folder → evaluation →
//! results.json, report.html and the bundle. Every input problem is an
//! [`PipelineError`] that names its file; nothing is written until the inputs
//! are known to be good, and the bundle is written under a temporary name and
//! renamed, so an interrupted run never leaves a zip that looks complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::evaluation::config::Config;
use crate::evaluation::{
    apply_waivers, evaluate, evaluate_stored, load_control_set, Control, ControlSet, LintError,
    Results, ResultsSource, Severity, StoredResults, Waivers,
};
use crate::evidence::{read_json_file, EvidenceStore, RunInfo, StoreError};
use crate::org::Org;
use crate::outputs::bagit::{bag_name, file_sha256, zip_time, Bag, BagInfo, BundleError, Content};
use crate::outputs::report_html::{write_reports, Links, ReportError};
use crate::outputs::{EvidenceIndex, ReportInput};
use sha2::{Digest, Sha256};

/// What `auditpack report` needs.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The evidence folder (with `org.json` and `run.json`).
    pub evidence: PathBuf,
    /// Where results, report and bundle go.
    pub out: PathBuf,
    /// The control definitions: built-in, a folder, or both.
    pub controls: ControlSet,
    /// `auditpack.toml`, if any.
    pub config: Option<PathBuf>,
    /// The exceptions register (`waivers.toml`), if any.
    pub waivers: Option<PathBuf>,
    /// The lowest severity that fails the gate, as `summary.md` states its
    /// verdict (`--fail-on`; `Low` when the run is not gated).
    pub fail_on: Severity,
}

/// What `auditpack report` produced.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// What the console says of the verdicts (the verdicts themselves are in
    /// results.json: not kept, so the bundle is written without them in memory).
    pub verdicts: VerdictSummary,
    /// `results.json`.
    pub results_path: PathBuf,
    /// `report.html`.
    pub report_path: PathBuf,
    /// The bundle zip.
    pub bundle_path: PathBuf,
    /// SHA-256 of the bundle zip.
    pub bundle_sha256: String,
}

/// The verdicts in brief, as `report` prints them.
#[derive(Debug, Clone)]
pub struct VerdictSummary {
    /// How many controls were evaluated.
    pub controls: usize,
    /// The organization.
    pub organization_id: String,
    /// The audit period's label.
    pub period: String,
    /// Verdict counts.
    pub summary: crate::evaluation::Summary,
    /// Every waiver of the register and what became of it.
    pub waivers: Vec<crate::evaluation::WaiverRecord>,
}

impl VerdictSummary {
    fn of(results: &Results) -> VerdictSummary {
        VerdictSummary {
            controls: results.controls.len(),
            organization_id: results.organization_id.clone(),
            period: results.period.clone(),
            summary: results.summary.clone(),
            waivers: results.waivers.clone(),
        }
    }
}

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The evidence folder, `org.json` or `run.json` is missing or invalid.
    #[error(transparent)]
    Evidence(#[from] StoreError),
    /// Control files or the config are invalid (every problem is listed).
    #[error("{} problem(s) in control or config files:\n{}", .0.len(), join_lines(.0))]
    Lint(Vec<LintError>),
    /// An input value is unusable (e.g. a date in run.json).
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing an output failed.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Rendering the report failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Writing the bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Writing the workbook failed.
    #[error(transparent)]
    Workbook(#[from] crate::outputs::xlsx::WorkbookError),
}

impl PipelineError {
    /// True for problems with what the user gave us (exit code 2), false for
    /// failures of the tool or the machine.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            PipelineError::Evidence(_) | PipelineError::Lint(_) | PipelineError::Input { .. }
        )
    }
}

fn join_lines(errors: &[LintError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads the controls and the config, checked against each other.
pub fn load_controls_and_config(
    controls: &ControlSet,
    config: Option<&Path>,
) -> Result<(Vec<Control>, Config), PipelineError> {
    let controls = load_control_set(controls).map_err(PipelineError::Lint)?;
    let config = match config {
        Some(path) => Config::load(path).map_err(PipelineError::Lint)?,
        None => Config::default(),
    };
    config
        .check_against(&controls)
        .map_err(PipelineError::Lint)?;
    Ok((controls, config))
}

/// Loads the exceptions register, checked against the controls.
pub fn load_waivers(path: &Path, controls: &[Control]) -> Result<Waivers, PipelineError> {
    let waivers = Waivers::load(path).map_err(PipelineError::Lint)?;
    waivers
        .check_against(controls)
        .map_err(PipelineError::Lint)?;
    Ok(waivers)
}

/// What evaluation read and produced, before any output is written.
#[derive(Debug)]
pub(crate) struct Evaluated<R> {
    /// The verdicts, waivers applied: in memory ([`Results`]) or with their
    /// items on disk ([`StoredResults`]).
    pub results: R,
    /// The controls used.
    pub controls: Vec<Control>,
    /// The collection run.
    pub run: RunInfo,
    /// The organization as discovered.
    pub org: Org,
    /// Every evidence file, as read for evaluation (kept on disk).
    pub evidence: EvidenceIndex,
}

/// Everything evaluation reads, checked: evidence, controls, config, waivers.
struct Inputs {
    store: EvidenceStore,
    run: RunInfo,
    org: Org,
    controls: Vec<Control>,
    config: Config,
    waivers: Option<Waivers>,
    evidence: EvidenceIndex,
}

impl Inputs {
    /// What evaluating these inputs gave: `results` and what was read.
    fn with<R>(self, results: R) -> Evaluated<R> {
        Evaluated {
            results,
            controls: self.controls,
            run: self.run,
            org: self.org,
            evidence: self.evidence,
        }
    }
}

fn read_inputs(request: &ReportRequest) -> Result<Inputs, PipelineError> {
    let started = std::time::Instant::now();
    let store = EvidenceStore::open(&request.evidence)?;
    let ms = |since: std::time::Instant| since.elapsed().as_millis() as u64;
    tracing::debug!(
        ms = ms(started),
        "evidence folder checked (no links, UTF-8 names)"
    );
    let run: RunInfo = store.run_info()?;
    let org: Org = read_json_file(&request.evidence.join("org.json"))?;
    check_version(&request.evidence.join("run.json"), run.schema_version)?;
    check_version(&request.evidence.join("org.json"), org.schema_version)?;
    check_accounts_once(&request.evidence.join("org.json"), &org)?;
    check_org_against_discovery(&request.evidence.join("org.json"), &store, &org)?;
    let (controls, config) =
        load_controls_and_config(&request.controls, request.config.as_deref())?;
    let waivers = match &request.waivers {
        Some(path) => Some(load_waivers(path, &controls)?),
        None => None,
    };
    let (attachments, attachment_errors) = store.attachments();
    crate::evaluation::check_attachments(&request.evidence, &attachments, &attachment_errors)
        .map_err(PipelineError::Lint)?;
    let indexing = std::time::Instant::now();
    let evidence = EvidenceIndex::of_store(&store)?;
    tracing::debug!(
        ms = ms(indexing),
        files = evidence.len(),
        "evidence indexed"
    );
    Ok(Inputs {
        store,
        run,
        org,
        controls,
        config,
        waivers,
        evidence,
    })
}

/// Evaluates the request's controls, config and waivers over its evidence
/// folder, the results in memory (re-evaluation compares them whole). Pure
/// apart from reading files: the same inputs give the same [`Results`],
/// which is what re-evaluating a bundle relies on.
pub(crate) fn evaluate_inputs(
    request: &ReportRequest,
) -> Result<Evaluated<Results>, PipelineError> {
    let inputs = read_inputs(request)?;
    let mut results = evaluate(
        &inputs.controls,
        &inputs.config,
        &inputs.store,
        &inputs.org,
        &inputs.run,
    );
    check_read_once(&request.evidence, &results, &inputs.evidence)?;
    read_back(&request.evidence, inputs.evidence.check())?;
    if let Some(waivers) = &inputs.waivers {
        apply_waivers(&mut results, waivers);
    }
    Ok(inputs.with(results))
}

/// [`evaluate_inputs`], the items written to disk a pass at a time
/// ([`StoredResults`]): what `report` evaluates with, so that its memory
/// holds a pass of accounts and a control's items, not the organization's.
fn evaluate_inputs_stored(
    request: &ReportRequest,
) -> Result<Evaluated<StoredResults>, PipelineError> {
    let inputs = read_inputs(request)?;
    let temporary = |source| PipelineError::Output {
        path: std::env::temp_dir(),
        source,
    };
    let mut results = evaluate_stored(
        &inputs.controls,
        &inputs.config,
        &inputs.store,
        &inputs.org,
        &inputs.run,
    )
    .map_err(temporary)?;
    check_read_once(&request.evidence, &results, &inputs.evidence)?;
    read_back(&request.evidence, inputs.evidence.check())?;
    if let Some(waivers) = &inputs.waivers {
        results.apply_waivers(waivers).map_err(temporary)?;
    }
    read_back(&request.evidence, results.check())?;
    Ok(inputs.with(results))
}

/// Refuses evidence that changed while `report` read it: the index reads every
/// file once and evaluation reads what its controls bind, an account at a
/// time, so each file the results cite must hash as the index (and so the
/// bundle's manifest, which hashes the same files) says.
fn check_read_once(
    root: &Path,
    results: &impl ResultsSource,
    index: &EvidenceIndex,
) -> Result<(), PipelineError> {
    // Attachments are read and hashed apart (`check_attachments`), not indexed.
    let attachment =
        |path: &str| Path::new(path).starts_with(crate::evidence::attachments::ATTACHMENTS_DIR);
    for c in results.controls() {
        let cited = (c.results.iter().flat_map(|i| i.evidence.iter()))
            .chain(c.out_of_scope.iter().map(|o| &o.evidence));
        for evidence in cited.filter(|e| !attachment(&e.path)) {
            let indexed = index.find(&evidence.path).map(|e| e.sha256);
            if indexed.as_deref() != Some(evidence.sha256.as_str()) {
                return Err(PipelineError::Input {
                    path: root.join(&evidence.path),
                    message: "changed while auditpack read it (the evidence folder must not change during report); run report again".into(),
                });
            }
        }
    }
    Ok(())
}

/// Fails when a read of one of `report`'s temporary files (the evidence
/// index, the results' items) failed since its last check (`checked`): what
/// read it then saw part of it.
fn read_back(root: &Path, checked: std::io::Result<()>) -> Result<(), PipelineError> {
    checked.map_err(|source| PipelineError::Output {
        path: root.to_path_buf(),
        source,
    })
}

/// Refuses a `run.json` or `org.json` of another schema version: read as
/// version 1, its fields could mean something else (docs/evidence-format.md).
fn check_version(path: &Path, found: u32) -> Result<(), PipelineError> {
    if found == crate::evidence::SCHEMA_VERSION {
        return Ok(());
    }
    Err(PipelineError::Input {
        path: path.to_path_buf(),
        message: format!(
            "schema_version {found}; this auditpack reads version {}",
            crate::evidence::SCHEMA_VERSION
        ),
    })
}

/// Refuses an `org.json` that lists an account more than once (see
/// [`Org::repeated_account_ids`]), naming the accounts.
fn check_accounts_once(path: &Path, org: &Org) -> Result<(), PipelineError> {
    let repeated = org.repeated_account_ids();
    if repeated.is_empty() {
        return Ok(());
    }
    Err(PipelineError::Input {
        path: path.to_path_buf(),
        message: format!(
            "account {} is listed more than once; an organization holds each account once",
            repeated.join(", ")
        ),
    })
}

/// Refuses an `org.json` whose accounts or states differ from the recorded
/// `ListAccounts` answer (see `crate::evidence::org_check`); says on the
/// console when there is no answer to compare with.
fn check_org_against_discovery(
    path: &Path,
    store: &EvidenceStore,
    org: &Org,
) -> Result<(), PipelineError> {
    use crate::evidence::org_check::{check_org_against_discovery, OrgCheck};
    match check_org_against_discovery(store, org) {
        Ok(OrgCheck::Matched) => Ok(()),
        Ok(OrgCheck::NotRecorded(why)) => {
            tracing::warn!("org.json not cross-checked against discovery: {why}");
            Ok(())
        }
        Err(mismatch) => Err(PipelineError::Input {
            path: path.to_path_buf(),
            message: mismatch.0,
        }),
    }
}

/// Runs evaluation and writes every output, signing the bundle's tag manifest
/// with `signer` when given (see `crate::custody::signature`).
pub fn run_report(
    request: &ReportRequest,
    signer: Option<&dyn crate::outputs::bagit::TagManifestSigner>,
) -> Result<ReportOutcome, PipelineError> {
    // Phase times at debug level (`RUST_LOG=auditpack=debug`), read by bench/report-scale.sh.
    let started = std::time::Instant::now();
    let Evaluated {
        results,
        controls,
        run,
        org,
        evidence,
    } = evaluate_inputs_stored(request)?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        peak_mb = memory_mb("VmHWM:"),
        "evaluated"
    );
    let timestamp = zip_time(&run.finished_at).ok_or_else(|| PipelineError::Input {
        path: request.evidence.join("run.json"),
        message: format!(
            "finished_at '{}' is not an RFC 3339 time between 1980 and 2107",
            run.finished_at
        ),
    })?;

    let name = bag_name(&org.organization.id, &run.period);
    let input = ReportInput {
        results: &results,
        org: &org,
        run: &run,
        evidence: &evidence,
        bundle_name: &name,
        ipe: Default::default(),
    };
    let mut bag = Bag::default();
    // Attachments are evidence like the envelopes: bagged and hashed (the
    // envelopes are bagged once the outputs that read the evidence index are
    // written, from the index as it is dropped).
    for a in &results.head().attachments {
        for file in [&a.file, &a.metadata_file] {
            bag.add_evidence(&request.evidence, file);
        }
    }
    bag.add("org.json", Content::File(request.evidence.join("org.json")));
    bag.add("run.json", Content::File(request.evidence.join("run.json")));
    for control in &controls {
        let file = control
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        bag.add(
            &format!("controls/{file}"),
            Content::Bytes(control.source_text.clone().into_bytes()),
        );
    }
    if let Some(config) = &request.config {
        bag.add("auditpack.toml", Content::File(config.clone()));
    }
    if let Some(waivers) = &request.waivers {
        bag.add("waivers.toml", Content::File(waivers.clone()));
    }
    std::fs::create_dir_all(&request.out).map_err(|source| PipelineError::Output {
        path: request.out.clone(),
        source,
    })?;
    // Each output is streamed to the out folder (under its temporary name)
    // as it is made, one at a time, and bagged from there: the bundle writer
    // reads files, so no output is ever a value in memory, held twice or
    // kept once written.
    let mut outputs = Outputs::new(&request.out);
    // The outputs are written on two threads, each output one core's work
    // (the machine has two): results.json, then the workbook (a quarter of
    // the outputs' time) on one; the IPE sheets, the page, OSCAL, ipe.json
    // and the CSV and CI files on this one. Each reads the results' items a
    // piece at a time where a control's items are many (results.json, the
    // IPE sheets, the workbook, OSCAL), so the two together hold little more
    // than one. OSCAL waits for results.json's hash (it seeds its UUIDs).
    let results_file = outputs.stage("results.json");
    let workbook = outputs.stage("results.xlsx");
    let report_path = std::thread::scope(|scope| {
        let (hash_sent, hash) = std::sync::mpsc::channel();
        let (input, results) = (&input, &results);
        let (results_file, workbook) = (&results_file, &workbook);
        let second = scope.spawn(move || {
            let started = std::time::Instant::now();
            let mut results_hash = Sha256::new();
            write_file(&results_file.tmp, &results_file.path, |file| {
                let hashing = Hashing::new(file, &mut results_hash);
                Ok(crate::outputs::results_json::write_results(
                    results, hashing,
                )?)
            })?;
            debug_took("results.json (beside the IPE sheets)", started);
            // Received unless this thread's first output failed.
            let _ = hash_sent.send(results_hash);
            let started = std::time::Instant::now();
            write_file(&workbook.tmp, &workbook.path, |file| {
                Ok(crate::outputs::xlsx::write_xlsx(input, file)?)
            })?;
            debug_took(
                "results.xlsx (after results.json, beside the others)",
                started,
            );
            Ok::<(), PipelineError>(())
        });
        let first = write_beside_workbook(&mut outputs, &mut bag, input, request, &hash);
        let second = match second.join() {
            Ok(written) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // The other thread's failure first: without results.json's hash
        // this one stopped too.
        second.and(first)
    })?;
    let results_path = results_file.path;
    bag.add("results.json", Content::File(results_file.tmp));
    bag.add("results.xlsx", Content::File(workbook.tmp));
    let coverage = crate::evidence::coverage::coverage(&org, evidence.iter().map(|e| e.path));
    bag.add(
        "coverage.json",
        Content::Bytes(crate::evidence::coverage::coverage_json(&coverage)),
    );
    for entry in evidence.iter() {
        bag.add_evidence(&request.evidence, &entry.path);
    }
    read_back(&request.evidence, evidence.check())?;
    drop(evidence);
    outputs.debug_phase("the workbook's thread joined; the evidence index dropped");
    // Every output is written: a read of the results' file that failed
    // while they were made fails the report here, before it is published.
    read_back(&request.evidence, results.check())?;
    let verdicts = VerdictSummary::of(results.head());
    drop(results);
    outputs.debug_phase("results dropped");
    let info = BagInfo {
        name: name.clone(),
        organization_id: org.organization.id.clone(),
        period: run.period.clone(),
        period_dates: (run.period_dates.as_ref()).map(|d| format!("{}/{}", d.start, d.end)),
        bagging_date: run.finished_at.get(..10).unwrap_or_default().to_string(),
        collection_window: format!("{}/{}", run.started_at, run.finished_at),
        extra: Vec::new(),
        description: None,
    };
    let bundle_path = request.out.join(format!("{name}.zip"));
    // Registered before it is written, so a failure part-way removes it too.
    let staged_bundle = bundle_path.with_extension("zip.partial");
    outputs
        .staged
        .push((staged_bundle.clone(), bundle_path.clone()));
    write_bundle(&bag, &info, timestamp, &staged_bundle, signer)?;
    outputs.debug_phase("the bundle");
    let bundle_sha256 = file_sha256(&staged_bundle).map_err(|source| PipelineError::Output {
        path: bundle_path.clone(),
        source,
    })?;
    outputs.publish()?;
    Ok(ReportOutcome {
        verdicts,
        results_path,
        report_path,
        bundle_path,
        bundle_sha256,
    })
}

/// The outputs written while results.json and the workbook are (see
/// [`run_report`]), one after another: the IPE sheets, the page (both
/// copies), OSCAL (once `results_hash` gives results.json's hash), ipe.json,
/// then the CSV and CI files. Returns the out folder's report.html.
fn write_beside_workbook(
    outputs: &mut Outputs,
    bag: &mut Bag,
    input: &ReportInput<'_>,
    request: &ReportRequest,
    results_hash: &std::sync::mpsc::Receiver<Sha256>,
) -> Result<PathBuf, PipelineError> {
    // The IPE sheets (the page's section 7, a workbook sheet, ipe.json) are
    // made once, here, before the page's view is held.
    input.ipe_sheets();
    outputs.debug_phase("the IPE sheets");
    let report_path = write_pages(outputs, bag, input, request)?;
    outputs.debug_phase("report.html (out-folder and bundle copies)");
    let results_hash = results_hash.recv().map_err(|_| PipelineError::Output {
        path: request.out.join("results.json"),
        source: std::io::Error::other("results.json was not written"),
    })?;
    outputs.write_bagged_with(bag, "oscal-assessment-results.json", |file| {
        Ok(crate::outputs::oscal::write_oscal(
            input,
            results_hash,
            file,
        )?)
    })?;
    outputs.debug_phase("oscal-assessment-results.json");
    let ipe = crate::outputs::ipe::ipe_json(input.ipe_sheets());
    outputs.write_bagged(bag, "ipe.json", &ipe)?;
    drop(ipe);
    let results = input.results;
    outputs.write_bagged_with(bag, "results.csv", |file| {
        Ok(crate::outputs::csv_export::write_results_csv(
            results, file,
        )?)
    })?;
    let inventory_csv = crate::outputs::csv_export::inventory_csv(input.org);
    outputs.write_bagged(bag, "inventory.csv", &inventory_csv)?;
    outputs.write_bagged_with(bag, "changes.csv", |file| {
        Ok(crate::outputs::changes_csv::write_changes_csv(
            results, file,
        )?)
    })?;
    write_ci_outputs(outputs, bag, results, request.fail_on)?;
    outputs.debug_phase("ipe.json, the CSV and CI files");
    Ok(report_path)
}

/// report.html twice, side by side (each control's items read once for
/// both): the bag's copy links inside the bag (`data/evidence/…`), the out
/// folder's to the evidence and controls folders this run read. Returns the
/// out folder's copy.
fn write_pages(
    outputs: &mut Outputs,
    bag: &mut Bag,
    input: &ReportInput<'_>,
    request: &ReportRequest,
) -> Result<PathBuf, PipelineError> {
    let beside = Links::beside(
        &request.out,
        &request.evidence,
        request.controls.folder.as_deref(),
    );
    let bag_copy = outputs.bag_only_file("report.html");
    let report_path = outputs
        .write_with("report.html", |page_beside| {
            let bagged = |page_in_bag: &mut Buffered| {
                let mut copies: [(&Links, &mut dyn Write); 2] = [
                    (&beside, &mut *page_beside),
                    (&Links::bundle(), page_in_bag),
                ];
                Ok(write_reports(input, &mut copies)?)
            };
            write_file(&bag_copy, &request.out.join("report.html"), bagged)
                .map_err(WriteFailure::Pipeline)
        })?
        .0;
    bag.add("report.html", Content::File(bag_copy));
    Ok(report_path)
}

/// Says at debug level that `what` was written, in the time since `started`,
/// with the memory now and the peak so far (also for an output written on a
/// thread of its own, outside the phases of [`Outputs::debug_phase`]).
fn debug_took(what: &str, started: std::time::Instant) {
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        rss_mb = memory_mb("VmRSS:"),
        peak_mb = memory_mb("VmHWM:"),
        "wrote {what}"
    );
}

/// Writes the files CI systems read: JUnit XML, SARIF and the Markdown
/// summary (its verdict decided at the run's `--fail-on`, as the gate
/// decides it), one at a time.
fn write_ci_outputs(
    outputs: &mut Outputs,
    bag: &mut Bag,
    results: &StoredResults,
    fail_on: Severity,
) -> Result<(), PipelineError> {
    let decision = crate::gate::decide(results.head(), fail_on);
    let summary = crate::outputs::markdown::summary_markdown(results, &decision);
    outputs.write_bagged(bag, "summary.md", summary.as_bytes())?;
    outputs.write_bagged_with(bag, "junit.xml", |file| {
        Ok(crate::outputs::junit::write_junit(results, file)?)
    })?;
    outputs.write_bagged_with(bag, "results.sarif", |file| {
        Ok(crate::outputs::sarif::write_sarif(results, file)?)
    })?;
    Ok(())
}

/// This process's memory in MB from `/proc/self/status` (`field`: `VmRSS:`
/// now, `VmHWM:` its peak so far), for the phase lines at debug level that
/// the benchmarks read; None off Linux.
fn memory_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix(field))?;
    let kilobytes: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kilobytes / 1024)
}

/// Why one output was not written: its file, or making what goes in it.
pub(crate) enum WriteFailure {
    /// Creating or writing the file failed.
    Io(std::io::Error),
    /// Making the content failed.
    Pipeline(PipelineError),
}

impl From<std::io::Error> for WriteFailure {
    fn from(error: std::io::Error) -> Self {
        WriteFailure::Io(error)
    }
}

impl From<ReportError> for WriteFailure {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Write(error) => WriteFailure::Io(error),
            other => WriteFailure::Pipeline(other.into()),
        }
    }
}

impl From<csv::Error> for WriteFailure {
    fn from(error: csv::Error) -> Self {
        match error.into_kind() {
            csv::ErrorKind::Io(error) => WriteFailure::Io(error),
            other => WriteFailure::Io(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

impl From<crate::outputs::xlsx::WorkbookError> for WriteFailure {
    fn from(error: crate::outputs::xlsx::WorkbookError) -> Self {
        WriteFailure::Pipeline(error.into())
    }
}

/// How an output's file is written: through a buffer.
type Buffered = std::io::BufWriter<std::fs::File>;

/// A writer that hashes what passes through it.
struct Hashing<'h, W> {
    inner: W,
    hash: &'h mut Sha256,
}

impl<'h, W> Hashing<'h, W> {
    fn new(inner: W, hash: &'h mut Sha256) -> Self {
        Hashing { inner, hash }
    }
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hash.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The outputs of one report, each written under a temporary name beside its
/// final one and put in place together only once every one of them (the
/// bundle included) was written: a failure part-way (a full disk while
/// zipping) leaves the previous report's outputs as they were, never a new
/// results.json beside an old bundle. Temporary files of a failed report are
/// removed.
pub(crate) struct Outputs {
    dir: PathBuf,
    /// (temporary, final) paths, in the order written.
    pub(crate) staged: Vec<(PathBuf, PathBuf)>,
    /// Temporary files only the bag holds, removed when done.
    bag_only: Vec<PathBuf>,
    /// When the last phase ended (see [`Outputs::debug_phase`]).
    phase: std::time::Instant,
}

impl Outputs {
    pub(crate) fn new(dir: &Path) -> Outputs {
        Outputs {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
            bag_only: Vec::new(),
            phase: std::time::Instant::now(),
        }
    }

    /// Says at debug level (`RUST_LOG=auditpack=debug`, read by the
    /// benchmarks) that `what` was written: how long it took since the last
    /// phase, the memory now and the peak so far.
    pub(crate) fn debug_phase(&mut self, what: &str) {
        debug_took(what, self.phase);
        self.phase = std::time::Instant::now();
    }

    /// Writes `name` under its temporary name; returns its final path.
    pub(crate) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf, PipelineError> {
        self.write_with(name, |file| Ok(file.write_all(bytes)?))
            .map(|(path, _)| path)
    }

    /// Writes `name` under its temporary name with `write`, through a
    /// buffer; returns its final and temporary paths.
    fn write_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut Buffered) -> Result<(), WriteFailure>,
    ) -> Result<(PathBuf, PathBuf), PipelineError> {
        let Staged { tmp, path } = self.stage(name);
        write_file(&tmp, &path, write)?;
        Ok((path, tmp))
    }

    /// The temporary and final paths of `name`, registered before it is
    /// written (by [`write_file`], on any thread), so a failure part-way
    /// removes it too.
    fn stage(&mut self, name: &str) -> Staged {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.partial"));
        self.staged.push((tmp.clone(), path.clone()));
        Staged { tmp, path }
    }

    /// [`Outputs::write`], and the file bagged as `data/<name>` from where
    /// it was written.
    fn write_bagged(
        &mut self,
        bag: &mut Bag,
        name: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, PipelineError> {
        self.write_bagged_with(bag, name, |file| Ok(file.write_all(bytes)?))
    }

    /// [`Outputs::write_with`], and the file bagged as `data/<name>`.
    fn write_bagged_with(
        &mut self,
        bag: &mut Bag,
        name: &str,
        write: impl FnOnce(&mut Buffered) -> Result<(), WriteFailure>,
    ) -> Result<PathBuf, PipelineError> {
        let (path, tmp) = self.write_with(name, write)?;
        bag.add(name, Content::File(tmp));
        Ok(path)
    }

    /// The temporary file for the bag's own copy of `name`, registered
    /// before it is written, so a failure part-way removes it too.
    fn bag_only_file(&mut self, name: &str) -> PathBuf {
        let tmp = self.dir.join(format!(".{name}.bagged.partial"));
        self.bag_only.push(tmp.clone());
        tmp
    }

    /// Puts every output in place (the bag-only files are removed on drop);
    /// a failed rename leaves it and the rest staged, for `drop` to remove.
    pub(crate) fn publish(mut self) -> Result<(), PipelineError> {
        let mut staged = std::mem::take(&mut self.staged).into_iter();
        while let Some((tmp, path)) = staged.next() {
            if let Err(source) = std::fs::rename(&tmp, &path) {
                self.staged.push((tmp, path.clone()));
                self.staged.extend(staged);
                return Err(PipelineError::Output { path, source });
            }
        }
        Ok(())
    }
}

/// An output's temporary file, and the path it is put at once every output
/// is written (see [`Outputs::publish`]).
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

/// Writes `tmp` with `write` through a buffer; a failure names `path`, the
/// output the file stands for.
fn write_file(
    tmp: &Path,
    path: &Path,
    write: impl FnOnce(&mut Buffered) -> Result<(), WriteFailure>,
) -> Result<(), PipelineError> {
    let written = std::fs::File::create(tmp)
        .map_err(WriteFailure::from)
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?;
            Ok(())
        });
    written.map_err(|failure| match failure {
        WriteFailure::Io(source) => PipelineError::Output {
            path: path.to_path_buf(),
            source,
        },
        WriteFailure::Pipeline(error) => error,
    })
}

impl Drop for Outputs {
    fn drop(&mut self) {
        let staged = self.staged.iter().map(|(tmp, _)| tmp);
        for tmp in staged.chain(&self.bag_only) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

pub(crate) fn write_bundle(
    bag: &Bag,
    info: &BagInfo,
    timestamp: zip::DateTime,
    path: &Path,
    signer: Option<&dyn crate::outputs::bagit::TagManifestSigner>,
) -> Result<(), PipelineError> {
    let output = |source| PipelineError::Output {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(output)?;
    let file = bag.write_zip_signed(info, timestamp, std::io::BufWriter::new(file), signer)?;
    file.into_inner()
        .map_err(|e| output(e.into_error()))?
        .sync_all()
        .map_err(output)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::test_samples::{repo, samples};

    /// A cited file that hashes otherwise in the index was changed between
    /// the two reads (index, evaluation): refused, naming the file; cited
    /// attachments are hashed apart and not looked up in the index.
    #[test]
    fn evidence_cited_with_another_hash_than_indexed_is_refused_naming_the_file() {
        let e = samples();
        let root = repo().join("evidence-samples");
        check_read_once(&root, &e.results, &e.index).expect("the samples read once");
        let cites_attachment = (e.results.controls.iter())
            .flat_map(|c| c.results.iter().flat_map(|i| i.evidence.iter()))
            .any(|r| r.path.starts_with("attachments/"));
        assert!(cites_attachment, "the samples cite an attachment");
        let cited = e.results.controls[0].results[0].evidence[0].path.clone();
        let mut index = e.evidence.clone();
        let entry = index.iter_mut().find(|x| x.path == cited).unwrap();
        entry.sha256 = "0".repeat(64);
        let index = EvidenceIndex::of_entries(&index).unwrap();
        let error = check_read_once(&root, &e.results, &index).unwrap_err();
        assert!(error.is_input_error());
        let shown = error.to_string();
        assert!(
            shown.contains(&cited) && shown.contains("changed while"),
            "{shown}"
        );
    }
}
