//! The audit period as dates (#16): `--period` resolves to a first and last
//! day before any call is made, or is refused; the dates travel from
//! `run.json` into `results.json`, `bag-info.txt` and the report's cover.

use crate::common::{
    auditpack, copy_tree, find_zip, read_json, report, run, samples, unzip, write_json,
};

/// A malformed or inverted period, or an impossible fiscal year start, is an
/// input error (exit 2) naming the reason, before any AWS call: no endpoint is
/// configured here, and no output folder appears.
#[test]
fn a_period_that_is_not_dates_is_refused_before_any_call() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("evidence");
    for (period, reason) in [
        ("2026-Q5", "is not a year (2026), a quarter (2026-Q4)"),
        ("26-Q4", "is not a year"),
        ("2026-12-31/2026-10-01", "ends before it starts"),
    ] {
        for command in ["collect", "run"] {
            let r = run(auditpack()
                .args([
                    command,
                    "--period",
                    period,
                    "--regions",
                    "us-east-1",
                    "--out",
                ])
                .arg(&out));
            assert_eq!(r.code, 2, "{command} {period}: {}{}", r.stdout, r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("--period: period '{period}' {reason}")),
                "{command} {period}: {}",
                r.stderr
            );
            assert!(!out.exists(), "{command} {period}: nothing written");
        }
    }
    let config = work.path().join("auditpack.toml");
    std::fs::write(&config, "[period]\nfiscal_year_start_month = 13\n").unwrap();
    let r = run(auditpack()
        .args([
            "collect",
            "--period",
            "2026",
            "--regions",
            "us-east-1",
            "--config",
        ])
        .arg(&config)
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("fiscal_year_start_month 13 is not a month"),
        "{}",
        r.stderr
    );
}

/// A run whose period had not ended when it was collected says so everywhere
/// an auditor reads the period.
#[test]
fn the_period_dates_reach_results_bag_info_and_the_cover() {
    let work = tempfile::tempdir().unwrap();
    let evidence = work.path().join("evidence");
    copy_tree(&samples(), &evidence);
    let run_path = evidence.join("run.json");
    let mut run_json = read_json(&run_path);
    run_json["period_dates"] = serde_json::json!({
        "start": "2026-10-01T00:00:00Z", "end": "2026-12-31T23:59:59Z"
    });
    write_json(&run_path, &run_json);
    assert!(
        run_json["finished_at"].as_str().unwrap() < "2026-12-31",
        "collected before the end"
    );

    let out = work.path().join("out");
    report(&evidence, &out, &[]);
    let results = read_json(&out.join("results.json"));
    assert_eq!(results["period_dates"]["start"], "2026-10-01T00:00:00Z");
    assert_eq!(results["period_dates"]["end"], "2026-12-31T23:59:59Z");
    assert_eq!(results["period_to_date"], true);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("2026-10-01 to 2026-12-31"),
        "the cover names the days"
    );
    assert!(html.contains("(period to date)"));
    let bag = unzip(&find_zip(&out), &work.path().join("unzipped"));
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(
        info.contains("Audit-Period-Dates: 2026-10-01T00:00:00Z/2026-12-31T23:59:59Z\n"),
        "{info}"
    );

    // Ended before collection: not to date.
    run_json["period_dates"] = serde_json::json!({
        "start": "2026-07-01T00:00:00Z", "end": "2026-09-30T23:59:59Z"
    });
    write_json(&run_path, &run_json);
    let out = work.path().join("out-ended");
    report(&evidence, &out, &[]);
    assert!(read_json(&out.join("results.json"))
        .get("period_to_date")
        .is_none());
}

/// A waiver can accept one exception of the period by its CloudTrail event
/// id (#16): the samples' stopped trail, a person's `StopLogging`, is the
/// only thing that fails `cloudtrail.org-trail` in the management account;
/// accepted, the item is WAIVED, the change stays listed with the ticket in
/// the report and `changes.csv`.
/// Naming an event on a control that declares no changes is refused with
/// the waiver's line.
#[test]
fn a_waiver_names_one_exception_of_the_period_by_its_event_id() {
    let work = tempfile::tempdir().unwrap();
    let before = report(&samples(), &work.path().join("before"), &[]).typed_results();
    let trail = |results: &auditpack_core::evaluation::Results| {
        results
            .controls
            .iter()
            .find(|c| c.id == "cloudtrail.org-trail")
            .unwrap()
            .clone()
    };
    let failing: Vec<_> = trail(&before)
        .results
        .into_iter()
        .filter(|i| i.status == auditpack_core::evaluation::Verdict::Fail)
        .collect();
    assert_eq!(failing.len(), 1, "one failing item in the samples");
    let exceptions = &failing[0].period.as_ref().unwrap().exceptions;
    assert_eq!(exceptions.len(), 1);
    let event_id = exceptions[0].event_id.clone().unwrap();

    let waivers = work.path().join("waivers.toml");
    let entry = |control: &str| {
        format!(
            "[[waiver]]\ncontrol = \"{control}\"\naccount = \"{}\"\nevent_id = \"{event_id}\"\nreason = \"Trail stopped for a migration; restored within the hour\"\napprover = \"Jane Roe (CISO)\"\nticket = \"CHG-1042\"\nexpires = 2099-12-31\n",
            failing[0].account_id
        )
    };
    std::fs::write(&waivers, entry("cloudtrail.org-trail")).unwrap();
    let out = work.path().join("after");
    let after = report(&samples(), &out, &["--waivers", waivers.to_str().unwrap()]);
    let control = trail(&after.typed_results());
    assert_eq!(control.status, auditpack_core::evaluation::Verdict::Waived);
    let item = control
        .results
        .iter()
        .find(|i| i.account_id == failing[0].account_id)
        .unwrap();
    let accepted = &item.period.as_ref().unwrap().exceptions[0];
    assert_eq!(accepted.waiver.as_ref().unwrap().ticket, "CHG-1042");
    let results = read_json(&out.join("results.json"));
    assert_eq!(results["schema_version"], 2);
    assert_eq!(results["waivers"][0]["event_id"], event_id.as_str());
    assert_eq!(results["waivers"][0]["state"], "active");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("accepted: CHG-1042"),
        "the change row names the waiver"
    );
    let csv = std::fs::read_to_string(out.join("changes.csv")).unwrap();
    let row = csv.lines().find(|l| l.contains(&event_id)).unwrap();
    assert!(row.ends_with(",CHG-1042"), "{row}");

    // An event on a control without `changes` cannot match anything.
    std::fs::write(&waivers, entry("iam.root-usage")).unwrap();
    let refused = run(auditpack()
        .args(["report", "--evidence"])
        .arg(samples())
        .arg("--out")
        .arg(work.path().join("refused"))
        .arg("--waivers")
        .arg(&waivers));
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("waivers.toml:1: waiver.event_id"),
        "{}",
        refused.stderr
    );
}
