//! The evidence locker (#17, part 1) against the emulator's S3 Object Lock:
//! `auditpack upload` stores a verified bundle under
//! PREFIX/<organization>/<yyyy>/<mm>/<dd>/<file> in a COMPLIANCE-locked bucket,
//! read back by its SHA-256; it refuses an existing key, a bucket without
//! COMPLIANCE retention (or with too short a one) unless told to accept
//! deletable evidence, and a bundle that does not verify.

use crate::common::emulator::{python, Emulator};
use crate::common::{find_zip, read_json, report, run, samples, unzip, Run};

const SECRET: &str = "locker-secret-key-that-must-never-be-written-0c4d";

/// `auditpack upload BUNDLE DESTINATION EXTRA…` against the emulator.
fn upload_to(emu: &Emulator, bundle: &std::path::Path, destination: &str, extra: &[&str]) -> Run {
    run(emu
        .auditpack(SECRET)
        .args(["upload", "--s3-path-style"])
        .arg(bundle)
        .arg(destination)
        .args(extra))
}

#[test]
fn a_bundle_goes_into_the_locker_once_and_stays_there() {
    let emu = Emulator::start();
    assert_eq!(python("locker.py", &[&emu.endpoint, "setup"]).trim(), "ok");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let zip = report(&samples(), &out, &[]).zip();
    let results = read_json(&out.join("results.json"));
    let org = results["organization_id"].as_str().unwrap();
    let day = results["collection_window"]["end"].as_str().unwrap()[..10].replace('-', "/");
    let file = zip.file_name().unwrap().to_str().unwrap();
    let key = format!("soc2/q4/{org}/{day}/{file}");
    let upload = |destination: &str, extra: &[&str]| upload_to(&emu, &zip, destination, extra);

    let stored = upload("s3://evidence-locker/soc2/q4/", &[]);
    assert_eq!(stored.code, 0, "{}{}", stored.stdout, stored.stderr);
    assert!(
        stored
            .stdout
            .contains(&format!("uploaded: s3://evidence-locker/{key} (sha256 ")),
        "{}",
        stored.stdout
    );
    assert!(
        stored.stdout.contains("object lock: COMPLIANCE until "),
        "{}",
        stored.stdout
    );
    // COMPLIANCE mode: not even its owner can delete the version.
    let deleted = python(
        "locker.py",
        &[&emu.endpoint, "delete", "evidence-locker", &key],
    );
    assert!(deleted.starts_with("refused:"), "{deleted}");

    // The same key again: never overwritten.
    let again = upload("s3://evidence-locker/soc2/q4", &[]);
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // Buckets that would not keep the evidence: refused, naming why.
    for (bucket, why) in [
        ("plain-bucket", "no S3 Object Lock configuration"),
        ("short-locker", "30 day(s), less than the 365 required"),
        ("governance-locker", "GOVERNANCE mode"),
    ] {
        let r = upload(&format!("s3://{bucket}/soc2"), &[]);
        assert_eq!(r.code, 2, "{bucket}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(why), "{bucket}: {}", r.stderr);
        assert!(
            r.stderr.contains("--accept-deletable-evidence"),
            "{}",
            r.stderr
        );
    }
    // A shorter requirement the bucket meets; then, knowingly, a weak bucket.
    let shorter = upload("s3://short-locker/soc2", &["--min-retention-days", "30"]);
    assert_eq!(shorter.code, 0, "{}{}", shorter.stdout, shorter.stderr);
    let weak = upload("s3://plain-bucket/soc2", &["--accept-deletable-evidence"]);
    assert_eq!(weak.code, 0, "{}{}", weak.stdout, weak.stderr);
    assert!(
        weak.stdout
            .contains("WARNING: the locker does not protect this evidence"),
        "{}",
        weak.stdout
    );

    // A bundle that does not verify never leaves the machine.
    let bag = unzip(&zip, &work.path().join("unzipped"));
    let evidence = std::fs::read_dir(bag.join("data/evidence"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let tampered_dir = work.path().join("tampered");
    std::fs::create_dir(&tampered_dir).unwrap();
    let tampered = tampered_dir.join(file);
    let mut bytes = std::fs::read(&zip).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&tampered, bytes).unwrap();
    let r = upload_to(&emu, &tampered, "s3://evidence-locker/elsewhere", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("does not verify") || r.stderr.contains("is not an auditpack bundle"),
        "{}",
        r.stderr
    );
    assert!(evidence.exists());

    // `run --upload`: collected, reported, then into the locker.
    let config = crate::common::emulator::write_config(work.path());
    let audit = work.path().join("audit");
    let r = run(emu
        .auditpack(SECRET)
        .args([
            "run",
            "--regions",
            "us-east-1",
            "--s3-path-style",
            "--max-attempts",
            "2",
            "--no-progress",
        ])
        .arg("--out")
        .arg(&audit)
        .arg("--config")
        .arg(&config)
        .args(["--upload", "s3://evidence-locker/runs"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let bundle = find_zip(&audit);
    let name = bundle.file_name().unwrap().to_str().unwrap();
    assert!(
        r.stdout.contains("uploaded: s3://evidence-locker/runs/") && r.stdout.contains(name),
        "{}",
        r.stdout
    );
    crate::common::emulator::assert_no_secrets(&audit, SECRET);
}

/// `period --bundles s3://…` reads the quarter's runs back from the locker,
/// one download at a time, and names each run by its locker key.
#[test]
fn the_period_package_is_built_from_the_locker() {
    let emu = Emulator::start();
    assert_eq!(python("locker.py", &[&emu.endpoint, "setup"]).trim(), "ok");
    let work = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for day in ["2026-10-01", "2026-10-08", "2026-10-15"] {
        let evidence = crate::period_package::evidence_of(day, work.path());
        let zip = report(&evidence, &work.path().join(format!("out-{day}")), &[]).zip();
        let r = upload_to(&emu, &zip, "s3://evidence-locker/soc2", &[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        keys.push(format!(
            "soc2/o-p6w0erv871/{}/{}",
            day.replace('-', "/"),
            zip.file_name().unwrap().to_str().unwrap()
        ));
    }
    let out = work.path().join("period");
    let r = run(emu
        .auditpack(SECRET)
        .args([
            "period",
            "--s3-path-style",
            "--bundles",
            "s3://evidence-locker/soc2",
        ])
        .args(["--period", "2026-10-01/2026-10-21", "--out"])
        .arg(&out));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = read_json(&out.join("period.json"));
    let recorded: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["locker_key"].as_str().unwrap())
        .collect();
    assert_eq!(recorded, keys);
    assert_eq!(
        doc["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "config.org-aggregator")
            .unwrap()["status"],
        "PASS"
    );
    crate::common::emulator::assert_no_secrets(&out, SECRET);
    // A prefix with no bundle: refused, not an empty package.
    let r = run(emu
        .auditpack(SECRET)
        .args([
            "period",
            "--s3-path-style",
            "--bundles",
            "s3://evidence-locker/nothing-here",
        ])
        .args(["--period", "2026-Q4", "--out"])
        .arg(work.path().join("empty")));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("no bundle"), "{}", r.stderr);
}
