//! Hostile and unlucky input (#15), through the real binary: zip bombs and
//! oversized bundles, symbolic links and duplicated names in a zip, file names
//! a manifest line cannot hold as written, collection windows that cannot be
//! aged, an `org.json` listing an account twice, and a reader that closes the
//! pipe early. Each test fails on the behaviour before the fix.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use auditpack_core::custody::check::{verify_bundle, VerifyOptions};
use auditpack_core::custody::signature::Trust;
use auditpack_core::outputs::bagit::file_sha256;
use serde_json::Value;
use zip::write::SimpleFileOptions;

use crate::common::{auditpack, copy_tree, read_json, report, run, samples, write_json, Run};

/// One control over `iam:GetAccountSummary` (in every sample account), so
/// these tests do not depend on the repository's control catalog.
const CONTROL: &str = r#"
id = "test.root-mfa"
title = "Root MFA"
tsc = ["CC6.1"]
severity = "high"
objective = "Root has MFA."
procedure = "Inspect the account summary."
remediation = "Enable MFA on the root user."
[scope]
accounts = "all"
regions = "global"
[evidence]
summary = { source = "iam:GetAccountSummary" }
[[assertions]]
id = "mfa"
requirement = "Root MFA is enabled"
expect = "summary.SummaryMap.AccountMFAEnabled == 1"
"#;

/// A controls folder holding [`CONTROL`].
fn controls(dir: &Path) -> PathBuf {
    let folder = dir.join("controls");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("test.root-mfa.toml"), CONTROL).unwrap();
    folder
}

/// The samples, copied to `dir/evidence` for a test to edit.
fn sample_evidence(dir: &Path) -> PathBuf {
    let evidence = dir.join("evidence");
    copy_tree(&samples(), &evidence);
    evidence
}

/// `auditpack report` of `evidence` with [`CONTROL`]; the bundle zip.
fn bundle_of(dir: &Path, evidence: &Path) -> PathBuf {
    let controls = controls(dir);
    report(
        evidence,
        &dir.join("out"),
        &[
            "--no-builtin-controls",
            "--controls",
            controls.to_str().unwrap(),
        ],
    )
    .zip()
}

/// SHA-256 of `bytes`, with auditpack's own file hasher.
fn sha256(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file_sha256(file.path()).unwrap()
}

/// A payload entry of a hand-made bag.
enum Entry<'a> {
    /// A regular file.
    File(&'a str, Vec<u8>),
    /// A symbolic link to the target (its content, as zip stores links).
    Link(&'a str, &'a str),
}

/// A minimal bag zip (`bag/` with bagit.txt, both manifests and `payload`,
/// every hash right): what verify's hash checks accept, so each test adds
/// exactly one hostile thing.
fn bag_zip(path: &Path, payload: &[Entry]) {
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let mut manifest = String::new();
    for entry in payload {
        match entry {
            Entry::File(name, bytes) => {
                zip.start_file(format!("bag/{name}"), options).unwrap();
                zip.write_all(bytes).unwrap();
                manifest.push_str(&format!("{}  {name}\n", sha256(bytes)));
            }
            Entry::Link(name, target) => {
                zip.add_symlink(format!("bag/{name}"), *target, options)
                    .unwrap();
                manifest.push_str(&format!("{}  {name}\n", sha256(target.as_bytes())));
            }
        }
    }
    let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    let mut tags = String::new();
    for (name, text) in [("bagit.txt", bagit), ("manifest-sha256.txt", &manifest)] {
        zip.start_file(format!("bag/{name}"), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
        tags.push_str(&format!("{}  {name}\n", sha256(text.as_bytes())));
    }
    zip.start_file("bag/tagmanifest-sha256.txt", options)
        .unwrap();
    zip.write_all(tags.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// `auditpack verify ZIP` with the environment `env`.
fn verify_with(zip: &Path, env: &[(&str, &str)]) -> crate::common::Run {
    let mut cmd = auditpack();
    cmd.arg("verify").arg(zip);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

#[test]
fn a_zip_bomb_is_refused_naming_the_entry_without_reading_it_whole() {
    // 64 MiB of zeros deflate to about 64 KB; the caps are 1 MB here so the
    // test is quick (the defaults are checked the same way). `verify` only
    // hashes the file as it streams by, so the total cap stops it; `gate`
    // holds results.json in memory, so the per-file cap stops it.
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bomb.zip");
    let zeros = vec![0u8; 64 << 20];
    bag_zip(&zip, &[Entry::File("data/results.json", zeros)]);
    assert!(std::fs::metadata(&zip).unwrap().len() < 1 << 20);
    let total = [("AUDITPACK_BAG_MAX_TOTAL_BYTES", "1000000")];
    let r = verify_with(&zip, &total);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("entry 'bag/data/results.json'")
            && r.stderr.contains("limit of 1000000 for all files together")
            && r.stderr.contains("AUDITPACK_BAG_MAX_TOTAL_BYTES"),
        "{}",
        r.stderr
    );
    let cap = [("AUDITPACK_BAG_MAX_FILE_BYTES", "1000000")];
    let mut gate = auditpack();
    gate.arg("gate").arg(&zip).envs(cap);
    let g = run(&mut gate);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("bag/data/results.json")
            && g.stderr
                .contains("limit of 1000000 for one file held in memory"),
        "{}",
        g.stderr
    );
}

#[test]
fn bundles_beyond_the_memory_total_or_entry_count_caps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("many.zip");
    let payload: Vec<Entry> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            let name: &str = Box::leak(format!("data/controls/{n}.toml").into_boxed_str());
            Entry::File(name, vec![b'#'; 600_000])
        })
        .collect();
    bag_zip(&zip, &payload);
    let r = verify_with(&zip, &[("AUDITPACK_BAG_MAX_MEMORY_BYTES", "1000000")]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("entry 'bag/data/controls/b.toml'")
            && r.stderr.contains("the files held in memory"),
        "{}",
        r.stderr
    );
    let r = verify_with(&zip, &[("AUDITPACK_BAG_MAX_TOTAL_BYTES", "1500000")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("all files together"), "{}", r.stderr);
    let r = verify_with(&zip, &[("AUDITPACK_BAG_MAX_FILES", "3")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the number of entries"), "{}", r.stderr);
    let r = verify_with(&zip, &[("AUDITPACK_BAG_MAX_FILES", "many")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("AUDITPACK_BAG_MAX_FILES=\"many\""),
        "{}",
        r.stderr
    );
    // Within the defaults the same bundle is read (and fails for what it lacks).
    let r = verify_with(&zip, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_symlink_entry_is_refused_naming_it_even_when_listed() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("link.zip");
    bag_zip(
        &zip,
        &[
            Entry::File("data/results.json", b"{}".to_vec()),
            Entry::Link("data/evidence/link.json", "/etc/passwd"),
        ],
    );
    let r = verify_with(&zip, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("symbolic link: bag/data/evidence/link.json (a bag holds regular files only"),
        "{}",
        r.stdout
    );
}

/// A bag zip whose entry `data/evidence/a.json` appears twice: `first`, then
/// `second` (written as `…/b.json` and renamed in the raw bytes, since zip
/// writers refuse a duplicate). The manifest lists `genuine`.
fn duplicated_zip(path: &Path, first: &[u8], second: &[u8], genuine: &[u8]) {
    let options = SimpleFileOptions::default();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in [("a", first), ("b", second)] {
        zip.start_file(format!("bag/data/evidence/{name}.json"), options)
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    let manifest = format!("{}  data/evidence/a.json\n", sha256(genuine));
    let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    let mut tags = String::new();
    for (name, text) in [("bagit.txt", bagit), ("manifest-sha256.txt", &manifest)] {
        zip.start_file(format!("bag/{name}"), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
        tags.push_str(&format!("{}  {name}\n", sha256(text.as_bytes())));
    }
    zip.start_file("bag/tagmanifest-sha256.txt", options)
        .unwrap();
    zip.write_all(tags.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let renamed = replace_all(
        &bytes,
        b"bag/data/evidence/b.json",
        b"bag/data/evidence/a.json",
    );
    std::fs::write(path, renamed).unwrap();
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = haystack.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn a_duplicated_entry_name_is_refused_whichever_copy_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let genuine: &[u8] = b"{\"status\":\"FAIL\"}";
    let forged: &[u8] = b"{\"status\":\"PASS\"}";
    for (order, first, second) in [
        ("forged-first", forged, genuine),
        ("genuine-first", genuine, forged),
    ] {
        let zip = dir.path().join(format!("{order}.zip"));
        duplicated_zip(&zip, first, second, genuine);
        let r = verify_with(&zip, &[]);
        assert_eq!(r.code, 1, "{order}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(
                "duplicate entry: bag/data/evidence/a.json (the zip holds this name more than once"
            ),
            "{order}: {}",
            r.stdout
        );
    }
}

/// A zip whose local header names a file otherwise than its central
/// directory: a tool that streams the zip (reading local headers, as `unzip`
/// does when the directory is damaged) would extract `forged.json` where
/// verify checked `a.json`. Refused as not a bundle (exit 2), naming both,
/// though every hash in the directory's view matches.
#[test]
fn a_local_header_that_names_another_file_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let intact = dir.path().join("intact.zip");
    bag_zip(
        &intact,
        &[Entry::File("data/evidence/a.json", b"{}".to_vec())],
    );
    // Read as a bundle: exit 1 only for what a bag this small lacks
    // (coverage.json, org.json), every hash matching.
    let r = verify_with(&intact, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("changed:"), "{}", r.stdout);
    let bytes = std::fs::read(&intact).unwrap();
    // The first copy of the name is the local header's; the second the
    // central directory's, left as it was.
    let name = b"bag/data/evidence/a.json";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    let mut forged = bytes.clone();
    forged[at + 18..at + 24].copy_from_slice(b"x.json");
    let zip = dir.path().join("forged.zip");
    std::fs::write(&zip, forged).unwrap();
    let r = verify_with(&zip, &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "'bag/data/evidence/a.json' is named 'bag/data/evidence/x.json' in its local header"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn file_names_with_line_breaks_or_percent_are_percent_encoded_and_the_bundle_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = sample_evidence(dir.path());
    // A copy of an envelope under a name with a line feed, a carriage return
    // and a percent sign (a qualifier can hold any of them).
    let iam = evidence.join("123456789012/global/iam");
    let odd = "GetAccountSummary.notes\nline two\r100%.json";
    std::fs::copy(iam.join("GetAccountSummary.json"), iam.join(odd)).unwrap();
    let zip = bundle_of(dir.path(), &evidence);
    let r = verify_with(&zip, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let bag = crate::common::unzip(&zip, &dir.path().join("unzipped"));
    let manifest = std::fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    assert!(
        manifest.contains("/iam/GetAccountSummary.notes%0Aline two%0D100%25.json\n"),
        "{manifest}"
    );
}

/// The sample bundle's run window, and a verify of it at `now` with `--max-age 30`.
fn verify_aged(zip: &Path, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let options = VerifyOptions {
        trust: Trust::default(),
        max_age_days: Some(30),
        now,
        reevaluate: false,
        keep_results: true,
    };
    verify_bundle(zip, &options).unwrap().problems
}

#[test]
fn max_age_refuses_a_window_that_starts_in_the_future_or_is_inverted() {
    let dir = tempfile::tempdir().unwrap();
    let zip = bundle_of(dir.path(), &sample_evidence(dir.path()));
    let run_json = read_json(&samples().join("run.json"));
    let started: chrono::DateTime<chrono::Utc> =
        run_json["started_at"].as_str().unwrap().parse().unwrap();
    let finished: chrono::DateTime<chrono::Utc> =
        run_json["finished_at"].as_str().unwrap().parse().unwrap();

    // A verifier whose clock is a day behind the collection: never "too old".
    let problems = verify_aged(&zip, started - chrono::Duration::days(1));
    assert!(
        problems.iter().any(|p| p.contains("in the future")),
        "{problems:?}"
    );
    // Within the clock skew (5 minutes) it is fine.
    let problems = verify_aged(&zip, started - chrono::Duration::minutes(4));
    assert!(problems.is_empty(), "{problems:?}");
    assert!(verify_aged(&zip, finished + chrono::Duration::days(1)).is_empty());

    // A window that ends before it starts.
    let inverted = dir.path().join("inverted");
    std::fs::create_dir_all(&inverted).unwrap();
    let evidence = sample_evidence(&inverted);
    let mut edited: Value = run_json.clone();
    edited["finished_at"] = Value::from(
        (started - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    write_json(&evidence.join("run.json"), &edited);
    let zip = bundle_of(&inverted, &evidence);
    let problems = verify_aged(&zip, finished + chrono::Duration::days(1));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("the collection window is inverted")),
        "{problems:?}"
    );
}

#[test]
fn an_org_json_listing_an_account_twice_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = sample_evidence(dir.path());
    let mut org = read_json(&evidence.join("org.json"));
    let accounts = org["accounts"].as_array_mut().unwrap();
    let mut twin = accounts[1].clone();
    let id = twin["id"].as_str().unwrap().to_string();
    twin["status"] = Value::from("SUSPENDED");
    accounts.push(twin);
    write_json(&evidence.join("org.json"), &org);
    let controls = controls(dir.path());
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(&evidence)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args([
            "--no-builtin-controls",
            "--controls",
            controls.to_str().unwrap(),
        ]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("org.json")
            && r.stderr
                .contains(&format!("account {id} is listed more than once")),
        "{}",
        r.stderr
    );
}

/// `report` on the sample evidence with its `org.json` edited by `edit`.
fn report_with_edited_org(edit: impl FnOnce(&mut Value)) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let evidence = sample_evidence(dir.path());
    let mut org = read_json(&evidence.join("org.json"));
    edit(&mut org);
    write_json(&evidence.join("org.json"), &org);
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(&evidence)
        .arg("--out")
        .arg(dir.path().join("out")));
    (r, dir)
}

#[test]
fn an_org_json_that_disagrees_with_the_recorded_account_listing_is_refused() {
    // An ACTIVE workload account flipped to SUSPENDED would drop its failures.
    let mut flipped = String::new();
    let (r, dir) = report_with_edited_org(|org| {
        let account = org["accounts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["status"] == "ACTIVE" && a["role"] == "workload")
            .unwrap();
        flipped = account["id"].as_str().unwrap().to_string();
        account["status"] = Value::from("SUSPENDED");
    });
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("org.json")
            && r.stderr.contains(&format!(
                "account {flipped} is SUSPENDED in org.json but ACTIVE in the recorded Organizations answer"
            )),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("out").join("results.json").exists());

    // An account deleted from org.json would leave every population.
    let mut deleted = String::new();
    let (r, _dir) = report_with_edited_org(|org| {
        let accounts = org["accounts"].as_array_mut().unwrap();
        let at = accounts
            .iter()
            .position(|a| a["role"] == "workload")
            .unwrap();
        deleted = accounts.remove(at)["id"].as_str().unwrap().to_string();
    });
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "account {deleted} is in the recorded Organizations answer"
        )),
        "{}",
        r.stderr
    );
}

/// Runs `args` with its standard output a pipe closed before it writes.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let mut cmd: Command = auditpack();
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_closes_the_pipe_early_does_not_crash_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let controls = controls(dir.path());
    let controls = controls.to_str().unwrap();
    for args in [
        vec!["controls", "list", "--controls", controls],
        vec![
            "controls",
            "list",
            "--controls",
            controls,
            "--format",
            "markdown",
        ],
        vec!["iam-policy"],
    ] {
        let out = with_closed_stdout(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The exit code stays the command's own: a failing gate still exits 1.
    let zip = bundle_of(dir.path(), &sample_evidence(dir.path()));
    let out = with_closed_stdout(&["gate", zip.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let expected = run(auditpack().arg("gate").arg(&zip)).code;
    assert_eq!(out.status.code(), Some(expected), "{stderr}");
}

#[test]
fn every_command_follows_the_exit_code_contract() {
    // docs/ci.md "Exit codes": 2 for usage and input errors, from every command.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let zip = format!("{missing}.zip");
    let json = format!("{missing}.json");
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", &zip],
        vec!["gate", &json],
        vec!["gate", &zip],
        vec!["diff", &zip, &zip],
        vec!["report", "--evidence", missing, "--out", out],
        vec![
            "merge",
            "--evidence",
            missing,
            "--evidence",
            missing,
            "--out",
            out,
        ],
        vec!["controls", "list", "--controls", missing],
        vec!["controls", "lint", "--controls", missing],
        vec!["verify", "--allowed-signers", missing, &zip],
    ];
    for args in &cases {
        let r = run(auditpack().args(args));
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("missing"),
            "{args:?} names the input: {}",
            r.stderr
        );
    }
    // An --out that is a file is the user's (2), as for collect, not the tool's (3).
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    let samples = samples();
    let samples = samples.to_str().unwrap();
    for args in [
        vec!["report", "--evidence", samples, "--out", file],
        vec![
            "merge",
            "--evidence",
            samples,
            "--evidence",
            missing,
            "--out",
            file,
        ],
    ] {
        let r = run(auditpack().args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("exists and is not a folder"),
            "{args:?}: {}",
            r.stderr
        );
    }
    for command in [
        "collect",
        "run",
        "report",
        "verify",
        "merge",
        "diff",
        "gate",
        "iam-policy",
        "controls",
    ] {
        let r = run(auditpack().args([command, "--no-such-flag"]));
        assert_eq!(r.code, 2, "{command}: {}", r.stderr);
    }
}
