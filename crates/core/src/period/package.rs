//! The period package on disk: `period.json`, `period.csv` and `period.html`
//! in the output folder, and a reproducible BagIt zip holding them with every
//! run's `results.json` and `org.json` (under `data/runs/<bundle sha256>/`),
//! so that the verdicts can be re-derived from the package alone. Each run's
//! full bundle is referenced by SHA-256 (and locker key), not copied.

use std::collections::BTreeMap;
use std::path::Path;

use super::intake::Accepted;
use super::model::PeriodDoc;
use super::{package_name, PeriodError, PeriodOutcome};
use crate::custody::zip_file::open_zip;
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

/// Copies a run's `results.json` and `org.json` out of its bundle into the
/// staging folder as they are compressed there, each as a one-entry zip
/// named as the package will hold it (`<package>/data/runs/<sha256>/…`), so
/// that neither is inflated, deflated or held in memory again. The copies
/// are paired with the SHA-256 and size their verification gave.
///
/// A bundle whose entries no longer have the CRC-32 and size of the bytes
/// verified (it changed after it was read) gives `Ok(Err(reason))`: it is
/// excluded, not copied. Writing the staging folder failing is an error.
pub(crate) fn stage_run(
    staging: &Path,
    package: &str,
    bundle: &Path,
    run: &Accepted,
) -> Result<Result<Vec<(String, Content)>, String>, PeriodError> {
    let dir = staging.join(run_dir(&run.entry.sha256));
    let output = |path: &Path, source| PeriodError::Output {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| output(&dir, e))?;
    let mut archive = match open_zip(bundle) {
        Ok(Ok(archive)) => archive,
        Ok(Err(e)) => return Ok(Err(format!("unreadable when copied: {e}"))),
        Err(e) => return Ok(Err(format!("unreadable when copied: {e}"))),
    };
    let mut staged = Vec::new();
    for file in &run.copies {
        let inside = format!("{}/data/{}", run.bag, file.name);
        let entry = match archive.by_name_raw(inside.as_bytes()) {
            Ok(entry) if entry.crc32() == file.crc32 && entry.size() == file.size => entry,
            Ok(_) => {
                return Ok(Err(format!(
                    "data/{}: changed after it was verified (not copied)",
                    file.name
                )))
            }
            Err(e) => {
                return Ok(Err(format!(
                    "data/{}: unreadable when copied ({e})",
                    file.name
                )))
            }
        };
        let path = format!("{}/{}", run_dir(&run.entry.sha256), file.name);
        let target = dir.join(format!("{}.zip", file.name));
        let temporary = tempfile::NamedTempFile::new_in(&dir).map_err(|e| output(&dir, e))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(temporary.as_file()));
        zip.raw_copy_file_rename(entry, format!("{package}/data/{path}"))
            .and_then(|()| zip.finish().map(drop))
            .map_err(|e| output(&target, std::io::Error::other(e)))?;
        // Renamed into place whole: a duplicate run staged at the same time
        // writes the same bytes to the same name.
        temporary
            .persist(&target)
            .map_err(|e| output(&target, e.error))?;
        staged.push((
            path,
            Content::Deflated {
                zip: target,
                sha256: file.sha256.clone(),
                size: file.size,
            },
        ));
    }
    Ok(Ok(staged))
}

/// `period.json` as written: pretty, with a final newline.
pub fn period_json(doc: &PeriodDoc) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).expect("period.json serializes");
    bytes.push(b'\n');
    bytes
}

/// Writes every output and the package zip, all or nothing.
pub(crate) fn write_package(
    doc: &PeriodDoc,
    mut staged: BTreeMap<String, Content>,
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
            let content = staged.remove(&file).ok_or_else(|| {
                PeriodError::Input(format!("{}: {file} was not staged", run.bundle))
            })?;
            bag.add(&file, content);
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
    if path.is_dir() {
        return std::fs::read_to_string(path.join("bag-info.txt")).ok();
    }
    let in_top_folder = |n: &str| n.matches('/').count() == 1 && n.ends_with("/bag-info.txt");
    let bytes = crate::custody::bag_check::read_zip_entry(path, in_top_folder, 64 * 1024)?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::intake::VerifiedFile;
    use crate::period::model::RunEntry;
    use std::io::{Read, Write};

    const RESULTS: &[u8] = b"{\"controls\": []}\n";
    const ORG: &[u8] = b"{\"accounts\": []}\n";

    /// A run bundle holding `results.json` and `org.json`, and the run as
    /// its verification accepted it.
    fn bundle_and_run(dir: &Path) -> (std::path::PathBuf, Accepted) {
        let path = dir.join("run.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (name, body) in [("results.json", RESULTS), ("org.json", ORG)] {
            zip.start_file(
                format!("runbag/data/{name}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap();
        let verified = |name: &'static str, body: &[u8]| VerifiedFile {
            name,
            sha256: crate::evidence::sha256_hex(body),
            size: body.len() as u64,
            crc32: crc32fast::hash(body),
        };
        let run = Accepted {
            entry: RunEntry {
                bundle: "run.zip".into(),
                sha256: "ab".repeat(32),
                locker_key: None,
                started_at: "2026-10-01T02:00:00Z".into(),
                finished_at: "2026-10-01T02:30:00Z".into(),
                signers: Vec::new(),
                controls: [0; 5],
            },
            results: serde_json::from_str(
                r#"{"schema_version": 2, "organization_id": "o-x",
                    "collection_window": {"start": "a", "end": "b"}, "controls": []}"#,
            )
            .unwrap(),
            org: serde_json::from_str(r#"{"accounts": []}"#).unwrap(),
            bag: "runbag".into(),
            copies: [verified("results.json", RESULTS), verified("org.json", ORG)],
        };
        (path, run)
    }

    #[test]
    fn a_run_s_files_are_staged_as_compressed_under_their_package_names() {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, run) = bundle_and_run(dir.path());
        let staged = stage_run(dir.path(), "pkg", &bundle, &run)
            .unwrap()
            .unwrap();
        let dir_name = run_dir(&run.entry.sha256);
        let paths: Vec<&str> = staged.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                format!("{dir_name}/results.json"),
                format!("{dir_name}/org.json")
            ]
        );
        let Content::Deflated { zip, sha256, size } = &staged[0].1 else {
            panic!("not a deflated copy: {:?}", staged[0].1);
        };
        assert_eq!(
            (sha256.as_str(), *size),
            (run.copies[0].sha256.as_str(), RESULTS.len() as u64)
        );
        let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(
            entry.name().unwrap().into_owned(),
            format!("pkg/data/{dir_name}/results.json")
        );
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        assert_eq!(body, RESULTS);
    }

    #[test]
    fn a_bundle_changed_after_it_was_verified_is_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, mut run) = bundle_and_run(dir.path());
        // The verification read other bytes than the bundle now holds.
        run.copies[1].crc32 ^= 1;
        let reason = stage_run(dir.path(), "pkg", &bundle, &run)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            reason,
            "data/org.json: changed after it was verified (not copied)"
        );
    }
}
