//! End to end through the real binary: the samples become a bundle, the bundle
//! verifies, every kind of tampering is caught and named, two runs give the same
//! bytes, and bad input gets exit code 2 with the file named.

use std::path::{Path, PathBuf};
use std::process::Command;

use auditpack_core::custody::bag_check::verify_path;
use auditpack_core::outputs::bagit::file_sha256;

use crate::common::{
    auditpack, copy_tree, files_under, find_zip, read_json, relative, repo, report, run, samples,
    unzip,
};

/// Runs `report` on the samples into `out`, returning the bundle path.
fn report_samples(out: &Path) -> PathBuf {
    let reported = report(&samples(), out, &[]);
    let zip = reported.zip();
    let digest = file_sha256(&zip).unwrap();
    assert!(
        reported.run.last_line().starts_with(&digest),
        "last line gives the zip's SHA-256:\n{}",
        reported.run.stdout
    );
    zip
}

#[test]
fn samples_give_a_bundle_that_verifies() {
    let out = tempfile::tempdir().unwrap();
    let zip = report_samples(out.path());
    assert!(out.path().join("results.json").is_file());
    assert!(out.path().join("report.html").is_file());
    let r = run(auditpack().arg("verify").arg(&zip));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("OK:"), "{}", r.stdout);

    let bag = unzip(&zip, &out.path().join("unzipped"));
    for expected in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        "data/results.json",
        "data/report.html",
        "data/org.json",
        "data/run.json",
        "data/results.csv",
        "data/inventory.csv",
    ] {
        assert!(bag.join(expected).is_file(), "{expected} is in the bag");
    }
    assert!(bag.join("data/controls").is_dir() && bag.join("data/evidence").is_dir());
    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(r.code, 0, "an unzipped bag verifies too: {}", r.stdout);
}

#[test]
fn standard_tools_check_the_unzipped_bag() {
    if Command::new("sha256sum").arg("--version").output().is_err() {
        eprintln!("sha256sum is not installed; skipping");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let bag = unzip(&report_samples(out.path()), &out.path().join("unzipped"));
    for manifest in ["manifest-sha256.txt", "tagmanifest-sha256.txt"] {
        let check = Command::new("sha256sum")
            .args(["--quiet", "--strict", "-c", manifest])
            .current_dir(&bag)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "sha256sum -c {manifest}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

#[test]
fn two_runs_give_the_same_zip_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = std::fs::read(report_samples(a.path())).unwrap();
    let second = std::fs::read(report_samples(b.path())).unwrap();
    assert!(
        first == second,
        "bundles differ ({} vs {} bytes)",
        first.len(),
        second.len()
    );
}

#[test]
fn a_flipped_byte_in_any_file_is_caught_and_named() {
    let out = tempfile::tempdir().unwrap();
    let bag = unzip(&report_samples(out.path()), &out.path().join("unzipped"));
    let files = files_under(&bag);
    assert!(
        files.len() > 50,
        "the samples give a real bag ({} files)",
        files.len()
    );
    for file in &files {
        let original = std::fs::read(file).unwrap();
        let mut flipped = original.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x01;
        std::fs::write(file, &flipped).unwrap();
        let verification = verify_path(&bag).unwrap();
        std::fs::write(file, &original).unwrap();

        let rel = relative(&bag, file);
        let report: Vec<String> = verification
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(
            !verification.is_intact(),
            "flipping a byte of {rel} went unnoticed"
        );
        assert!(
            report.iter().any(|line| line.contains(&rel)),
            "flipping {rel} was reported without naming it: {report:?}"
        );
    }
    assert!(
        verify_path(&bag).unwrap().is_intact(),
        "restored bag verifies again"
    );
}

/// An attachment is evidence like the envelopes: editing one after bagging
/// (here, re-dating the stale vendor review so its manual control would
/// pass) is caught by verify, naming the file, and the bundle stops
/// re-evaluating to its recorded results.
#[test]
fn an_attachment_changed_after_bagging_is_caught_and_named() {
    let out = tempfile::tempdir().unwrap();
    let bag = unzip(&report_samples(out.path()), &out.path().join("unzipped"));
    let rel = "data/evidence/attachments/vendor-risk-review-2025.md.meta.toml";
    let meta = bag.join(rel);
    let text = std::fs::read_to_string(&meta).expect("the samples' vendor review is bagged");
    assert!(text.contains("date = 2025-06-30"), "{text}");
    std::fs::write(
        &meta,
        text.replace("date = 2025-06-30", "date = 2026-06-30"),
    )
    .unwrap();
    let verification = verify_path(&bag).unwrap();
    assert!(
        !verification.is_intact(),
        "a re-dated attachment went unnoticed"
    );
    let report: Vec<String> = (verification.problems.iter())
        .map(|p| p.to_string())
        .collect();
    assert!(report.iter().any(|l| l.contains(rel)), "{report:?}");
    // Through the binary: exit 1, the file named.
    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("vendor-risk-review-2025.md.meta.toml"),
        "{}",
        r.stdout
    );
}

#[test]
fn removed_and_added_files_are_named_with_exit_1() {
    let out = tempfile::tempdir().unwrap();
    let bag = unzip(&report_samples(out.path()), &out.path().join("unzipped"));
    let victim_path = files_under(&bag.join("data/evidence"))
        .into_iter()
        .next()
        .expect("evidence files");
    let victim = relative(&bag, &victim_path);
    let victim = victim.as_str();
    std::fs::remove_file(bag.join(victim)).unwrap();
    std::fs::write(bag.join("data/evidence/planted.json"), "{}").unwrap();
    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("missing: {victim}")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("extra: data/evidence/planted.json"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().last().unwrap().starts_with("FAILED"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_file_that_is_not_a_bundle_is_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.zip");
    std::fs::write(&text, "this is not a zip").unwrap();
    let r = run(auditpack().arg("verify").arg(&text));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("is not an auditpack bundle: not a readable zip"),
        "{}",
        r.stderr
    );

    let plain_zip = dir.path().join("plain.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&plain_zip).unwrap());
    zip.start_file(
        "folder/readme.txt",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, b"hello").unwrap();
    zip.finish().unwrap();
    let r = run(auditpack().arg("verify").arg(&plain_zip));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("has no bagit.txt"), "{}", r.stderr);

    let r = run(auditpack().arg("verify").arg(dir.path().join("absent.zip")));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn path_traversal_entries_are_refused_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("evil.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&evil).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("bag/bagit.txt", "BagIt-Version: 1.0\n"),
        ("bag/manifest-sha256.txt", ""),
        ("bag/../../escaped.txt", "gotcha"),
    ] {
        zip.start_file(name, options).unwrap();
        std::io::Write::write_all(&mut zip, body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let r = run(auditpack().arg("verify").arg(&evil).current_dir(dir.path()));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("unsafe entry: bag/../../escaped.txt"),
        "{}",
        r.stdout
    );
    assert!(
        !dir.path().join("escaped.txt").exists()
            && !dir.path().parent().unwrap().join("escaped.txt").exists()
    );
}

#[test]
fn a_broken_control_file_is_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "id = \"x.broken\"\ntitle = \"Broken\"\ntsc = [\"CC6.1\"\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--controls")
        .arg(dir.path())
        .arg("--out")
        .arg(out.path()));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("broken.toml:3:"), "{}", r.stderr);
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing is written when the input is broken"
    );

    let r = run(auditpack()
        .args(["controls", "lint", "--controls"])
        .arg(dir.path()));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("broken.toml:3:"), "{}", r.stderr);
}

#[test]
fn untrusted_names_in_evidence_are_escaped_in_the_report() {
    let out = tempfile::tempdir().unwrap();
    report_samples(out.path());
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    // The samples' sandbox OU is named `Sandbox <script>alert('ou')`.
    let org = std::fs::read_to_string(samples().join("org.json")).unwrap();
    assert!(
        org.contains("<script>alert('ou')"),
        "the samples carry the HTML payload"
    );
    assert!(
        !html.contains("<script>alert("),
        "an OU name is inserted raw"
    );
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the OU name is shown, escaped"
    );
    for external in ["http://", "https://", "<link", "src=\"http"] {
        assert!(
            !html.contains(external),
            "the report must be self-contained, found {external}"
        );
    }
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own inline script"
    );
    assert!(!html.contains("<script src"), "no external script");
}

#[test]
fn controls_lint_and_list_work_on_the_catalog() {
    let r = run(auditpack().args(["controls", "lint"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("OK:"), "{}", r.stdout);
    let r = run(auditpack().args(["controls", "list"]));
    assert_eq!(r.code, 0);
    for id in [
        "cloudtrail.org-trail",
        "logarchive.immutable",
        "guardduty.coverage",
    ] {
        assert!(r.stdout.contains(id), "{id} listed:\n{}", r.stdout);
    }
}

#[test]
fn a_control_dropped_into_a_custom_folder_is_evaluated() {
    let controls = tempfile::tempdir().unwrap();
    std::fs::write(
        controls.path().join("custom.versioned-buckets.toml"),
        r#"id = "custom.versioned-buckets"
title = "Every log-archive bucket is versioned"
tsc = ["A1.2"]
severity = "low"
objective = "A custom control written without Rust."
procedure = "List the log-archive buckets and inspect their versioning."
remediation = "Enable versioning on the log-archive buckets."
[scope]
accounts = "log-archive"
regions = "global"
[evidence]
buckets = { source = "s3:ListBuckets" }
versioning = { source = "s3:GetBucketVersioning", qualifier = "*" }
[[assertions]]
id = "versioned"
requirement = "Versioning is enabled"
for_each = "buckets.Buckets.map(b, b.Name)"
as = "bucket"
expect = "has(versioning[bucket].Status) && versioning[bucket].Status == 'Enabled'"
"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let controls = controls.path().to_str().unwrap();
    let results = report(&samples(), out.path(), &["--controls", controls]).results();
    let custom = results["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "custom.versioned-buckets")
        .expect("evaluated");
    // The samples' access-log bucket is not versioned: a real verdict, not a default.
    assert_eq!(custom["status"], "FAIL", "{custom}");
    assert!(
        custom["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("acme-access-logs"),
        "{custom}"
    );
    // Added to the built-in catalog, each control with its origin and hash.
    let all = results["controls"].as_array().unwrap();
    let builtin = crate::common::catalog_files().len();
    assert_eq!(all.len(), builtin + 1);
    assert_eq!(custom["origin"], "custom");
    assert!(all
        .iter()
        .filter(|c| c["id"] != "custom.versioned-buckets")
        .all(|c| c["origin"] == "built-in"));
    let file = std::path::Path::new(controls).join("custom.versioned-buckets.toml");
    let hash = auditpack_core::outputs::bagit::file_sha256(&file).unwrap();
    assert_eq!(custom["file_sha256"], hash.as_str());
}

#[test]
fn a_disabled_control_shows_its_written_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("auditpack.toml");
    std::fs::write(&config, "[controls.\"iam.password-policy\"]\nenabled = false\nreason = \"All access is through IAM Identity Center (SEC-142).\"\n").unwrap();
    let out = dir.path().join("out");
    let r = report(&samples(), &out, &["--config", config.to_str().unwrap()]).run;
    assert!(r.stdout.contains("1 DISABLED"), "{}", r.stdout);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("All access is through IAM Identity Center (SEC-142)."));
}

#[test]
fn the_docs_list_every_control() {
    let docs = std::fs::read_to_string(repo().join("docs/controls.md")).unwrap();
    for f in std::fs::read_dir(repo().join("controls")).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".toml") {
            assert!(
                docs.contains(&format!("| `{id}` |")),
                "docs/controls.md has no row for {id}"
            );
        }
    }
}

#[test]
fn the_gate_gives_the_same_answer_for_a_bundle_and_its_results_and_refuses_a_tampered_one() {
    let out = tempfile::tempdir().unwrap();
    let zip = report_samples(out.path());
    let on_results = run(auditpack().arg("gate").arg(out.path().join("results.json")));
    let on_bundle = run(auditpack().arg("gate").arg(&zip));
    assert_eq!(
        on_results.code, 1,
        "the samples fail controls: {}",
        on_results.stdout
    );
    assert_eq!(
        (on_bundle.code, on_bundle.stdout.clone()),
        (on_results.code, on_results.stdout.clone())
    );
    assert!(
        on_results
            .stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("FAILED:")
            && on_results.stdout.contains("logarchive.immutable"),
        "{}",
        on_results.stdout
    );

    let bag = unzip(&zip, &out.path().join("unzipped"));
    let results = bag.join("data/results.json");
    let edited = std::fs::read_to_string(&results)
        .unwrap()
        .replace("\"FAIL\"", "\"PASS\"");
    std::fs::write(&results, edited).unwrap();
    let tampered = run(auditpack().arg("gate").arg(&bag));
    assert_eq!(tampered.code, 2, "{}{}", tampered.stdout, tampered.stderr);
    assert!(
        tampered.stderr.contains("refusing to gate"),
        "{}",
        tampered.stderr
    );
}

#[test]
fn csv_exports_have_a_row_per_result_and_per_account() {
    let out = tempfile::tempdir().unwrap();
    report_samples(out.path());
    let results = read_json(&out.path().join("results.json"));
    let expected_rows: usize = results["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["results"].as_array().unwrap().len().max(1))
        .sum();
    let mut reader = csv::Reader::from_path(out.path().join("results.csv")).unwrap();
    assert_eq!(reader.records().count(), expected_rows);
    let mut inventory = csv::Reader::from_path(out.path().join("inventory.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = inventory.records().map(|r| r.unwrap()).collect();
    let org = read_json(&samples().join("org.json"));
    assert_eq!(rows.len(), org["accounts"].as_array().unwrap().len());
    assert!(
        rows.iter().any(|r| r[5].contains("<script>alert('ou')")),
        "untrusted names survive CSV quoting intact"
    );
}

#[test]
fn the_example_config_is_valid() {
    let r = run(auditpack().args(["controls", "lint", "--config", "auditpack.example.toml"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_symbolic_link_in_the_evidence_folder_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    crate::common::copy_tree(&samples(), &evidence);
    // A forged answer outside the folder, linked in place of a real file: it
    // would be evaluated but never bundled or hashed.
    let real = walkdir::WalkDir::new(&evidence)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.path().ends_with("GetAccountSummary.json"))
        .expect("the samples hold an account summary")
        .into_path();
    let forged = tmp.path().join("forged.json");
    std::fs::copy(&real, &forged).unwrap();
    std::fs::remove_file(&real).unwrap();
    std::os::unix::fs::symlink(&forged, &real).unwrap();
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(&evidence)
        .arg("--out")
        .arg(tmp.path().join("out")));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    assert!(r.stderr.contains("GetAccountSummary.json"), "{}", r.stderr);
    assert!(!tmp.path().join("out").exists(), "nothing is written");
}

#[test]
fn run_json_or_org_json_of_another_schema_version_is_refused() {
    for file in ["run.json", "org.json"] {
        let tmp = tempfile::tempdir().unwrap();
        let evidence = tmp.path().join("evidence");
        crate::common::copy_tree(&samples(), &evidence);
        let path = evidence.join(file);
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        value["schema_version"] = 99.into();
        std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        let r = run(auditpack()
            .args(["report", "--evidence"])
            .arg(&evidence)
            .arg("--out")
            .arg(tmp.path().join("out")));
        assert_eq!(r.code, 2, "{file}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(file) && r.stderr.contains("schema_version 99"),
            "{file}: {}",
            r.stderr
        );
    }
}

/// An `--out` inside `--evidence`, however it is spelled, is refused before
/// anything is written: its outputs (and bundle) would be read as evidence by
/// the next report of that folder.
#[test]
fn an_out_folder_inside_the_evidence_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    copy_tree(&samples(), &evidence);
    let before = files_under(&evidence).len();
    let spellings = [
        evidence.join("out"),
        evidence.join("sub/../out"),
        tmp.path().join("evidence/./out2"),
    ];
    for out in spellings {
        let r = run(auditpack()
            .args(["report", "--evidence"])
            .arg(&evidence)
            .arg("--out")
            .arg(&out));
        assert_eq!(r.code, 2, "{}: {}{}", out.display(), r.stdout, r.stderr);
        assert!(
            r.stderr.contains("is inside the evidence folder"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(files_under(&evidence).len(), before, "nothing written");
    // Beside it is fine.
    report(&evidence, &tmp.path().join("out"), &[]);
}

/// A report that fails part-way (its bundle cannot be written) leaves the
/// previous report's outputs exactly as they were and no temporary file:
/// never a new results.json beside an old bundle.
#[test]
fn a_report_that_fails_part_way_leaves_the_previous_outputs_as_they_were() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    report(&samples(), &out, &[]);
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = files_under(dir)
            .into_iter()
            .map(|f| (relative(dir, &f), std::fs::read(&f).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&out);
    // A report that succeeded leaves no temporary file either (the bundle's
    // own report.html is written beside the outputs, then removed).
    let leftovers: Vec<&String> = (before.iter().map(|(name, _)| name))
        .filter(|name| name.contains(".partial") || name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The bundle's temporary name is taken (a folder): writing it fails.
    let blocker = find_zip(&out).with_extension("zip.partial");
    std::fs::create_dir(&blocker).unwrap();
    // A stricter parameter: the new results would differ from the old ones.
    let config = tmp.path().join("auditpack.toml");
    std::fs::write(
        &config,
        "[controls.\"iam.password-policy\"]\nparams = { min_length = 20 }\n",
    )
    .unwrap();
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(
        snapshot(&out),
        before,
        "the previous outputs, untouched, and no temporary file"
    );
}

/// A file whose name is not UTF-8 is refused by its name (shown with
/// replacement characters), not reported as missing; a whole-file problem
/// points at the file, not at a line 0.
#[test]
fn a_non_utf8_file_name_is_refused_by_name_and_file_errors_have_no_line_zero() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    copy_tree(&samples(), &evidence);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.json");
    std::fs::write(evidence.join("123456789012/global").join(name), "{}").unwrap();
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(&evidence)
        .arg("--out")
        .arg(tmp.path().join("out")));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("caf\u{fffd}.json has a name that is not UTF-8"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("No such file"), "{}", r.stderr);

    let empty = tmp.path().join("no-controls");
    std::fs::create_dir(&empty).unwrap();
    let r = run(auditpack()
        .args(["controls", "lint", "--controls"])
        .arg(&empty));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}: folder: no control files", empty.display())),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(":0:"), "{}", r.stderr);
}
