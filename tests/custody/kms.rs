//! Chain of custody against the moto emulator: KMS signing, checked offline,
//! and a quarter-over-quarter diff of two collections.

use std::path::Path;
use std::process::Command;

use super::{allowed_signers, keygen, run_verify_commands};
use crate::common::emulator::{
    assert_no_secrets, collect_seed_org, python, write_config, Emulator,
};
use crate::common::{auditpack, find_zip, read_json, report_by, run, unzip};

const SECRET: &str = "custody-secret-key-that-must-never-be-written-4b1d";

/// Against the emulator: a KMS-signed bundle checks offline with openssl and
/// with `verify --pubkey`; after a remediation, a second (SSH-signed) run
/// diffs against the first and shows the fix.
#[test]
fn kms_signing_and_quarter_over_quarter_diff_against_the_emulator() {
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path());
    let key: serde_json::Value =
        serde_json::from_str(&python("kms_key.py", &[&emu.endpoint])).unwrap();
    let key_arn = key["key_arn"].as_str().unwrap();
    let pem = work.path().join("kms-public-key.pem");
    std::fs::write(&pem, key["public_key_pem"].as_str().unwrap()).unwrap();

    let collect = |out: &Path| {
        let r = run(collect_seed_org(&mut emu.auditpack(SECRET), out, &config));
        assert_eq!(r.code, 0, "collect:\n{}\n{}", r.stdout, r.stderr);
    };
    let before = work.path().join("before");
    collect(&before);
    let old = report_by(
        emu.auditpack(SECRET),
        &before,
        &work.path().join("q1"),
        &[
            "--config",
            config.to_str().unwrap(),
            "--kms-key-id",
            key_arn,
        ],
    )
    .zip();

    let bag = unzip(&old, &work.path().join("q1-unzipped"));
    let info = read_json(&bag.join("signature/kms-key.json"));
    assert_eq!(info["key_arn"], key_arn);
    assert_eq!(info["signing_algorithm"], "ECDSA_SHA_256");
    let commands = run_verify_commands(&bag);
    assert!(
        commands[0].starts_with("openssl dgst -sha256 -verify signature/kms-public-key.pem"),
        "{commands:?}"
    );
    let r = run(auditpack()
        .arg("verify")
        .arg("--pubkey")
        .arg(&pem)
        .arg(&old));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("signed by {key_arn} key sha256:"))
            && r.stdout.contains("trusted: listed in"),
        "{}",
        r.stdout
    );
    let r = run(auditpack().args(["verify", "--reevaluate"]).arg(&old));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // A changed KMS signature is named, by auditpack and by openssl alike.
    let sig = bag.join("signature/tagmanifest-sha256.txt.kms.sig");
    let mut bytes = std::fs::read(&sig).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&sig, bytes).unwrap();
    let r = run(auditpack()
        .arg("verify")
        .arg("--pubkey")
        .arg(&pem)
        .arg(&bag));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("signature/tagmanifest-sha256.txt.kms.sig: the signature does not match"),
        "{}",
        r.stdout
    );
    let openssl = Command::new("sh")
        .args(["-c", &commands[0]])
        .current_dir(&bag)
        .output()
        .unwrap();
    assert!(!openssl.status.success(), "openssl rejects it too");

    // Next quarter: prod's Config recorder in eu-west-1 was started.
    python("remediate.py", &[&emu.endpoint, &emu.account("prod")]);
    let (ssh_key, ssh_pub) = keygen(work.path(), "id_ed25519", "auditor@example.com");
    let q2 = work.path().join("q2");
    let r = run(emu
        .auditpack(SECRET)
        .args([
            "run",
            "--regions",
            "us-east-1,eu-west-1",
            "--period",
            "2026-Q4",
            "--s3-path-style",
            "--max-attempts",
            "2",
            "--no-progress",
            "--out",
        ])
        .arg(&q2)
        .arg("--config")
        .arg(&config)
        .arg("--sign-key")
        .arg(&ssh_key));
    assert_eq!(r.code, 0, "run --sign-key:\n{}\n{}", r.stdout, r.stderr);
    let new = find_zip(&q2);

    let trust = allowed_signers(work.path(), "auditor@example.com", &ssh_pub);
    let r = run(auditpack()
        .args(["diff", "--format", "json", "--allowed-signers"])
        .arg(&trust)
        .arg(&old)
        .arg(&new));
    assert_eq!(
        r.code, 1,
        "the old bundle is KMS-signed, not by the trusted SSH key: {}",
        r.stderr
    );
    let r = run(auditpack()
        .args(["diff", "--format", "json"])
        .arg(&old)
        .arg(&new));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let diff: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let prod = emu.account("prod");
    let fixed: Vec<&serde_json::Value> = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "fixed")
        .collect();
    assert!(
        fixed.iter().any(|i| i["control"] == "config.recording"
            && i["account_id"] == prod.as_str()
            && i["region"] == "eu-west-1"
            && i["old"] == "FAIL"
            && i["new"] == "PASS"),
        "{}",
        r.stdout
    );
    assert!(
        diff["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["control"] == "config.recording"),
        "{}",
        r.stdout
    );
    assert!(diff["accounts_added"].as_array().unwrap().is_empty());
    let text = run(auditpack().arg("diff").arg(&old).arg(&new));
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(&format!(
            "config.recording {prod} (acme-prod) eu-west-1: FAIL → PASS"
        )),
        "{}",
        text.stdout
    );
    assert_eq!(
        diff["old"]["signed_by"][0]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("kms")
    );
    assert_eq!(
        diff["new"]["signed_by"][0]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("ssh")
    );

    for dir in [work.path().join("q1"), q2] {
        assert_no_secrets(&dir, SECRET);
    }
}
