//! The CI gate end to end through the real binary on the bundled samples:
//! exit codes for pass, fail, not assessed and every waiver state, the
//! exceptions register in every output and in the bundle, JUnit XML checked by
//! a strict XML parser, SARIF checked against the SARIF 2.1.0 JSON schema, the
//! Markdown job summary, and the CI examples using only flags that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use auditpack_core::outputs::bagit::file_sha256;
use serde_json::Value;

use crate::common::{auditpack, find_zip, read_json, repo, report, run, samples, Run};

/// The samples' results without waivers, made once per test that needs them.
fn plain_results(dir: &Path) -> Value {
    report(&samples(), &dir.join("plain"), &[]).results()
}

fn controls(results: &Value) -> &Vec<Value> {
    results["controls"].as_array().unwrap()
}

fn gate(results_json: &Path, extra: &[&str]) -> Run {
    run(auditpack().arg("gate").arg(results_json).args(extra))
}

/// One `[[waiver]]` entry.
fn waiver(control: &str, account: Option<&str>, region: Option<&str>, expires: &str) -> String {
    let mut w = format!("[[waiver]]\ncontrol = \"{control}\"\n");
    if let Some(a) = account {
        w.push_str(&format!("account = \"{a}\"\n"));
    }
    if let Some(r) = region {
        w.push_str(&format!("region = \"{r}\"\n"));
    }
    w.push_str(&format!(
        "reason = \"Accepted <b>risk</b> for {control}\"\napprover = \"Jane Roe (CISO)\"\n\
         ticket = \"RISK-1\"\nexpires = {expires}\n\n"
    ));
    w
}

/// Whole-control waivers for every control that is not PASS or DISABLED.
fn waive_every_problem(results: &Value, expires: &str) -> String {
    controls(results)
        .iter()
        .filter(|c| !["PASS", "DISABLED"].contains(&c["status"].as_str().unwrap()))
        .map(|c| waiver(c["id"].as_str().unwrap(), None, None, expires))
        .collect()
}

fn report_with_waivers(dir: &Path, name: &str, waivers: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, waivers).unwrap();
    let out = dir.join(name);
    report(&samples(), &out, &["--waivers", file.to_str().unwrap()]);
    out
}

fn statuses(results: &Value) -> BTreeSet<String> {
    controls(results)
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn exit_codes_for_fail_not_assessed_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    let results = plain_results(dir.path());
    let failing = gate(&dir.path().join("plain/results.json"), &[]);
    assert_eq!(failing.code, 1, "{}", failing.stdout);
    assert!(
        failing.last_line().starts_with("FAILED:") && failing.last_line().contains("failed ("),
        "the last line says why: {}",
        failing.stdout
    );
    assert!(
        failing.stdout.lines().any(|l| l.starts_with("FAIL ")),
        "each failing control gets a line: {}",
        failing.stdout
    );

    // Waive exactly the FAIL items (account and region named): what is left
    // is NOT ASSESSED, and the gate still fails, closed.
    let waivers: String = controls(&results)
        .iter()
        .flat_map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            c["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["status"] == "FAIL")
                .map(move |i| {
                    waiver(
                        &id,
                        i["account_id"].as_str(),
                        i["region"].as_str(),
                        "2099-12-31",
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let out = report_with_waivers(dir.path(), "fails-waived", &waivers);
    let waived = read_json(&out.join("results.json"));
    assert!(
        !statuses(&waived).contains("FAIL"),
        "{:?}",
        statuses(&waived)
    );
    assert!(statuses(&waived).contains("NOT_ASSESSED"));
    let r = gate(&out.join("results.json"), &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.last_line().starts_with("FAILED:")
            && r.last_line().contains("not assessed (")
            && !r.last_line().contains(" failed ("),
        "{}",
        r.stdout
    );

    // Only the controls that pass on the samples: the gate passes.
    let passing = dir.path().join("passing-controls");
    std::fs::create_dir(&passing).unwrap();
    for c in controls(&results).iter().filter(|c| c["status"] == "PASS") {
        let file = c["file"].as_str().unwrap();
        std::fs::copy(repo().join("controls").join(file), passing.join(file)).unwrap();
    }
    assert!(std::fs::read_dir(&passing).unwrap().count() > 0);
    let out = dir.path().join("passing");
    report(
        &samples(),
        &out,
        &[
            "--no-builtin-controls",
            "--controls",
            passing.to_str().unwrap(),
        ],
    );
    let r = gate(&out.join("results.json"), &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.last_line().starts_with("PASSED:"), "{}", r.stdout);
}

#[test]
fn active_expired_and_stale_waivers() {
    let dir = tempfile::tempdir().unwrap();
    let results = plain_results(dir.path());
    let first_pass = controls(&results)
        .iter()
        .find(|c| c["status"] == "PASS")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .expect("some control passes on the samples");

    // Every problem waived, plus one waiver for a passing control (stale).
    let register = waive_every_problem(&results, "2099-12-31")
        + &waiver(&first_pass, None, None, "2099-12-31");
    let out = report_with_waivers(dir.path(), "active", &register);
    let waived = read_json(&out.join("results.json"));
    assert_eq!(
        statuses(&waived),
        ["PASS", "WAIVED"].iter().map(|s| s.to_string()).collect(),
        "everything not passing is waived"
    );
    let item = controls(&waived)
        .iter()
        .flat_map(|c| c["results"].as_array().unwrap())
        .find(|i| i["status"] == "WAIVED")
        .unwrap();
    assert_eq!(item["waiver"]["approver"], "Jane Roe (CISO)");
    assert!(["FAIL", "NOT_ASSESSED"].contains(&item["waiver"]["original_status"].as_str().unwrap()));
    let states: Vec<&str> = waived["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.last(), Some(&"stale"));
    assert!(states[..states.len() - 1].iter().all(|s| *s == "active"));

    let r = gate(&out.join("results.json"), &[]);
    assert_eq!(r.code, 0, "waived counts as passing: {}", r.stdout);
    assert!(r.last_line().starts_with("PASSED:"), "{}", r.stdout);
    assert!(r.last_line().contains("1 stale waiver(s)"), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("STALE WAIVER   {first_pass}")),
        "{}",
        r.stdout
    );

    // The register is in the bundle, under the manifest, and in every output.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("WAIVED") && report.contains("Jane Roe (CISO)"));
    assert!(
        report.contains("Accepted &lt;b&gt;risk&lt;&#x2F;b&gt;")
            || report.contains("Accepted &lt;b&gt;risk&lt;/b&gt;"),
        "the reason is escaped"
    );
    assert!(std::fs::read_to_string(out.join("junit.xml"))
        .unwrap()
        .contains("WAIVED by Jane Roe (CISO)"));
    assert!(std::fs::read_to_string(out.join("summary.md"))
        .unwrap()
        .contains("| active |"));
    assert!(std::fs::read_to_string(out.join("results.csv"))
        .unwrap()
        .contains("WAIVED"));
    let zip = find_zip(&out);
    let verified = run(auditpack().arg("verify").arg(&zip));
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    let manifest = zip_entry(&zip, "manifest-sha256.txt");
    let digest = file_sha256(&dir.path().join("active.toml")).unwrap();
    assert!(
        manifest.contains(&format!("{digest}  data/waivers.toml")),
        "{manifest}"
    );

    // The same register, expired before the evidence was collected.
    let register = waive_every_problem(&results, "2001-01-31");
    let out = report_with_waivers(dir.path(), "expired", &register);
    let r = gate(&out.join("results.json"), &[]);
    assert_eq!(
        r.code, 1,
        "an expired waiver no longer waives: {}",
        r.stdout
    );
    assert!(r.stdout.contains("EXPIRED WAIVER"), "{}", r.stdout);
    assert!(
        r.last_line().contains("expired waiver(s) no longer waive"),
        "{}",
        r.stdout
    );
    assert!(!statuses(&read_json(&out.join("results.json"))).contains("WAIVED"));
}

#[test]
fn a_malformed_waiver_file_is_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waivers.toml");
    let text = waiver("logarchive.immutable", Some("123"), None, "2099-12-31")
        + &waiver("no.such-control", None, None, "2099-12-31");
    std::fs::write(&file, text).unwrap();
    let r = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--waivers")
        .arg(&file));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("waivers.toml:3: waiver[0].account"),
        "{}",
        r.stderr
    );
    assert!(
        !dir.path().join("out").exists(),
        "nothing written on bad input"
    );

    std::fs::write(&file, waiver("no.such-control", None, None, "2099-12-31")).unwrap();
    let lint = run(auditpack()
        .args(["controls", "lint", "--waivers"])
        .arg(&file));
    assert_eq!(lint.code, 2, "{}{}", lint.stdout, lint.stderr);
    assert!(
        lint.stderr
            .contains("waivers.toml:1: waiver.control: no control has id 'no.such-control'"),
        "{}",
        lint.stderr
    );

    std::fs::write(&file, "[[waiver]]\ncontrol = \"x\"\nexpires = 2027-13-01\n").unwrap();
    let lint = run(auditpack()
        .args(["controls", "lint", "--waivers"])
        .arg(&file));
    assert_eq!(lint.code, 2);
    assert!(lint.stderr.contains("waivers.toml:3"), "{}", lint.stderr);
}

fn zip_entry(zip: &Path, suffix: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let name = archive
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n.ends_with(&format!("/{suffix}")))
        .unwrap()
        .to_string();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(&name).unwrap(), &mut text).unwrap();
    text
}

#[test]
fn junit_xml_has_a_suite_per_control_and_a_case_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let results = plain_results(dir.path());
    let xml = std::fs::read_to_string(dir.path().join("plain/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), controls(&results).len());
    for (suite, control) in suites.iter().zip(controls(&results)) {
        assert_eq!(suite.attribute("name"), control["id"].as_str());
        let items = control["results"].as_array().unwrap();
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), items.len().max(1), "{}", control["id"]);
        let count = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
        };
        let with = |s: &str| items.iter().filter(|i| i["status"] == s).count();
        assert_eq!(count("failure"), with("FAIL"), "{}", control["id"]);
        if !items.is_empty() {
            assert_eq!(count("error"), with("NOT_ASSESSED"), "{}", control["id"]);
        }
        assert_eq!(
            suite
                .attribute("failures")
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            count("failure")
        );
        for case in &cases {
            if let Some(failure) = case.children().find(|n| n.has_tag_name("failure")) {
                assert!(!failure.attribute("message").unwrap_or_default().is_empty());
            }
        }
    }
}

/// Needs the venv's jsonschema, which scripts/test.sh installs with moto: on
/// with the `emulator` feature.
#[cfg(feature = "emulator")]
#[test]
fn sarif_is_valid_against_the_2_1_0_schema_and_lists_every_failure() {
    let dir = tempfile::tempdir().unwrap();
    let results = plain_results(dir.path());
    let sarif_path = dir.path().join("plain/results.sarif");
    let schema = repo().join("tests/fixtures/sarif-schema-2.1.0.json");
    let python = crate::common::emulator::venv_bin("python");
    let check = run(std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             doc = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft7Validator.check_schema(schema)\n\
             errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))\n\
             [print(e.json_path, e.message) for e in errors]\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(&schema)
        .arg(&sarif_path));
    assert_eq!(
        check.code, 0,
        "SARIF schema errors:\n{}{}",
        check.stdout, check.stderr
    );

    let sarif = read_json(&sarif_path);
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), controls(&results).len());
    assert!(rules
        .iter()
        .all(|r| !r["help"]["text"].as_str().unwrap().is_empty()
            && r["properties"]["tags"]
                .as_array()
                .is_some_and(|t| !t.is_empty())));
    let problems = controls(&results)
        .iter()
        .flat_map(|c| c["results"].as_array().unwrap())
        .filter(|i| ["FAIL", "NOT_ASSESSED"].contains(&i["status"].as_str().unwrap()))
        .count();
    let sarif_results = run0["results"].as_array().unwrap();
    assert_eq!(sarif_results.len(), problems);
    for r in sarif_results {
        let rule = r["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|x| x["id"] == rule));
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("controls/")
        );
        assert!(!r["partialFingerprints"].as_object().unwrap().is_empty());
    }
}

#[test]
fn the_gate_appends_its_summary_for_github_and_never_colours_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    plain_results(dir.path());
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    for _ in 0..2 {
        let r = run(auditpack()
            .arg("gate")
            .arg(dir.path().join("plain/results.json"))
            .env("GITHUB_STEP_SUMMARY", &summary));
        assert_eq!(r.code, 1);
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n"), "appended, not replaced");
    assert_eq!(text.matches("## auditpack gate: FAILED").count(), 2);
    assert!(text.contains("### Controls that need attention"));
    assert!(!text.contains("<script"), "untrusted text is inert");

    let json = run(auditpack()
        .arg("gate")
        .arg(dir.path().join("plain/results.json"))
        .args(["--format", "json", "--fail-on", "critical"]));
    let decision: Value = serde_json::from_str(&json.stdout).expect("JSON only on stdout");
    assert_eq!(decision["fail_on"], "critical");
    assert_eq!(decision["passed"], json.code == 0);

    // Logs at -vv: no ANSI escapes when stderr is not a terminal, with or
    // without NO_COLOR.
    for no_color in [false, true] {
        let mut cmd = auditpack();
        cmd.args(["-vv", "report", "--evidence"])
            .arg(samples())
            .arg("--out")
            .arg(dir.path().join(format!("logs-{no_color}")));
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0);
        assert!(!r.stderr.is_empty(), "-vv logs something");
        assert!(
            !r.stderr.contains('\u{1b}'),
            "no colour codes: {:?}",
            r.stderr
        );
    }
}

/// Every `auditpack …` command in the CI examples uses only flags that the
/// subcommand's --help lists, so the examples cannot drift from the CLI.
#[test]
fn ci_examples_use_only_documented_flags() {
    let mut checked = 0;
    for example in [
        "docs/ci/github-actions.yml",
        "docs/ci/github-actions-sharded.yml",
        "docs/ci/gitlab-ci.yml",
    ] {
        let text = std::fs::read_to_string(repo().join(example)).unwrap();
        for command in auditpack_commands(&text) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let sub = words[1];
            let help = run(auditpack().args([sub, "--help"]));
            assert_eq!(help.code, 0, "{example}: unknown subcommand {sub}");
            for flag in words.iter().filter(|w| w.starts_with("--")) {
                assert!(
                    help.stdout.contains(&format!("{flag} "))
                        || help.stdout.contains(&format!("{flag}\n")),
                    "{example}: `{flag}` is not a flag of `auditpack {sub}`"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "found the commands ({checked} flags)");
}

/// The `auditpack <sub> …` command lines of a YAML file, with shell and YAML
/// line continuations joined.
fn auditpack_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches("- ")
            .trim_start_matches("run: ");
        if let Some(cmd) = current.as_mut() {
            if line.starts_with("--") {
                cmd.push(' ');
                cmd.push_str(line.trim_end_matches('\\'));
                continue;
            }
            commands.push(current.take().unwrap());
        }
        if line.starts_with("auditpack ") {
            current = Some(line.trim_end_matches('\\').to_string());
        }
    }
    commands.extend(current);
    commands
}

/// Writes `results` as a results.json in `dir` and gates on it.
fn gate_edited(dir: &Path, name: &str, results: &Value) -> Run {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(results).unwrap()).unwrap();
    gate(&path, &[])
}

/// The gate refused the results with exit 2, saying `why`.
fn assert_refused(r: &Run, why: &str) {
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(why), "{}", r.stderr);
}

#[test]
fn the_gate_refuses_results_whose_verdicts_do_not_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let results = plain_results(tmp.path());
    let failing = controls(&results)
        .iter()
        .position(|c| c["status"] == "FAIL")
        .expect("the samples have a failing control");
    let id = controls(&results)[failing]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A control whose status says PASS while its items say FAIL (summary
    // recounted to match, as a careful forger would).
    let mut forged = results.clone();
    forged["controls"][failing]["status"] = "PASS".into();
    forged["summary"]["controls"]["fail"] =
        (results["summary"]["controls"]["fail"].as_u64().unwrap() - 1).into();
    forged["summary"]["controls"]["pass"] =
        (results["summary"]["controls"]["pass"].as_u64().unwrap() + 1).into();
    let r = gate_edited(tmp.path(), "forged-status", &forged);
    assert_refused(
        &r,
        &format!("control {id} says PASS but its items combine to FAIL"),
    );

    // A summary that miscounts.
    let mut miscounted = results.clone();
    miscounted["summary"]["controls"]["fail"] = 0.into();
    let r = gate_edited(tmp.path(), "miscounted", &miscounted);
    assert_refused(&r, "summary does not count");

    // No controls at all: nothing was evaluated, nothing can pass.
    let mut no_controls = results.clone();
    no_controls["controls"] = Value::Array(Vec::new());
    let r = gate_edited(tmp.path(), "no-controls", &no_controls);
    assert_refused(&r, "no controls");

    // An item forged to PASS while its requirement says FAIL.
    let mut forged_item = results.clone();
    let item = forged_item["controls"][failing]["results"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["status"] == "FAIL")
        .unwrap();
    item["status"] = "PASS".into();
    let r = gate_edited(tmp.path(), "forged-item", &forged_item);
    assert_refused(&r, "says PASS but its requirements combine to FAIL");

    // The untouched file is gated as before (exit 1: a control fails).
    let r = gate_edited(tmp.path(), "untouched", &results);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}
