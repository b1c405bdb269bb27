//! Installed anywhere (#20): the binary carries its control catalog, so every
//! command works from a folder that is not the checkout; the catalog can be
//! exported, edited and used instead; completions and man pages come from the
//! real clap definitions; `--version` names the commit.

use std::path::Path;

use crate::common::{
    auditpack, catalog_files, find_zip, read_json, repo, run, samples, verdicts, Run,
};

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
    let catalog = catalog_files().len();
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
    for path in catalog_files() {
        let copy = mine.join(path.file_name().unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(copy).unwrap());
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

/// The `run: |` block of the step with `id: <id>` in a composite action.
fn action_step_script(action: &str, id: &str) -> String {
    let start = action
        .find(&format!("id: {id}\n"))
        .unwrap_or_else(|| panic!("a step with id {id}"));
    let rest = &action[start..];
    let run = rest.find("run: |\n").expect("the step runs a script") + "run: |\n".len();
    rest[run..]
        .lines()
        .take_while(|l| l.starts_with("        ") || l.is_empty())
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `--flag` the CI integrations pass to `auditpack run`, from the lines
/// that build its arguments.
fn flags_passed(text: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for line in text
        .lines()
        .filter(|l| l.contains("args=(") || l.contains("args+=("))
    {
        for word in line.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            if word.starts_with("--") && word.len() > 2 {
                flags.push(word.to_string());
            }
        }
    }
    flags
}

#[test]
fn the_github_action_and_gitlab_template_pass_only_real_flags_of_run() {
    let help = run(auditpack().args(["run", "--help"]));
    assert_eq!(help.code, 0);
    for file in ["action.yml", "ci/gitlab/auditpack.yml"] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        let flags = flags_passed(&text);
        assert!(flags.len() >= 8, "{file}: found {flags:?}");
        for flag in &flags {
            assert!(
                help.stdout.contains(&format!("{flag} "))
                    || help.stdout.contains(&format!("{flag}\n")),
                "{file}: `{flag}` is not a flag of `auditpack run`"
            );
        }
    }
    // Every input of the action reaches the script, and only through the environment.
    let action = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let script = action_step_script(&action, "run");
    assert!(
        !script.contains("${{"),
        "inputs are never pasted into the script"
    );
    for input in [
        "regions",
        "role-name",
        "external-id",
        "period",
        "fail-on",
        "config",
        "waivers",
        "controls",
        "sign-key",
        "kms-key-id",
        "out",
    ] {
        assert!(
            action.contains(&format!("${{{{ inputs.{input} }}}}")),
            "{input} is used"
        );
    }
}

/// The action's script, run with bash as GitHub would, against a stand-in
/// `auditpack` that records its arguments and fails the gate: every input
/// arrives as one literal argument (a hostile external id stays data), files
/// that do not exist are not passed, and the gate's exit code is the step's.
#[test]
fn the_github_action_script_builds_the_command_and_keeps_the_gate_exit_code() {
    let action = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let script = action_step_script(&action, "run");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let recorded = dir.path().join("args");
    let stand_in = bin.join("auditpack");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/bash\nprintf '%s\\n' \"$@\" > {}\nmkdir -p \"$INPUT_OUT\" && touch \"$INPUT_OUT/auditpack-o-x-2026-Q4.zip\"\nexit 1\n",
            recorded.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("auditpack.toml"), "").unwrap();
    let output = dir.path().join("github-output");
    let hostile = "x\"; touch pwned; echo \"$(id)";
    let r = run(std::process::Command::new("bash")
        .arg("-e")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("GITHUB_OUTPUT", &output)
        .env("INPUT_REGIONS", "us-east-1,eu-west-1")
        .env("INPUT_ROLE_NAME", "AuditpackReadOnly")
        .env("INPUT_EXTERNAL_ID", hostile)
        .env("INPUT_PERIOD", "2026-Q4")
        .env("INPUT_FAIL_ON", "high")
        .env("INPUT_CONFIG", "auditpack.toml")
        .env("INPUT_WAIVERS", "waivers.toml")
        .env("INPUT_CONTROLS", "")
        .env("INPUT_SIGN_KEY", "")
        .env("INPUT_KMS_KEY_ID", "")
        .env("INPUT_OUT", "audit"));
    assert_eq!(r.code, 1, "the gate's exit code: {}{}", r.stdout, r.stderr);
    let args: Vec<String> = std::fs::read_to_string(&recorded)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected = [
        "run",
        "--regions",
        "us-east-1,eu-west-1",
        "--role-name",
        "AuditpackReadOnly",
        "--out",
        "audit",
        "--no-progress",
        "--gate",
        "--fail-on",
        "high",
        "--external-id",
        hostile,
        "--period",
        "2026-Q4",
        "--config",
        "auditpack.toml",
    ];
    assert_eq!(args, expected);
    assert!(!dir.path().join("pwned").exists());
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    assert!(
        outputs.contains("bundle=audit/auditpack-o-x-2026-Q4.zip\n"),
        "{outputs}"
    );
    assert!(
        outputs.contains("results=audit/results.json\n"),
        "{outputs}"
    );
}

/// The container image's runtime (Dockerfile: distroless/cc, uid 65532, no
/// shell), reproduced without a container engine: scripts/container-smoke.sh
/// runs this binary in a chroot holding only the files that image gives it.
/// chroot needs root: as another user the check cannot run here, and says so.
#[test]
fn the_binary_runs_in_the_container_images_root_filesystem() {
    let root = run(std::process::Command::new("id").arg("-u"));
    if root.stdout.trim() != "0" {
        eprintln!("not root: scripts/container-smoke.sh (chroot) cannot run here");
        return;
    }
    let r = run(
        std::process::Command::new(repo().join("scripts/container-smoke.sh"))
            .arg(env!("CARGO_BIN_EXE_auditpack"))
            .current_dir(repo()),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("container-smoke: ok"), "{}", r.stdout);
    assert!(
        r.stdout.contains("payload files and every tag file match"),
        "{}",
        r.stdout
    );
}
