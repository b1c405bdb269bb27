//! The Type II period package (#17, part 2): a 13-week series of signed run
//! bundles of one organization, with planted facts, and the period verdicts
//! a careful auditor would give: a week in which one control failed in one
//! account, a 10-day stretch without runs, one bundle tampered, one signed by
//! an unknown key, one of another organization, one from the previous
//! quarter. The package verifies, re-derives, is reproducible, and a forged
//! verdict in it is caught.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    auditpack, copy_tree, find_zip, kept_artifacts, read_json, rehash, report, run, samples, unzip,
    write_json, Run,
};

/// The weekly runs: every Thursday of 2026-Q4 but Nov 12, with one run moved
/// from Nov 12 to Nov 16, so that Nov 6 to Nov 15 (10 days) has no run.
const RUN_DAYS: [&str; 13] = [
    "2026-10-01",
    "2026-10-08",
    "2026-10-15",
    "2026-10-22",
    "2026-10-29",
    "2026-11-05",
    "2026-11-16",
    "2026-11-23",
    "2026-11-30",
    "2026-12-07",
    "2026-12-14",
    "2026-12-21",
    "2026-12-28",
];
/// The run in which the security account's password policy was weakened (it has IAM users with console passwords).
const FAILING_DAY: &str = "2026-10-22";
const WEAKENED_ACCOUNT: &str = "025569892925";
const ORGANIZATION: &str = "o-p6w0erv871";
/// A file name that is markup, listed among the excluded bundles.
const HOSTILE_NAME: &str = "notes-<img src=x onerror=alert('period')>";

/// The samples as collected on `day`: the collection window and every
/// envelope's time moved to that day (evidence outside a run's window is not
/// evidence of it), the accounts joined before the quarter.
pub(crate) fn evidence_of(day: &str, dir: &Path) -> PathBuf {
    let evidence = dir.join(format!("evidence-{day}"));
    copy_tree(&samples(), &evidence);
    let mut run_json = read_json(&evidence.join("run.json"));
    run_json["started_at"] = Value::from(format!("{day}T02:00:00Z"));
    run_json["finished_at"] = Value::from(format!("{day}T02:09:00Z"));
    write_json(&evidence.join("run.json"), &run_json);
    let mut org = read_json(&evidence.join("org.json"));
    for account in org["accounts"].as_array_mut().unwrap() {
        account["joined_at"] = Value::from("2025-06-01T00:00:00Z");
    }
    write_json(&evidence.join("org.json"), &org);
    for file in crate::common::files_under(&evidence) {
        let rel = file.strip_prefix(&evidence).unwrap();
        let in_account = rel.components().next().is_some_and(|c| {
            c.as_os_str()
                .to_string_lossy()
                .chars()
                .all(|ch| ch.is_ascii_digit())
        });
        if in_account && file.extension().is_some_and(|e| e == "json") {
            let mut envelope = read_json(&file);
            envelope["collected_at"] = Value::from(format!("{day}T02:05:00Z"));
            write_json(&file, &envelope);
        }
    }
    evidence
}

/// ssh-keygen's ed25519 key pair commented `name`: (private, public).
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    crate::common::keygen(dir, &name.replace(['@', '.'], "_"), name)
}

/// Reports `evidence` signed with `key`, and copies the bundle to `bundles/<name>.zip`.
fn bundle(evidence: &Path, key: &Path, bundles: &Path, name: &str) -> PathBuf {
    let out = evidence.with_extension("out");
    let zip = report(evidence, &out, &["--sign-key", key.to_str().unwrap()]).zip();
    std::fs::create_dir_all(bundles).unwrap();
    let to = bundles.join(format!("{name}.zip"));
    std::fs::copy(&zip, &to).unwrap();
    to
}

/// The quarter's bundles, with the planted ones; returns (bundles folder,
/// allowed_signers trusting the team's key, the team's private key).
fn quarter(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (team, team_pub) = keygen(dir, "ci@acme.example");
    let (mallory, _) = keygen(dir, "mallory@example.net");
    let signers = dir.join("allowed_signers");
    let key = std::fs::read_to_string(&team_pub).unwrap();
    std::fs::write(&signers, format!("ci@acme.example {key}")).unwrap();
    let bundles = dir.join("bundles");
    for day in RUN_DAYS {
        let evidence = evidence_of(day, dir);
        if day == FAILING_DAY {
            let file = evidence.join(format!(
                "{WEAKENED_ACCOUNT}/global/iam/GetAccountPasswordPolicy.json"
            ));
            let mut policy = read_json(&file);
            policy["data"]["PasswordPolicy"]["MinimumPasswordLength"] = Value::from(6);
            write_json(&file, &policy);
        }
        // The locker's layout, as `--bundles` finds it at any depth.
        let folder = bundles.join(format!("{ORGANIZATION}/{}", day.replace('-', "/")));
        bundle(&evidence, &team, &folder, "run");
    }
    // Tampered after signing: an evidence file edited, the manifest left as is.
    let tampered = bundle(&evidence_of("2026-12-03", dir), &team, &bundles, "tampered");
    let unpacked = unzip(&tampered, &dir.join("tampered-bag"));
    let file = crate::common::files_under(&unpacked.join("data/evidence"))
        .into_iter()
        .find(|f| f.ends_with("global/iam/GetAccountPasswordPolicy.json"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "\"MinimumPasswordLength\": 14",
        "\"MinimumPasswordLength\": 15",
    );
    std::fs::write(&file, text).unwrap();
    zip_folder(&unpacked, &tampered);
    // Signed by a key the auditor does not trust.
    bundle(
        &evidence_of("2026-12-10", dir),
        &mallory,
        &bundles,
        "unknown-key",
    );
    // Another organization's run.
    let other = evidence_of("2026-12-17", dir);
    let mut org = read_json(&other.join("org.json"));
    org["organization"]["id"] = Value::from("o-otherorg99");
    write_json(&other.join("org.json"), &org);
    bundle(&other, &team, &bundles, "other-organization");
    // The previous quarter's last run.
    bundle(
        &evidence_of("2026-09-24", dir),
        &team,
        &bundles,
        "previous-quarter",
    );
    // The same bundle copied twice (a re-uploaded artifact): used once, the
    // first found (paths in sorted order) counts.
    let first = bundles.join(format!("{ORGANIZATION}/2026/10/01/run.zip"));
    std::fs::create_dir_all(bundles.join("resent")).unwrap();
    std::fs::copy(&first, bundles.join("resent/run-again.zip")).unwrap();
    // Not a bundle at all, with markup in its name (shown in period.html as text).
    std::fs::write(bundles.join(format!("{HOSTILE_NAME}.zip")), b"not a zip").unwrap();
    (bundles, signers, team)
}

/// Zips a bag folder back (entries under the bag's name, as bundles are).
fn zip_folder(bag: &Path, to: &Path) {
    use std::io::Write;
    let name = bag.file_name().unwrap().to_string_lossy().to_string();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for file in crate::common::files_under(bag) {
        let rel = crate::common::relative(bag, &file);
        zip.start_file(
            format!("{name}/{rel}"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(&std::fs::read(&file).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

fn period(bundles: &Path, out: &Path, extra: &[&str]) -> Run {
    run(auditpack()
        .args(["period", "--bundles"])
        .arg(bundles)
        .arg("--out")
        .arg(out)
        .args(extra))
}

fn control<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn item<'a>(control: &'a Value, account: &str) -> &'a Value {
    control["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["account_id"] == account)
        .unwrap_or_else(|| panic!("no item of {account}"))
}

#[test]
fn a_quarter_of_runs_gives_the_period_verdicts_an_auditor_would() {
    let work = tempfile::tempdir().unwrap();
    let (bundles, signers, team) = quarter(work.path());
    let signers = signers.to_str().unwrap();
    let out = work.path().join("period");
    let args = [
        "--period",
        "2026-Q4",
        "--organization",
        ORGANIZATION,
        "--allowed-signers",
        signers,
    ];
    let r = period(&bundles, &out, &args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = read_json(&out.join("period.json"));
    assert_eq!(doc["summary"]["runs"], 13, "{}", r.stdout);

    // Every planted bundle is excluded and listed with its reason.
    let excluded: Vec<(String, String, String)> = doc["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("bundle"), s("kind"), s("reason"))
        })
        .collect();
    let reason = |bundle: &str, kind: &str| -> String {
        let found = excluded
            .iter()
            .find(|(b, _, _)| b == bundle)
            .unwrap_or_else(|| panic!("{bundle} not excluded: {excluded:?}"));
        assert_eq!(found.1, kind, "{found:?}");
        found.2.clone()
    };
    assert_eq!(excluded.len(), 6, "{excluded:?}");
    assert!(reason("resent/run-again.zip", "duplicate").contains("o-p6w0erv871/2026/10/01/run.zip"));
    assert!(reason(&format!("{HOSTILE_NAME}.zip"), "unreadable").contains("not a bundle"));
    assert!(reason("tampered.zip", "tampered").contains("GetAccountPasswordPolicy.json"));
    assert!(
        reason("unknown-key.zip", "untrusted-signature").contains("mallory@example.net")
            || reason("unknown-key.zip", "untrusted-signature").contains("trusted")
    );
    assert!(reason("other-organization.zip", "other-organization").contains("o-otherorg99"));
    assert!(reason("previous-quarter.zip", "outside-period").contains("2026-09-24"));
    for (bundle, _, _) in &excluded {
        assert!(
            r.stderr.contains(&format!("excluded {bundle}")),
            "{}",
            r.stderr
        );
    }

    // One week, one account, one control: failing from that run to the next.
    let policy = control(&doc, "iam.password-policy");
    let weakened = item(policy, WEAKENED_ACCOUNT);
    assert_eq!(weakened["status"], "FAIL", "{weakened}");
    assert_eq!(weakened["timeline"], "PPPFPPPPPPPPP");
    let interval = &weakened["failure_intervals"][0];
    assert_eq!(interval["from"], format!("{FAILING_DAY}T02:00:00Z"));
    assert_eq!(interval["to"], "2026-10-29T02:00:00Z");
    assert_eq!(interval["failing_runs"], 1);
    assert_eq!(weakened["failure_intervals"].as_array().unwrap().len(), 1);
    // Its peers passed every run, but the 10-day stretch leaves them unproven.
    let peer = item(policy, "545985340274");
    assert_eq!(peer["timeline"], "PPPPPPPPPPPPP");
    assert_eq!(peer["status"], "NOT_ASSESSED");
    assert_eq!(
        peer["uncovered"],
        serde_json::json!([{"from": "2026-11-06", "to": "2026-11-15", "days": 10}])
    );
    assert_eq!(peer["longest_gap"]["days"], 10);

    // A control that passed every run is NOT ASSESSED for the period, naming the dates.
    let aggregator = control(&doc, "config.org-aggregator");
    assert_eq!(aggregator["status"], "NOT_ASSESSED");
    assert!(
        aggregator["message"]
            .as_str()
            .unwrap()
            .contains("2026-11-06 to 2026-11-15"),
        "{}",
        aggregator["message"]
    );
    // The change exception of the sample (StopLogging) stands in every run: FAIL.
    let trail = control(&doc, "cloudtrail.org-trail");
    assert_eq!(trail["status"], "FAIL");
    let exceptions = trail["items"][0]["exceptions"].as_array().unwrap();
    assert!(
        exceptions.iter().any(|e| e["event"]
            .as_str()
            .is_some_and(|n| n.ends_with(":StopLogging"))
            && e["waiver_ticket"].is_null()),
        "{exceptions:?}"
    );

    // The sample: the weekly table's 5 of 13 runs, named by SHA-256, redrawable from the seed.
    let sample = &aggregator["sample"];
    assert_eq!(
        (sample["size"].as_u64(), sample["population"].as_u64()),
        (Some(5), Some(13))
    );
    let seed = doc["seed"].as_str().unwrap();
    assert!(
        r.stdout.contains(&format!("sampling seed: {seed}")),
        "{}",
        r.stdout
    );
    // Each run is named by its bundle file's SHA-256 (taken while verifying it).
    for run in doc["runs"].as_array().unwrap() {
        let file = bundles.join(run["bundle"].as_str().unwrap());
        assert_eq!(
            run["sha256"].as_str(),
            Some(
                auditpack_core::outputs::bagit::file_sha256(&file)
                    .unwrap()
                    .as_str()
            ),
            "{file:?}"
        );
    }
    let mut ranked: Vec<(String, String)> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            let sha = run["sha256"].as_str().unwrap().to_string();
            let rank = auditpack_core::evidence::sha256_hex(
                format!("{seed}:config.org-aggregator:{sha}").as_bytes(),
            );
            (rank, sha)
        })
        .collect();
    ranked.sort();
    let mut redrawn: Vec<&str> = ranked.iter().take(5).map(|(_, s)| s.as_str()).collect();
    let drawn: Vec<&str> = sample["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    redrawn.sort_by_key(|sha| drawn.iter().position(|d| d == sha).unwrap_or(usize::MAX));
    assert_eq!(drawn, redrawn);

    // The package verifies, and re-derives to the same bytes.
    let zip = find_zip(&out);
    let v = run(auditpack().args(["verify", "--reevaluate"]).arg(&zip));
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains("identical to data/period.json, period.csv and period.html"),
        "{}",
        v.stdout
    );

    // Reproducible: the same bundles give the same package, byte for byte.
    let again = work.path().join("again");
    let r2 = period(&bundles, &again, &args);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        std::fs::read(find_zip(&again)).unwrap()
    );
    // The auditor's own seed draws another sample; the package signed like a run's bundle.
    let seeded = work.path().join("seeded");
    let team = team.to_str().unwrap();
    let r3 = period(
        &bundles,
        &seeded,
        &[&args[..], &["--seed", "auditor-2027", "--sign-key", team]].concat(),
    );
    assert_eq!(r3.code, 0, "{}", r3.stderr);
    let seeded_doc = read_json(&seeded.join("period.json"));
    assert_eq!(seeded_doc["seed"], "auditor-2027");
    let v = run(auditpack()
        .args(["verify", "--reevaluate", "--allowed-signers", signers])
        .arg(find_zip(&seeded)));
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("signed by ci@acme.example") && v.stdout.contains("trusted"),
        "{}",
        v.stdout
    );

    // Kept for the browser check of scripts/test.sh.
    let kept = kept_artifacts("period");
    std::fs::copy(out.join("period.html"), kept.join("period.html")).unwrap();
    let payloads = serde_json::json!([format!("{HOSTILE_NAME}.zip")]);
    write_json(&kept.join("payloads.json"), &payloads);
    let html = std::fs::read_to_string(out.join("period.html")).unwrap();
    assert!(
        !html.contains("<img"),
        "markup from a file name reached period.html"
    );

    // A forged verdict with recomputed manifests: the re-derivation names the control.
    let bag = unzip(&zip, &work.path().join("forged"));
    let mut forged = read_json(&bag.join("data/period.json"));
    for c in forged["controls"].as_array_mut().unwrap() {
        if c["id"] == "iam.password-policy" {
            c["status"] = Value::from("PASS");
        }
    }
    write_json(&bag.join("data/period.json"), &forged);
    rehash(&bag, "data/period.json");
    let v = run(auditpack().args(["verify", "--reevaluate"]).arg(&bag));
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout
            .contains("control iam.password-policy says PASS, the packaged runs give FAIL"),
        "{}",
        v.stdout
    );
}

#[test]
fn runs_without_a_gap_pass_and_mixed_organizations_need_a_choice() {
    let work = tempfile::tempdir().unwrap();
    let (team, _) = keygen(work.path(), "ci@acme.example");
    let bundles = work.path().join("bundles");
    for day in ["2026-10-01", "2026-10-08", "2026-10-15"] {
        bundle(&evidence_of(day, work.path()), &team, &bundles, day);
    }
    let out = work.path().join("period");
    let r = period(&bundles, &out, &["--period", "2026-10-01/2026-10-21"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = read_json(&out.join("period.json"));
    let aggregator = control(&doc, "config.org-aggregator");
    assert_eq!(aggregator["status"], "PASS", "{}", aggregator["message"]);
    assert_eq!(aggregator["items"][0]["longest_gap"]["days"], 6);
    // Without trusted keys the package says its runs are only self-consistent.
    assert!(doc["signatures"]
        .as_str()
        .unwrap()
        .contains("no trusted keys were given"));
    // Daily: runs a week apart leave every day between uncovered.
    let daily = work.path().join("auditpack.toml");
    std::fs::write(&daily, "[period]\nfrequency = \"daily\"\n").unwrap();
    let r = period(
        &bundles,
        &work.path().join("daily"),
        &[
            "--period",
            "2026-10-01/2026-10-21",
            "--config",
            daily.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = read_json(&work.path().join("daily/period.json"));
    assert_eq!(
        control(&doc, "config.org-aggregator")["status"],
        "NOT_ASSESSED"
    );
    assert_eq!(control(&doc, "config.org-aggregator")["sample"]["size"], 3);

    // Another organization's bundle in the folder: which one is meant must be said.
    let other = evidence_of("2026-10-10", work.path());
    let mut org = read_json(&other.join("org.json"));
    org["organization"]["id"] = Value::from("o-otherorg99");
    write_json(&other.join("org.json"), &org);
    bundle(&other, &team, &bundles, "other");
    let r = period(
        &bundles,
        &work.path().join("mixed"),
        &["--period", "2026-Q4"],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("o-otherorg99 (1)") && r.stderr.contains(&format!("{ORGANIZATION} (3)")),
        "{}",
        r.stderr
    );
    // No run of the period at all: refused, each bundle named with why.
    let r = period(
        &bundles,
        &work.path().join("none"),
        &["--period", "2025-Q1", "--organization", ORGANIZATION],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no run of organization") && r.stderr.contains("outside the period"),
        "{}",
        r.stderr
    );
    // A frequency auditpack does not know: exit 2 naming the file and field.
    std::fs::write(&daily, "[period]\nfrequency = \"hourly\"\n").unwrap();
    let r = period(
        &bundles,
        &work.path().join("bad"),
        &["--period", "2026-Q4", "--config", daily.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("period.frequency: 'hourly' is not a frequency"),
        "{}",
        r.stderr
    );
}
