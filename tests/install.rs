//! Installed anywhere (#20): the binary carries its control catalog, so every
//! command works from a folder that is not the checkout; the catalog can be
//! exported, edited and used instead; completions and man pages come from the
//! real clap definitions; `--version` names the commit.

use std::path::Path;

use crate::common::{auditpack, find_zip, read_json, repo, run, samples, verdicts, Run};

/// The binary, run from `dir` (not the repository).
fn in_dir(dir: &Path, args: &[&str]) -> Run {
    run(auditpack().current_dir(dir).args(args))
}

#[test]
fn every_command_works_from_a_folder_that_is_not_the_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let samples = samples();
    let samples = samples.to_str().unwrap();

    let listed = in_dir(here, &["controls", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let catalog = std::fs::read_dir(repo().join("controls"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(
        listed.stdout.lines().count(),
        catalog + 1,
        "{}",
        listed.stdout
    );
    assert!(listed
        .stdout
        .lines()
        .skip(1)
        .all(|l| l.contains(" built-in ")));

    let lint = in_dir(here, &["controls", "lint"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(
        lint.stdout.contains(&format!("OK: {catalog} controls")),
        "{}",
        lint.stdout
    );

    let report = in_dir(here, &["report", "--evidence", samples, "--out", "out"]);
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    let results = read_json(&here.join("out/results.json"));
    assert_eq!(results["controls"].as_array().unwrap().len(), catalog);
    let zip = find_zip(&here.join("out"));
    let zip = zip.to_str().unwrap();
    assert_eq!(in_dir(here, &["verify", zip]).code, 0);
    let reevaluated = in_dir(here, &["verify", "--reevaluate", zip]);
    assert_eq!(
        reevaluated.code, 0,
        "{}{}",
        reevaluated.stdout, reevaluated.stderr
    );
    // The samples fail some controls: the gate decides (1), it does not break (2, 3).
    assert_eq!(in_dir(here, &["gate", zip]).code, 1);
    assert_eq!(in_dir(here, &["gate", "out/results.json"]).code, 1);
    let diff = in_dir(here, &["diff", zip, zip]);
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    let policy = in_dir(here, &["iam-policy"]);
    assert_eq!(policy.code, 0);
    let policy: serde_json::Value = serde_json::from_str(&policy.stdout).unwrap();
    assert!(policy["Statement"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
}

#[test]
fn the_exported_catalog_edited_replaces_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("my-controls");
    let exported = run(auditpack().args(["controls", "export"]).arg(&mine));
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    // Byte for byte the shipped files.
    for entry in std::fs::read_dir(repo().join("controls")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let copy = mine.join(path.file_name().unwrap());
            assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(copy).unwrap());
        }
    }
    // Exported again into the same folder: refused, nothing overwritten.
    let again = run(auditpack().args(["controls", "export"]).arg(&mine));
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already there"), "{}", again.stderr);

    // Given as well as the built-in catalog: every id clashes, named.
    let out = dir.path().join("clash");
    let clash = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--out")
        .arg(&out)
        .arg("--controls")
        .arg(&mine));
    assert_eq!(clash.code, 2, "{}", clash.stderr);
    assert!(
        clash.stderr.contains("is also used by built-in/"),
        "{}",
        clash.stderr
    );
    assert!(!out.exists(), "nothing written");

    // Instead of it, unedited: the same verdicts, now of custom controls.
    let builtin = crate::common::report(&samples(), &dir.path().join("builtin"), &[]);
    let custom = crate::common::report(
        &samples(),
        &dir.path().join("custom"),
        &[
            "--no-builtin-controls",
            "--controls",
            mine.to_str().unwrap(),
        ],
    );
    assert_eq!(
        verdicts(&builtin.typed_results()),
        verdicts(&custom.typed_results())
    );
    assert!(custom.results()["controls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["origin"] == "custom"));

    // Edited: a stricter parameter default changes the verdict it should.
    let policy = mine.join("iam.password-policy.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let stricter = text.replacen("min_length = 14", "min_length = 99", 1);
    assert_ne!(text, stricter, "the control has a min_length default");
    std::fs::write(&policy, stricter).unwrap();
    let edited = crate::common::report(
        &samples(),
        &dir.path().join("edited"),
        &[
            "--no-builtin-controls",
            "--controls",
            mine.to_str().unwrap(),
        ],
    )
    .results();
    let control = edited["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "iam.password-policy")
        .unwrap();
    assert_eq!(control["status"], "FAIL", "{control}");
    assert_eq!(control["params"]["min_length"], 99);
}

#[test]
fn completions_and_man_pages_come_from_the_real_flags() {
    let bash = run(auditpack().args(["completions", "bash"]));
    assert_eq!(bash.code, 0);
    for word in ["report", "verify", "--no-builtin-controls", "--evidence"] {
        assert!(bash.stdout.contains(word), "bash completes {word}");
    }
    // The script is valid bash and registers the completion.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("auditpack.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let registered = run(std::process::Command::new("bash").arg("-c").arg(format!(
        "source {} && complete -p auditpack",
        script.display()
    )));
    assert_eq!(registered.code, 0, "{}", registered.stderr);
    assert!(
        registered.stdout.contains("_auditpack"),
        "{}",
        registered.stdout
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = run(auditpack().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("--no-builtin-controls"), "{shell}");
    }
    assert_eq!(run(auditpack().args(["completions", "tcsh"])).code, 2);

    let man = run(auditpack().arg("man"));
    assert_eq!(man.code, 0);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH auditpack 1"));
    assert!(
        man.stdout.contains(".TH auditpack 1"),
        "{}",
        &man.stdout[..200]
    );
    let pages = dir.path().join("man1");
    let written = run(auditpack().args(["man", "--out"]).arg(&pages));
    assert_eq!(written.code, 0, "{}", written.stderr);
    for page in [
        "auditpack.1",
        "auditpack-report.1",
        "auditpack-verify.1",
        "auditpack-controls-export.1",
    ] {
        let text =
            std::fs::read_to_string(pages.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page}");
    }
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let version = run(auditpack().arg("--version"));
    assert_eq!(version.code, 0);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output()
        .unwrap();
    if head.status.success() {
        // Built from this checkout: its commit at build time (the test binary
        // is rebuilt with the binary, so HEAD has not moved since).
        let commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert_eq!(
            version.stdout.trim(),
            format!("auditpack {} ({commit})", env!("CARGO_PKG_VERSION"))
        );
    }
}
