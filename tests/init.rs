//! `auditpack init` against the emulator's organization (#20): discovery with
//! the current credentials, roles guessed from names and OUs and shown with
//! their reasons, a starter auditpack.toml that lints and gives every account
//! its guessed role, never written over an existing file.

use crate::common::emulator::Emulator;
use crate::common::{auditpack, run};

const SECRET: &str = "init-secret-key-that-must-never-be-written-5d1e";

#[test]
fn init_discovers_the_organization_and_writes_a_starter_config() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();

    let dry = run(emu
        .auditpack(SECRET)
        .args(["init", "--dry-run", "--s3-path-style"]));
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    // The guesses, one line per active account, on stderr; the file on stdout.
    let expected = [
        ("management", "management"),
        ("security", "security"),
        ("log-archive", "log-archive"),
        ("network", "network"),
        ("dev", "workload"),
        ("prod", "workload"),
        ("staging", "workload"),
        ("sandbox", "sandbox"),
    ];
    for (key, role) in expected {
        let id = emu.account(key);
        let line = dry
            .stderr
            .lines()
            .find(|l| l.starts_with(&id))
            .unwrap_or_else(|| panic!("{key} ({id}) is listed:\n{}", dry.stderr));
        assert_eq!(line.split_whitespace().nth(1), Some(role), "{key}: {line}");
    }
    assert!(
        dry.stderr.contains("the account name says \"log archive\""),
        "{}",
        dry.stderr
    );
    let text = &dry.stdout;
    assert!(
        text.starts_with("# auditpack.toml, written by `auditpack init`"),
        "{text}"
    );
    assert!(text.contains(&emu.seed["organization_id"].as_str().unwrap().to_string()));
    assert!(text.contains(
        "Home region (from your credentials; global services are read there): us-east-1"
    ));
    // The emulator's fault proxy answers account:ListRegions for the management account.
    assert!(
        text.contains("# Regions enabled in the management account: "),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    assert!(!dir.path().join("auditpack.toml").exists());

    // Written (no terminal: no question), it lints with the shipped controls.
    let config = dir.path().join("auditpack.toml");
    let written = run(emu
        .auditpack(SECRET)
        .args(["init", "--s3-path-style", "--out"])
        .arg(&config));
    assert_eq!(written.code, 0, "{}{}", written.stdout, written.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), *text);
    let lint = run(auditpack()
        .args(["controls", "lint", "--config"])
        .arg(&config));
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);

    // Never over an existing file, before any call; --force replaces it.
    std::fs::write(&config, "# edited by hand\n").unwrap();
    let again = run(emu
        .auditpack(SECRET)
        .args(["init", "--s3-path-style", "--out"])
        .arg(&config));
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# edited by hand\n"
    );
    let forced = run(emu
        .auditpack(SECRET)
        .args(["init", "--s3-path-style", "--force", "--out"])
        .arg(&config));
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), *text);
}

#[test]
fn init_without_credentials_fails_as_the_tool_naming_the_call() {
    // No endpoint answers here: the credentials cannot be checked.
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        crate::common::emulator::auditpack_at("http://127.0.0.1:9", "AKIANOBODY", "x")
            .args(["init", "--out"])
            .arg(dir.path().join("auditpack.toml")),
    );
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("GetCallerIdentity"), "{}", r.stderr);
    assert!(!dir.path().join("auditpack.toml").exists());
}
