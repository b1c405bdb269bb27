//! The period package on disk: `period.json`, `period.csv` and `period.html`
//! in the output folder, and a reproducible BagIt zip holding them with every
//! run's `results.json` and `org.json` (under `data/runs/<bundle sha256>/`),
//! so that the verdicts can be re-derived from the package alone. Each run's
//! full bundle is referenced by SHA-256 (and locker key), not copied.

use std::path::{Path, PathBuf};

use super::intake::Accepted;
use super::model::PeriodDoc;
use super::{package_name, PeriodError, PeriodOutcome};
use crate::outputs::bagit::{file_sha256, zip_time, Bag, BagInfo, Content, TagManifestSigner};
use crate::report::{write_bundle, Outputs};

/// The `bag-info.txt` field that marks a period package.
pub const PACKAGE_FIELD: &str = "Auditpack-Package";
/// Its value.
pub const PACKAGE_KIND: &str = "period";

/// Where a run's copies live inside the package (and the staging folder).
pub fn run_dir(sha256: &str) -> String {
    format!("runs/{sha256}")
}

/// Writes a run's `results.json` and `org.json` to the staging folder, so
/// that their bytes leave memory before the next run is read.
pub fn stage_run(staging: &Path, run: &Accepted) -> Result<(), PeriodError> {
    let dir = staging.join(run_dir(&run.entry.sha256));
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(&path, bytes))
            .map_err(|source| PeriodError::Output { path, source })
    };
    write("results.json", &run.results_bytes)?;
    write("org.json", &run.org_bytes)
}

/// `period.json` as written: pretty, with a final newline.
pub fn period_json(doc: &PeriodDoc) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).expect("period.json serializes");
    bytes.push(b'\n');
    bytes
}

/// Writes every output and the package zip, all or nothing.
pub fn write_package(
    doc: &PeriodDoc,
    staging: &Path,
    out: &Path,
    signer: Option<&dyn TagManifestSigner>,
) -> Result<PeriodOutcome, PeriodError> {
    let json = period_json(doc);
    let csv = super::csv::period_csv(doc);
    let html = super::html::period_html(doc).into_bytes();
    let mut bag = Bag::default();
    bag.add("period.json", Content::Bytes(json.clone()));
    bag.add("period.csv", Content::Bytes(csv.clone()));
    bag.add("period.html", Content::Bytes(html.clone()));
    for run in &doc.runs {
        let dir = run_dir(&run.sha256);
        for name in ["results.json", "org.json"] {
            let file = format!("{dir}/{name}");
            bag.add(&file, Content::File(staging.join(&file)));
        }
    }
    let name = package_name(&doc.organization_id, &doc.period.label);
    // The newest run's end: the same runs give the same bytes, whenever built.
    let last = doc
        .runs
        .iter()
        .map(|r| r.finished_at.as_str())
        .max()
        .unwrap_or(&doc.period.end);
    let timestamp = zip_time(last)
        .or_else(|| zip_time(&doc.period.end))
        .ok_or_else(|| {
            PeriodError::Input(format!("run time '{last}' is not between 1980 and 2107"))
        })?;
    let info = BagInfo {
        name: name.clone(),
        organization_id: doc.organization_id.clone(),
        period: doc.period.label.clone(),
        period_dates: Some(format!("{}/{}", doc.period.start, doc.period.end)),
        bagging_date: last.get(..10).unwrap_or_default().to_string(),
        collection_window: format!(
            "{}/{}",
            doc.runs
                .first()
                .map(|r| r.started_at.as_str())
                .unwrap_or_default(),
            last
        ),
        extra: vec![
            (PACKAGE_FIELD.into(), PACKAGE_KIND.into()),
            ("Period-Runs".into(), doc.runs.len().to_string()),
            (
                "Period-Excluded-Bundles".into(),
                doc.excluded.len().to_string(),
            ),
        ],
        description: Some(format!(
            "SOC 2 Type II period package for AWS Organization {}, period {}: {} runs",
            doc.organization_id,
            doc.period.label,
            doc.runs.len()
        )),
    };
    let mut outputs = Outputs::new(out);
    let json_path = outputs.write("period.json", &json)?;
    outputs.write("period.csv", &csv)?;
    let html_path = outputs.write("period.html", &html)?;
    let bundle_path = out.join(format!("{name}.zip"));
    let staged = bundle_path.with_extension("zip.partial");
    outputs.staged.push((staged.clone(), bundle_path.clone()));
    write_bundle(&bag, &info, timestamp, &staged, signer)?;
    let bundle_sha256 = file_sha256(&staged).map_err(|source| PeriodError::Output {
        path: bundle_path.clone(),
        source,
    })?;
    outputs.publish()?;
    Ok(PeriodOutcome {
        doc: doc.clone(),
        json_path,
        html_path,
        bundle_path,
        bundle_sha256,
    })
}

/// The text of a bag's `bag-info.txt` (zip or folder), unverified.
pub fn bag_info_text(path: &Path) -> Option<String> {
    use std::io::Read;
    if path.is_dir() {
        return std::fs::read_to_string(path.join("bag-info.txt")).ok();
    }
    let file = std::fs::File::open(path).ok()?;
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let name: PathBuf = (0..archive.len()).find_map(|i| {
        let entry = archive.by_index(i).ok()?;
        let n = entry.name().ok()?.to_string();
        (n.matches('/').count() == 1 && n.ends_with("/bag-info.txt")).then(|| PathBuf::from(n))
    })?;
    let mut text = String::new();
    archive
        .by_name(&name.to_string_lossy())
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}
