//! `auditpack merge` on shards cut from the bundled samples: three shards that
//! cover the organization merge back into the samples' tree (same files, same
//! `org.json`, same verdicts); shards of different runs, overlapping shards and
//! stray files are refused with the shard named; an account no shard
//! collected is NOT ASSESSED. The same over real collections by the emulator
//! is in `tests/sharding.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::{
    auditpack, copy_tree, files_under, read_json, report, run, samples, unzip, write_json, Run,
};

const MANAGEMENT: &str = "123456789012";
/// Root/Workloads/Prod and Root/Workloads/NonProd (one of them unreachable),
/// sorted (shards list their accounts sorted).
const WORKLOADS: [&str; 3] = ["406993622206", "700823212694", "845062585454"];
/// Root/Security, Root/Infrastructure and the sandbox OU.
const REST: [&str; 4] = [
    "705555992644",
    "545985340274",
    "025569892925",
    "833473964924",
];

/// A shard as `collect --accounts …` would write it from the samples: the
/// selected accounts' folders, the management account's discovery calls
/// (every shard discovers the organization), `reachable` only for the selected
/// accounts, and the selection in `run.json`.
fn cut_shard(dir: &Path, name: &str, accounts: &[&str]) -> PathBuf {
    let shard = dir.join(name);
    for account in accounts {
        copy_tree(&samples().join(account), &shard.join(account));
    }
    if !accounts.contains(&MANAGEMENT) {
        let discovery = format!("{MANAGEMENT}/global/organizations");
        copy_tree(&samples().join(&discovery), &shard.join(&discovery));
    }
    let mut org = read_json(&samples().join("org.json"));
    for account in org["accounts"].as_array_mut().unwrap() {
        let id = account["id"].as_str().unwrap().to_string();
        if !accounts.contains(&id.as_str()) {
            account.as_object_mut().unwrap().remove("reachable");
        }
    }
    write_json(&shard.join("org.json"), &org);
    let mut run_json = read_json(&samples().join("run.json"));
    run_json["scope"] = json!({ "accounts": accounts });
    write_json(&shard.join("run.json"), &run_json);
    shard
}

fn merge(shards: &[&Path], out: &Path) -> Run {
    let mut cmd = auditpack();
    cmd.arg("merge");
    for shard in shards {
        cmd.arg("--evidence").arg(shard);
    }
    run(cmd.arg("--out").arg(out))
}

/// Every file under `root`, relative, with its bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            (relative, std::fs::read(&path).unwrap())
        })
        .collect()
}

#[test]
fn three_shards_merge_back_into_the_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let core = cut_shard(tmp.path(), "core", &[MANAGEMENT]);
    let workloads = cut_shard(tmp.path(), "workloads", &WORKLOADS);
    let rest = cut_shard(tmp.path(), "rest", &REST);
    let merged = tmp.path().join("merged");

    let r = merge(&[&workloads, &core, &rest], &merged);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("merged: 3 shards"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("not collected by any shard"),
        "{}",
        r.stdout
    );

    // The account folders are the samples' own, file for file.
    let mut expected = files(&samples());
    let mut got = files(&merged);
    for tree in [&mut expected, &mut got] {
        tree.remove("run.json");
    }
    // Attachments are written by hand beside the merged evidence, not collected.
    expected.retain(|path, _| !path.starts_with("attachments/"));
    let expected_paths: Vec<&String> = expected.keys().collect();
    let got_paths: Vec<&String> = got.keys().collect();
    assert_eq!(got_paths, expected_paths);
    assert_eq!(got, expected, "a merged file differs from the samples'");

    // run.json keeps each shard's record, and which files it did not copy.
    let run_json = read_json(&merged.join("run.json"));
    let shards = run_json["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    assert_eq!(shards[0]["accounts"], json!(WORKLOADS));
    assert_eq!(shards[1]["accounts"], json!([MANAGEMENT]));
    assert_eq!(shards[1]["files_not_copied"], json!([]));
    let skipped = shards[0]["files_not_copied"].as_array().unwrap();
    assert!(!skipped.is_empty());
    assert!(skipped.iter().all(|p| p
        .as_str()
        .unwrap()
        .starts_with(&format!("{MANAGEMENT}/global/organizations/"))));
    assert_eq!(run_json["period"], "2026-Q4");
    assert_eq!(run_json["command_line"][1], "merge");
    assert!(
        run_json.get("scope").is_none(),
        "the shards cover every account"
    );

    // Same verdicts, item for item, as the samples themselves.
    let from_samples = report(&samples(), &tmp.path().join("out-samples"), &[]).results();
    // A team writes its attachments beside the merged evidence, as in the samples.
    copy_tree(&samples().join("attachments"), &merged.join("attachments"));
    let from_merged = report(&merged, &tmp.path().join("out-merged"), &[]).results();
    assert_eq!(from_merged["controls"], from_samples["controls"]);
    assert_eq!(from_merged["summary"], from_samples["summary"]);
}

#[test]
fn an_account_no_shard_collected_is_not_assessed() {
    let tmp = tempfile::tempdir().unwrap();
    let core = cut_shard(tmp.path(), "core", &[MANAGEMENT]);
    let workloads = cut_shard(tmp.path(), "workloads", &WORKLOADS);
    let merged = tmp.path().join("merged");

    let r = merge(&[&core, &workloads], &merged);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for id in REST {
        assert!(
            r.stdout
                .contains(&format!("not collected by any shard: {id}")),
            "{}",
            r.stdout
        );
    }
    let org = read_json(&merged.join("org.json"));
    let security = org["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "025569892925")
        .unwrap();
    assert!(security.get("reachable").is_none());

    let run_json = read_json(&merged.join("run.json"));
    let mut scope = vec![MANAGEMENT];
    scope.extend(WORKLOADS);
    scope.sort();
    assert_eq!(run_json["scope"], json!({ "accounts": scope }));

    let reported = report(&merged, &tmp.path().join("out"), &[]);
    let results = reported.results();
    let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    assert!(
        html.contains("Collection scope</th><td>Only the account(s)"),
        "no scope row"
    );
    assert!(
        html.contains("Merged from 2 collection runs"),
        "no shards row"
    );
    let items: Vec<(&Value, &Value)> = results["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |i| (&c["id"], i))
        })
        .filter(|(_, item)| item["account_id"] == "025569892925")
        .collect();
    assert!(!items.is_empty());
    // Nothing of the account's own was collected, so nothing that needs it can
    // pass or fail. A verdict can only come from evidence another (collected)
    // account holds about it: its tags and delegated services, listed in the
    // management account (org.account-ownership, securityhub.coverage's
    // delegation requirement).
    let own_folder = "025569892925/";
    for (control, item) in &items {
        if item["status"] == "NOT_ASSESSED" {
            continue;
        }
        let evidence = item["evidence"].as_array().unwrap();
        assert!(
            !evidence.is_empty()
                && evidence
                    .iter()
                    .all(|e| !e["path"].as_str().unwrap().starts_with(own_folder)),
            "an uncollected account must never be assessed on its own evidence: {control} {item}"
        );
    }
    let bag = unzip(&reported.zip(), &tmp.path().join("unzipped"));
    let coverage = read_json(&bag.join("data/coverage.json"));
    let failed = coverage["failed"].as_array().unwrap();
    let security = failed
        .iter()
        .find(|f| f["account_id"] == "025569892925")
        .expect("the uncollected account is a coverage failure");
    assert!(
        security["reason"]
            .as_str()
            .unwrap()
            .contains("in no merged shard"),
        "{security}"
    );
}

#[test]
fn overlapping_shards_are_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let a = cut_shard(tmp.path(), "a", &[MANAGEMENT, WORKLOADS[0]]);
    let b = cut_shard(tmp.path(), "b", &[WORKLOADS[0], WORKLOADS[1]]);
    let merged = tmp.path().join("merged");
    let r = merge(&[&a, &b], &merged);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains(&format!("account {} was collected by both", WORKLOADS[0])),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&a.display().to_string()), "{}", r.stderr);
    assert!(r.stderr.contains(&b.display().to_string()), "{}", r.stderr);
    assert!(!merged.exists() && !tmp.path().join("merged.partial").exists());
}

#[test]
fn shards_of_different_runs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = cut_shard(tmp.path(), "a", &[MANAGEMENT]);
    let b = cut_shard(tmp.path(), "b", &WORKLOADS);

    let mut run_json = read_json(&b.join("run.json"));
    run_json["period"] = json!("2026-Q3");
    write_json(&b.join("run.json"), &run_json);
    let r = merge(&[&a, &b], &tmp.path().join("m1"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not of the same run"), "{}", r.stderr);
    assert!(
        r.stderr.contains("period \"2026-Q4\" vs \"2026-Q3\""),
        "{}",
        r.stderr
    );

    run_json["period"] = json!("2026-Q4");
    run_json["regions"] = json!(["us-east-1"]);
    write_json(&b.join("run.json"), &run_json);
    let r = merge(&[&a, &b], &tmp.path().join("m2"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("regions"), "{}", r.stderr);

    run_json["regions"] = json!(["eu-west-1", "us-east-1"]);
    write_json(&b.join("run.json"), &run_json);
    let mut org = read_json(&b.join("org.json"));
    let dropped = org["accounts"].as_array_mut().unwrap().pop().unwrap();
    write_json(&b.join("org.json"), &org);
    let r = merge(&[&a, &b], &tmp.path().join("m3"));
    assert_eq!(r.code, 2);
    let named = format!(
        "org.json lists account {} as Active vs absent",
        dropped["id"].as_str().unwrap()
    );
    assert!(r.stderr.contains(&named), "{}", r.stderr);
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let a = cut_shard(tmp.path(), "a", &[MANAGEMENT]);
    let b = cut_shard(tmp.path(), "b", &WORKLOADS);

    let r = merge(&[&a], &tmp.path().join("m0"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("at least two evidence folders"),
        "{}",
        r.stderr
    );

    std::fs::write(b.join("notes.txt"), "stray").unwrap();
    let r = merge(&[&a, &b], &tmp.path().join("m1"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("notes.txt: not part of an evidence tree"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(b.join("notes.txt")).unwrap();

    std::fs::write(b.join("run.json"), "{ not json").unwrap();
    let r = merge(&[&a, &b], &tmp.path().join("m2"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("{}:1:", b.join("run.json").display())),
        "{}",
        r.stderr
    );

    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), "").unwrap();
    let c = cut_shard(tmp.path(), "c", &WORKLOADS);
    let r = merge(&[&a, &c], &full);
    assert_eq!(
        r.code, 2,
        "an occupied --out is the user's input, as for collect"
    );
    assert!(
        r.stderr.contains("already exists and is not empty"),
        "{}",
        r.stderr
    );
    for name in ["m0", "m1", "m2"] {
        assert!(!tmp.path().join(name).exists(), "{name} written");
    }
}
