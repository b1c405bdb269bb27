//! Chain of custody, end to end through the real binary and the system's
//! OpenSSH, coreutils and OpenSSL: signed bundles verify with exactly the
//! commands their VERIFY.txt gives; any flipped byte, an untrusted key, a
//! hand-edited results.json with recomputed manifests, an edited coverage
//! record or stale evidence fail with the file named; diff finds a planted
//! change. The KMS and quarter-over-quarter tests run against the emulator
//! (`kms`, with the `emulator` feature).

#[cfg(feature = "emulator")]
mod kms;

use std::path::{Path, PathBuf};
use std::process::Command;

use auditpack_core::custody::check::{render_text, verify_bundle, VerifyOptions};
use auditpack_core::custody::signature::{bag_info_field, Trust, COMMAND_PREFIX};
use auditpack_core::evaluation::Verdict;

use crate::common::{
    auditpack, copy_tree, files_under, find_zip, keygen, read_json, rehash, relative, repo, report,
    run, samples, unzip,
};

/// An allowed_signers file trusting `pubkey` as `principal`.
fn allowed_signers(dir: &Path, principal: &str, pubkey: &Path) -> PathBuf {
    let path = dir.join(format!("{principal}.allowed_signers"));
    let key = std::fs::read_to_string(pubkey).unwrap();
    std::fs::write(&path, format!("{principal} {key}")).unwrap();
    path
}

/// The command lines of VERIFY.txt, exactly as written.
fn verify_commands(bag: &Path) -> Vec<String> {
    std::fs::read_to_string(bag.join("signature/VERIFY.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix(COMMAND_PREFIX))
        .map(str::to_string)
        .collect()
}

/// Runs each command with `sh -c` in the bag folder, as an auditor would paste it.
fn run_verify_commands(bag: &Path) -> Vec<String> {
    let commands = verify_commands(bag);
    for command in &commands {
        let out = Command::new("sh")
            .args(["-c", command])
            .current_dir(bag)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    commands
}

fn options(trust: Trust) -> VerifyOptions {
    VerifyOptions {
        trust,
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate: false,
        keep_results: true,
    }
}

/// The samples reported and signed with a fresh ed25519 key (alice@example.com)
/// in `dir`: (public key, zip, unzipped bag).
fn ssh_signed_samples(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (key, pubkey) = keygen(dir, "id_ed25519", "alice@example.com");
    let zip = report(
        &samples(),
        &dir.join("out"),
        &["--sign-key", key.to_str().unwrap()],
    )
    .zip();
    let bag = unzip(&zip, &dir.join("unzipped"));
    (pubkey, zip, bag)
}

#[test]
fn ssh_signed_bundle_verifies_with_ssh_keygen_and_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let (pubkey, zip, bag) = ssh_signed_samples(dir.path());
    for file in [
        "signature/tagmanifest-sha256.txt.sig",
        "signature/signer.pub",
        "signature/allowed_signers",
        "signature/VERIFY.txt",
        "data/coverage.json",
    ] {
        assert!(bag.join(file).is_file(), "{file} is in the bag");
    }
    let commands = run_verify_commands(&bag);
    assert_eq!(
        commands,
        [
            "ssh-keygen -Y verify -f signature/allowed_signers -I alice@example.com -n auditpack-evidence -s signature/tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt",
            "sha256sum -c tagmanifest-sha256.txt",
            "sha256sum -c manifest-sha256.txt",
        ],
        "VERIFY.txt gives the auditor's exact commands"
    );
    let bag_info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(bag_info.contains("Signed-At: "), "{bag_info}");

    // auditpack itself: without a trusted key, only self-consistency.
    let r = run(auditpack().arg("verify").arg(&zip));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("OK:"), "{}", r.stdout);
    let fingerprint = String::from_utf8(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&pubkey)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();
    assert!(
        r.stdout.contains(&format!(
            "signed by alice@example.com key {fingerprint} at "
        )) && r.stdout.contains("self-consistent only"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("collection window: "), "{}", r.stdout);
    assert!(r.stdout.contains("coverage: "), "{}", r.stdout);

    // With the auditor's own trust set, zip or unzipped.
    let trusted = allowed_signers(dir.path(), "alice@example.com", &pubkey);
    for bundle in [&zip, &bag] {
        let r = run(auditpack()
            .arg("verify")
            .arg("--allowed-signers")
            .arg(&trusted)
            .arg(bundle));
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("trusted: listed in"), "{}", r.stdout);
    }
    let r = run(auditpack()
        .arg("verify")
        .arg("--pubkey")
        .arg(&pubkey)
        .arg(&zip));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // The gate still accepts a signed bundle (the signature files are expected).
    let r = run(auditpack()
        .arg("gate")
        .arg(&zip)
        .args(["--fail-on", "critical"]));
    assert_ne!(r.code, 2, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_key_outside_the_trusted_set_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "mallory", "mallory@example.com");
    let (_, other) = keygen(dir.path(), "alice", "alice@example.com");
    let zip = report(
        &samples(),
        &dir.path().join("out"),
        &["--sign-key", key.to_str().unwrap()],
    )
    .zip();
    let trusted = allowed_signers(dir.path(), "alice@example.com", &other);
    for args in [
        vec![
            "--allowed-signers".to_string(),
            trusted.display().to_string(),
        ],
        vec!["--pubkey".to_string(), other.display().to_string()],
    ] {
        let r = run(auditpack().arg("verify").args(&args).arg(&zip));
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("which is not among the trusted keys")
                && r.stdout.contains("mallory@example.com"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.lines().last().unwrap().starts_with("FAILED:"),
            "{}",
            r.stdout
        );
    }

    // A trusted key given for an unsigned bundle fails too.
    let unsigned = report(&samples(), &dir.path().join("unsigned"), &[]).zip();
    let r = run(auditpack()
        .arg("verify")
        .arg("--allowed-signers")
        .arg(&trusted)
        .arg(&unsigned));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("the bundle is not signed"),
        "{}",
        r.stdout
    );

    // An unreadable trust file is a usage error.
    let bad = dir.path().join("bad_signers");
    std::fs::write(&bad, "alice ssh-ed25519 not-base64\n").unwrap();
    let r = run(auditpack()
        .arg("verify")
        .arg("--allowed-signers")
        .arg(&bad)
        .arg(&zip));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad_signers"), "{}", r.stderr);
}

/// An allowed_signers line's `valid-after`/`valid-before` bound the signing
/// time (bag-info's Signed-At): auditpack agrees with `ssh-keygen -Y verify
/// -Overify-time=` on the same file, inside and outside the window.
#[test]
fn allowed_signers_validity_windows_hold_the_signing_time() {
    let dir = tempfile::tempdir().unwrap();
    let (pubkey, zip, bag) = ssh_signed_samples(dir.path());
    let key = std::fs::read_to_string(&pubkey).unwrap();
    let bag_info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let signed_at = bag_info_field(&bag_info, "Signed-At").unwrap();
    let openssh_time: String = signed_at.chars().filter(char::is_ascii_digit).collect();

    for (window, trusted) in [
        ("valid-after=\"20200101Z\"", true),
        ("valid-after=\"20200101Z\",valid-before=\"20991231Z\"", true),
        ("valid-before=\"20200101Z\"", false),
        ("valid-after=\"20990101Z\"", false),
    ] {
        let signers = dir.path().join("windowed_signers");
        std::fs::write(&signers, format!("alice@example.com {window} {key}")).unwrap();
        let r = run(auditpack()
            .arg("verify")
            .arg("--allowed-signers")
            .arg(&signers)
            .arg(&zip));
        assert_eq!(
            r.code,
            if trusted { 0 } else { 1 },
            "{window}: {}{}",
            r.stdout,
            r.stderr
        );
        if !trusted {
            assert!(
                r.stdout.contains("outside the key's validity")
                    && r.stdout.contains("windowed_signers line 1 trusts it only"),
                "{window}: {}",
                r.stdout
            );
        }
        let ssh = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&signers)
            .args(["-I", "alice@example.com", "-n", "auditpack-evidence", "-s"])
            .arg(bag.join("signature/tagmanifest-sha256.txt.sig"))
            .arg(format!("-Overify-time={openssh_time}Z"))
            .stdin(std::fs::File::open(bag.join("tagmanifest-sha256.txt")).unwrap())
            .output()
            .unwrap();
        assert_eq!(
            ssh.status.success(),
            trusted,
            "ssh-keygen disagrees on {window}: {}",
            String::from_utf8_lossy(&ssh.stderr)
        );
    }
}

/// `gate --allowed-signers/--pubkey` gates only a bundle signed by a trusted
/// key; anything else is refused (exit 2) before any verdict is given.
#[test]
fn the_gate_can_demand_a_trusted_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (alice_pub, alice_zip, _) = ssh_signed_samples(dir.path());
    let trusted = allowed_signers(dir.path(), "alice@example.com", &alice_pub);
    let gate = |bundle: &Path, trust: &[&str]| {
        run(auditpack()
            .arg("gate")
            .arg(bundle)
            .args(trust)
            .args(["--fail-on", "low"]))
    };
    let signers = trusted.to_str().unwrap();
    let alice_key = alice_pub.to_str().unwrap();

    // Signed by a trusted key: the gate decides on the verdicts (the samples fail).
    for trust in [["--allowed-signers", signers], ["--pubkey", alice_key]] {
        let r = gate(&alice_zip, &trust);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(r.last_line().starts_with("FAILED"), "{}", r.stdout);
    }

    // Signed by another key, or not signed: refused, whatever the verdicts.
    let (mallory, _) = keygen(dir.path(), "mallory", "mallory@example.com");
    let mallory_zip = report(
        &samples(),
        &dir.path().join("mallory-out"),
        &["--sign-key", mallory.to_str().unwrap()],
    )
    .zip();
    let unsigned = report(&samples(), &dir.path().join("unsigned"), &[]).zip();
    for bundle in [&mallory_zip, &unsigned] {
        let r = gate(bundle, &["--allowed-signers", signers]);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("is not signed by a trusted key"),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "no verdict printed: {}", r.stdout);
    }
    // Without trusted keys the same unsigned bundle is gated on its hashes alone.
    assert_eq!(gate(&unsigned, &[]).code, 1);

    // A results.json has no signature to check.
    let results = dir.path().join("out/results.json");
    let r = gate(&results, &["--allowed-signers", signers]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("need a bundle"), "{}", r.stderr);
}

#[test]
fn a_flipped_byte_anywhere_in_a_signed_bag_is_caught_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let (pubkey, _zip, bag) = ssh_signed_samples(dir.path());
    let trust = Trust::load(
        Some(&allowed_signers(dir.path(), "alice@example.com", &pubkey)),
        &[],
    )
    .unwrap();
    let intact = verify_bundle(&bag, &options(trust.clone())).unwrap();
    assert!(intact.is_ok(), "{}", render_text(&bag, &intact));

    let files = files_under(&bag);
    for must in [
        "data/coverage.json",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        "signature/tagmanifest-sha256.txt.sig",
        "signature/VERIFY.txt",
    ] {
        assert!(files.contains(&bag.join(must)), "{must}");
    }
    let mut checked = 0;
    for file in &files {
        let original = std::fs::read(file).unwrap();
        let mut flipped = original.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x01;
        std::fs::write(file, &flipped).unwrap();
        let report = verify_bundle(&bag, &options(trust.clone()));
        std::fs::write(file, &original).unwrap();
        let name = relative(&bag, file);
        let report = report.unwrap_or_else(|e| panic!("flipping {name}: {e}"));
        let text = render_text(&bag, &report);
        assert!(
            !report.is_ok(),
            "flipping a byte of {name} went unnoticed:\n{text}"
        );
        assert!(
            text.lines()
                .filter(|l| !l.starts_with("OK") && !l.starts_with("FAILED"))
                .any(|l| l.contains(&name)),
            "flipping {name} was reported without naming it:\n{text}"
        );
        checked += 1;
    }
    assert!(checked > 50, "{checked} files");
    assert!(verify_bundle(&bag, &options(trust)).unwrap().is_ok());

    // Through the binary too: a changed signature exits 1 and names the file.
    let sig = bag.join("signature/tagmanifest-sha256.txt.sig");
    let original = std::fs::read_to_string(&sig).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    let body = &mut lines[2];
    let replaced = if body.starts_with('A') { "B" } else { "A" };
    body.replace_range(0..1, replaced);
    std::fs::write(&sig, lines.join("\n") + "\n").unwrap();
    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("signature/tagmanifest-sha256.txt.sig"),
        "{}",
        r.stdout
    );
}

#[test]
fn reevaluation_catches_hand_edited_results_with_recomputed_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let zip = report(&samples(), &dir.path().join("out"), &[]).zip();
    let r = run(auditpack().args(["verify", "--reevaluate"]).arg(&zip));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("identical to data/results.json"),
        "{}",
        r.stdout
    );

    let bag = unzip(&zip, &dir.path().join("unzipped"));
    let results_path = bag.join("data/results.json");
    let mut results: serde_json::Value = read_json(&results_path);
    // Turn the first failing item into a pass, control verdict and all.
    let (control, account, region) = {
        let controls = results["controls"].as_array_mut().unwrap();
        let control = controls
            .iter_mut()
            .find(|c| c["status"] == "FAIL")
            .expect("the samples have a failing control");
        let id = control["id"].as_str().unwrap().to_string();
        let item = control["results"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|i| i["status"] == "FAIL")
            .unwrap();
        item["status"] = "PASS".into();
        let found = (
            id,
            item["account_id"].as_str().unwrap().to_string(),
            item["region"].as_str().unwrap_or("global").to_string(),
        );
        control["status"] = "PASS".into();
        found
    };
    let mut bytes = serde_json::to_vec_pretty(&results).unwrap();
    bytes.push(b'\n');
    std::fs::write(&results_path, bytes).unwrap();
    rehash(&bag, "data/results.json");

    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(
        r.code, 0,
        "the hashes alone are consistent again: {}",
        r.stdout
    );
    let r = run(auditpack().args(["verify", "--reevaluate"]).arg(&bag));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "data/results.json: {control} {account} {region}: results.json says PASS, re-evaluation gives FAIL"
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn an_edited_coverage_record_fails_even_with_recomputed_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let zip = report(&samples(), &dir.path().join("out"), &[]).zip();
    let bag = unzip(&zip, &dir.path().join("unzipped"));
    let path = bag.join("data/coverage.json");
    let mut coverage: serde_json::Value = read_json(&path);
    assert!(
        !coverage["expected"].as_array().unwrap().is_empty(),
        "{coverage}"
    );
    // Hide one collected account from the record.
    let hidden = coverage["collected"].as_array_mut().unwrap().remove(0);
    std::fs::write(&path, serde_json::to_vec_pretty(&coverage).unwrap()).unwrap();
    rehash(&bag, "data/coverage.json");
    let r = run(auditpack().arg("verify").arg(&bag));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("data/coverage.json: collected is")
            && r.stdout.contains(hidden.as_str().unwrap()),
        "{}",
        r.stdout
    );
}

#[test]
fn max_age_fails_stale_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let zip = report(&samples(), &dir.path().join("out"), &[]).zip();
    let run_json: serde_json::Value = read_json(&samples().join("run.json"));
    let started: chrono::DateTime<chrono::Utc> =
        run_json["started_at"].as_str().unwrap().parse().unwrap();
    let at = |days: i64, max: u64| {
        let options = VerifyOptions {
            now: started + chrono::Duration::days(days) + chrono::Duration::hours(1),
            max_age_days: Some(max),
            ..options(Trust::default())
        };
        verify_bundle(&zip, &options).unwrap()
    };
    assert!(at(10, 30).is_ok());
    let stale = at(40, 30);
    assert!(!stale.is_ok());
    assert!(
        stale.problems[0].starts_with("data/run.json: evidence collected from")
            && stale.problems[0].contains("40 day(s) old, older than --max-age 30"),
        "{:?}",
        stale.problems
    );
    // The binary uses the wall clock; the samples are never 100 years old, nor fresh forever.
    let r = run(auditpack().args(["verify", "--max-age", "36500"]).arg(&zip));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("collection window: "), "{}", r.stdout);
}

#[test]
fn diff_finds_a_planted_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(&samples(), &dir.path().join("old"), &[]).zip();
    let old_results: auditpack_core::evaluation::Results =
        serde_json::from_value(read_json(&dir.path().join("old/results.json"))).unwrap();

    // Plant a change in a copy of the evidence: make a passing password policy weak.
    let evidence = dir.path().join("evidence");
    copy_tree(&samples(), &evidence);
    let control = old_results
        .controls
        .iter()
        .find(|c| c.id == "iam.password-policy")
        .expect("the catalog has iam.password-policy");
    // The account whose verdict rests on its policy: it has an IAM user with a console password.
    let item = control
        .results
        .iter()
        .find(|i| {
            i.status == Verdict::Pass
                && i.evidence
                    .iter()
                    .any(|e| e.path.contains("GetLoginProfile"))
        })
        .expect("an account with console passwords passes the password policy");
    let account = item.account_id.clone();
    let policy = evidence
        .join(&account)
        .join("global/iam/GetAccountPasswordPolicy.json");
    let mut envelope: serde_json::Value = read_json(&policy);
    envelope["data"]["PasswordPolicy"]["MinimumPasswordLength"] = 6.into();
    std::fs::write(&policy, serde_json::to_vec_pretty(&envelope).unwrap()).unwrap();
    let new = report(&evidence, &dir.path().join("new"), &[]).zip();

    let r = run(auditpack().arg("diff").arg(&old).arg(&new));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("new failures (1):")
            && r.stdout
                .contains(&format!("iam.password-policy {account} (")),
        "{}",
        r.stdout
    );

    let r = run(auditpack()
        .args(["diff", "--format", "json"])
        .arg(&old)
        .arg(&new));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.stdout);
    assert_eq!(items[0]["kind"], "new_failure");
    assert_eq!(items[0]["control"], "iam.password-policy");
    assert_eq!(items[0]["account_id"], account.as_str());
    assert_eq!(items[0]["old"], "PASS");
    assert_eq!(items[0]["new"], "FAIL");
    assert!(json["accounts_added"].as_array().unwrap().is_empty());

    let r = run(auditpack()
        .args(["diff", "--format", "html"])
        .arg(&old)
        .arg(&new));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("<!DOCTYPE html>")
            && r.stdout.contains("New failures (1)")
            && r.stdout.contains("iam.password-policy"),
        "{}",
        r.stdout
    );

    // Same bundle twice: no changes. A tampered bundle is refused with exit 1.
    let r = run(auditpack().arg("diff").arg(&old).arg(&old));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("no changes"), "{}", r.stdout);
    let bag = unzip(&new, &dir.path().join("unzipped"));
    std::fs::write(bag.join("data/results.json"), b"{}").unwrap();
    let r = run(auditpack().arg("diff").arg(&old).arg(&bag));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("does not verify") && r.stderr.contains("data/results.json"),
        "{}",
        r.stderr
    );
}

#[test]
fn diff_lists_changed_parameters_and_control_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(&samples(), &dir.path().join("old"), &[]).zip();

    // Next quarter: a stricter parameter in auditpack.toml, and one requirement's test rewritten.
    let controls = dir.path().join("controls");
    copy_tree(&repo().join("controls"), &controls);
    let file = controls.join("iam.password-policy.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let before = "PasswordReusePrevention >= params.reuse_prevention\"";
    assert!(
        text.contains(before),
        "the control still has its reuse test"
    );
    std::fs::write(
        &file,
        text.replace(
            before,
            "PasswordReusePrevention >= params.reuse_prevention + 0\"",
        ),
    )
    .unwrap();
    let config = dir.path().join("auditpack.toml");
    std::fs::write(
        &config,
        "[controls.\"iam.password-policy\"]\nparams = { min_length = 16 }\n",
    )
    .unwrap();
    let out = dir.path().join("new");
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--no-builtin-controls")
        .arg("--controls")
        .arg(&controls)
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let new = find_zip(&out);

    let r = run(auditpack()
        .args(["diff", "--format", "json"])
        .arg(&old)
        .arg(&new));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let diff: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        diff["parameters"],
        serde_json::json!([{ "control": "iam.password-policy", "name": "min_length", "old": 14, "new": 16 }]),
        "{}",
        r.stdout
    );
    let definitions = diff["definitions"].as_array().unwrap();
    let changed = |file: &str| {
        definitions
            .iter()
            .find(|d| d["file"] == file)
            .map(|d| d["what"].as_str().unwrap().to_string())
    };
    let what = changed("data/controls/iam.password-policy.toml").expect("the control file");
    assert!(
        what.contains("requirement reuse-prevention: test")
            && what.contains("params.reuse_prevention + 0"),
        "{what}"
    );
    assert_eq!(changed("data/auditpack.toml").as_deref(), Some("added"));
    assert_eq!(
        definitions.len(),
        2,
        "only the changed files: {definitions:?}"
    );
    // 16 characters is more than the samples' policy: the account with console passwords now fails.
    assert!(
        diff["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["control"] == "iam.password-policy" && i["kind"] == "new_failure"),
        "{}",
        r.stdout
    );
}

#[test]
fn encrypted_keys_need_the_passphrase_and_unusable_keys_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_encrypted");
    let made = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "correct horse",
            "-C",
            "bob@example.com",
            "-f",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = dir.path().join("out");
    let attempt = |passphrase: Option<&str>, key: &Path| {
        let mut cmd = auditpack();
        cmd.args(["report", "--evidence"])
            .arg(samples())
            .arg("--out")
            .arg(&out)
            .arg("--sign-key")
            .arg(key);
        if let Some(p) = passphrase {
            cmd.env("AUDITPACK_SIGN_KEY_PASSPHRASE", p);
        }
        run(&mut cmd)
    };
    let r = attempt(None, &key);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("id_encrypted") && r.stderr.contains("AUDITPACK_SIGN_KEY_PASSPHRASE"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing is written before the key is usable");
    let r = attempt(Some("wrong"), &key);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = attempt(Some("correct horse"), &key);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let bag = unzip(&find_zip(&out), &dir.path().join("unzipped"));
    run_verify_commands(&bag);

    // A public key given by mistake, and an RSA key, are refused with the file named.
    let r = attempt(None, &key.with_extension("pub"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not the .pub"), "{}", r.stderr);
    let rsa = dir.path().join("id_rsa");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .output()
        .unwrap();
    assert!(made.status.success());
    let r = attempt(None, &rsa);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("id_rsa") && r.stderr.contains("use an ed25519"),
        "{}",
        r.stderr
    );
}

/// A bundle forged into a consistent all-PASS (every requirement, item,
/// control and the summary, manifests recomputed) is refused by `gate`, which
/// re-derives the results from the bundle's own evidence and controls; only
/// `--trust-results` gates on what it says.
#[test]
fn gate_refuses_a_consistently_forged_bundle_unless_told_to_trust_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let zip = report(&samples(), &dir.path().join("out"), &[]).zip();
    let r = run(auditpack().arg("gate").arg(&zip));
    assert_eq!(r.code, 1, "the samples fail: {}{}", r.stdout, r.stderr);

    let bag = unzip(&zip, &dir.path().join("unzipped"));
    let results_path = bag.join("data/results.json");
    let mut results: serde_json::Value = read_json(&results_path);
    let (mut controls, mut items) = (0, 0);
    for control in results["controls"].as_array_mut().unwrap() {
        if control["status"] == "DISABLED" {
            continue;
        }
        control["status"] = "PASS".into();
        controls += 1;
        for item in control["results"].as_array_mut().unwrap() {
            item["status"] = "PASS".into();
            item["message"] = "All requirements met.".into();
            items += 1;
            for a in item["assertions"].as_array_mut().unwrap() {
                a["status"] = "PASS".into();
                a["message"] = "".into();
            }
        }
    }
    let counts = |pass: u64| serde_json::json!({"pass": pass, "fail": 0, "not_assessed": 0, "disabled": 0, "waived": 0});
    results["summary"]["controls"] = counts(controls);
    results["summary"]["items"] = counts(items);
    let mut bytes = serde_json::to_vec_pretty(&results).unwrap();
    bytes.push(b'\n');
    std::fs::write(&results_path, bytes).unwrap();
    rehash(&bag, "data/results.json");

    let r = run(auditpack().arg("gate").arg(&bag));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("results.json says PASS, re-evaluation gives FAIL")
            && r.stderr.contains("refusing to gate on it"),
        "{}",
        r.stderr
    );
    let r = run(auditpack().args(["gate", "--trust-results"]).arg(&bag));
    assert_eq!(
        r.code, 0,
        "trusting the bundled results: {}{}",
        r.stdout, r.stderr
    );
}
