//! Sharding end to end against the moto emulator: the seeded organization is
//! collected once whole and once as three shards (`collect --ou/--accounts`,
//! as three CI jobs would), the shards are joined by `auditpack merge`, and the
//! merged tree must hold the same evidence files and give the same verdict
//! for every control, account and region as the whole run.

use std::collections::BTreeSet;
use std::path::Path;

use auditpack_core::evaluation::{Results, Verdict};

use crate::common::emulator::{collect_seed_org, write_config, Emulator};
use crate::common::{
    files_under, find_zip, kept_artifacts, read_json, relative, report_by, run, verdicts, Run,
};

const SECRET: &str = "sharding-secret-key-that-must-never-be-written-41c2";
/// The seed's sandbox OU (its name is hostile on purpose).
const SANDBOX_OU: &str = "Root/Sandbox <script>alert('ou')";

fn evidence_paths(root: &Path) -> BTreeSet<String> {
    files_under(root)
        .iter()
        .map(|p| relative(root, p))
        .filter(|p| p != "run.json")
        .collect()
}

/// `report` on `evidence` with the emulator's environment and `config`.
fn results(emu: &Emulator, evidence: &Path, out: &Path, config: &Path) -> Results {
    let config = ["--config", config.to_str().unwrap()];
    report_by(emu.auditpack(SECRET), evidence, out, &config).typed_results()
}

#[test]
fn three_shards_merged_give_the_whole_runs_verdicts() {
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path());
    let management = emu.account("management");

    let whole = work.path().join("whole");
    let r = run(collect_seed_org(
        &mut emu.auditpack(SECRET),
        &whole,
        &config,
    ));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let shards: [(&str, Vec<&str>); 3] = [
        ("workloads", vec!["--ou", "Root/Workloads"]),
        (
            "core",
            vec![
                "--ou",
                "Root/Security",
                "--ou",
                "Root/Infrastructure/",
                "--accounts",
                &management,
            ],
        ),
        ("sandbox", vec!["--ou", SANDBOX_OU]),
    ];
    for (name, selection) in &shards {
        let out = work.path().join(name);
        let r = run(collect_seed_org(&mut emu.auditpack(SECRET), &out, &config).args(selection));
        assert_eq!(r.code, 0, "shard {name}:\n{}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains("outside --ou/--accounts were not collected"),
            "{}",
            r.stdout
        );
        assert!(
            run_scope_is_recorded(&out),
            "shard {name} has no scope in run.json"
        );
    }
    // The workloads shard: only its three accounts have a collection outcome.
    let org = read_json(&work.path().join("workloads/org.json"));
    let collected: BTreeSet<&str> = org["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a.get("reachable").is_some())
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = ["prod", "dev", "staging"].map(|k| emu.account(k)).into();
    assert_eq!(
        collected,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );

    // The merged evidence and its report are kept for the browser check of
    // scripts/test.sh (the scope and shard rows carry the hostile OU name).
    let kept = kept_artifacts("sharded");
    let merged = kept.join("evidence");
    let mut cmd = emu.auditpack(SECRET);
    cmd.arg("merge");
    for (name, _) in &shards {
        cmd.arg("--evidence").arg(work.path().join(name));
    }
    let r = run(cmd.arg("--out").arg(&merged));
    assert_eq!(r.code, 0, "merge:\n{}\n{}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("not collected by any shard"),
        "{}",
        r.stdout
    );

    assert_eq!(evidence_paths(&merged), evidence_paths(&whole));
    let from_whole = verdicts(&results(
        &emu,
        &whole,
        &work.path().join("out-whole"),
        &config,
    ));
    let from_merged = verdicts(&results(&emu, &merged, &kept.join("out"), &config));
    assert!(from_whole.values().any(|s| *s == Verdict::Fail));
    assert!(from_whole.values().any(|s| *s == Verdict::Pass));
    assert_eq!(from_merged, from_whole);

    // The report says the evidence is merged and from which shards; the
    // shards together cover the organization, so no scope limits it.
    let html = std::fs::read_to_string(kept.join("out/report.html")).unwrap();
    assert!(
        html.contains("Merged from 3 collection runs"),
        "no shards row"
    );
    assert!(
        !html.contains("Collection scope"),
        "a scope row for a complete merge"
    );
    assert!(read_json(&merged.join("run.json")).get("scope").is_none());

    // Its bundle verifies offline and re-evaluates to the same results.
    let zip = find_zip(&kept.join("out"));
    let r = run(emu
        .auditpack(SECRET)
        .args(["verify", "--reevaluate"])
        .arg(&zip));
    assert_eq!(r.code, 0, "verify:\n{}\n{}", r.stdout, r.stderr);
}

fn run_scope_is_recorded(evidence: &Path) -> bool {
    let run_json = read_json(&evidence.join("run.json"));
    run_json["scope"].is_object()
}

#[test]
fn a_selection_that_names_nothing_stops_the_run() {
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path());
    let out = work.path().join("typo");
    let r = collect_refused(
        &emu,
        &out,
        &config,
        &["--ou", "Root/Workload"],
        "--ou \"Root/Workload\" selects no active account",
    );
    assert!(r.stderr.contains("Root/Workloads/Prod"), "{}", r.stderr);
    assert!(!out.exists(), "no evidence folder for a refused selection");
    assert!(
        !work.path().join("typo.partial").exists(),
        "no partial folder either"
    );

    collect_refused(
        &emu,
        &out,
        &config,
        &["--accounts", "000000000000"],
        "--accounts 000000000000: no such account",
    );
}

/// Collects the seeded organization with `selection`, which must be refused
/// with exit 2 and `message` on stderr.
fn collect_refused(
    emu: &Emulator,
    out: &Path,
    config: &Path,
    selection: &[&str],
    message: &str,
) -> Run {
    let r = run(collect_seed_org(&mut emu.auditpack(SECRET), out, config).args(selection));
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(message), "{}", r.stderr);
    r
}
