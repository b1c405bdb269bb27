//! Faults during collection (#15), injected by the fault proxy in front of
//! moto: a connection reset, a 5xx burst the retries absorb and a persistent
//! one, answers slower than `--call-timeout`, and cloudtrail:LookupEvents
//! throttled as AWS throttles it. One emulator run carries them all, each in
//! its own account and service (starting an emulator costs seconds), and each
//! must end as its own classification in the evidence (the envelope's error
//! code and class) and in the console (the account and why), with the
//! controls that need that evidence NOT ASSESSED, never PASS, and the gate
//! failing on them. The endpoint outage and expired credentials are in
//! `live_collection.rs`.

use std::path::Path;

use auditpack_core::evaluation::{Results, Verdict};
use serde_json::Value;

use crate::common::emulator::{write_config, Emulator, Faults};
use crate::common::{find_zip, read_json, report_by, run, verdicts};

const SECRET: &str = "faults-secret-key-that-must-never-be-written-41c07d";

/// Seconds one call may take in this test, retries included: short, so the
/// slow answers below cost little, and longer than the retries of a
/// persistent 5xx or throttling (3 attempts: at most 1 + 2 s of jittered
/// backoff), so those end as what they are, not as timeouts.
const CALL_TIMEOUT: u64 = 5;
/// The slow answers come this late: past [`CALL_TIMEOUT`].
const SLOW_SECONDS: f64 = 8.0;
/// Attempts per call: the 5xx burst (2 answers) fits in it.
const MAX_ATTEMPTS: &str = "3";

#[test]
fn faults_during_collection_end_as_their_class_in_evidence_console_and_verdicts() {
    let faults = Faults::new()
        // The GuardDuty administrator's calls get their connections reset.
        .reset("security", "guardduty")
        // A burst of 2 HTTP 500s on the security account's KMS calls: fewer
        // than the attempts, so absorbed by the retries.
        .server_errors("security", "kms", 500, Some(2))
        // Every Config call of the security account (the aggregator's) gets a 503.
        .server_errors("security", "config", 503, None)
        // Security Hub answers the dev account past the call timeout.
        .slow("dev", "securityhub", SLOW_SECONDS)
        // prod's first event-history lookup is throttled (retried), network's
        // every one (throttled past the retries).
        .throttled_lookups("prod", Some(1))
        .throttled_lookups("network", None);
    let emu = Emulator::start_with(&faults);
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path());
    let evidence = work.path().join("evidence");
    let collected = run(emu
        .auditpack(SECRET)
        .args(["collect", "--regions", "us-east-1,eu-west-1"])
        .args(["--period", "2026-Q4", "--s3-path-style", "--no-progress"])
        .args(["--max-attempts", MAX_ATTEMPTS])
        .args(["--call-timeout", &CALL_TIMEOUT.to_string()])
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&evidence));
    let console = format!("{}{}", collected.stdout, collected.stderr);
    // Failed calls are evidence, not a failed run.
    assert_eq!(collected.code, 0, "{console}");
    let stats = emu.proxy_stats();
    let (security, dev, prod, network) = (
        emu.account("security"),
        emu.account("dev"),
        emu.account("prod"),
        emu.account("network"),
    );
    let served = |account: &str, service: &str, fault: &str| {
        stats["faults"][account][service][fault]
            .as_u64()
            .unwrap_or(0)
    };

    // A reset connection: unreachable, never an AWS answer or "other".
    let reset = envelopes(&evidence, &security, "guardduty");
    assert_failed(&reset, "EndpointUnreachable", "unreachable");
    for (path, envelope) in &reset {
        let message = envelope["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("the connection was reset"),
            "{path}: {message}"
        );
    }
    assert!(served(&security, "guardduty", "reset") >= 3, "{stats}");
    // Only the account and service asked for: network's GuardDuty answers.
    assert_all_ok(&envelopes(&evidence, &network, "guardduty"));
    assert_all_ok(&envelopes(&evidence, &security, "ec2"));

    // A 5xx burst shorter than the attempts: collected, the retries counted.
    assert_eq!(served(&security, "kms", "server_error"), 2, "{stats}");
    assert_all_ok(&envelopes(&evidence, &security, "kms"));
    let retries = console_retries(&collected.stdout);
    assert!(
        retries >= 3,
        "the burst's 2 and prod's 1 throttled lookup retried: {retries}"
    );

    // A persistent 5xx: a server error past the retries.
    assert_failed(
        &envelopes(&evidence, &security, "config"),
        "ServiceUnavailable",
        "server",
    );

    // Slow answers past the call timeout: a timeout.
    assert!(served(&dev, "securityhub", "slow") >= 1, "{stats}");
    assert_failed(
        &envelopes(&evidence, &dev, "securityhub"),
        "Timeout",
        "timeout",
    );

    // LookupEvents throttled: the first one retried, or every one.
    assert_eq!(served(&prod, "cloudtrail", "throttle"), 1, "{stats}");
    assert_all_ok(&lookups(&evidence, &prod));
    assert_failed(
        &lookups(&evidence, &network),
        "ThrottlingException",
        "throttled",
    );
    // The collector's own pace (0.5 s apart per account and region) is never
    // throttled by the proxy's AWS rate of 2 a second.
    for (account, counts) in stats["lookup_events"].as_object().unwrap() {
        assert_eq!(counts["rate_throttled"], 0, "{account}: {counts}");
    }

    // The console names each account and why, in words and AWS's code.
    let said = |account: &str, why: &str, operation: &str| {
        assert!(
            collected
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("failed in {account} "))
                    && l.contains(why)
                    && l.contains(operation)),
            "no console line for {account}: {why} … {operation}\n{console}"
        )
    };
    said(
        &security,
        "endpoint unreachable, no answer (EndpointUnreachable)",
        "guardduty:ListDetectors",
    );
    said(
        &security,
        "server error (5xx) past the retries (ServiceUnavailable)",
        "config:",
    );
    said(
        &dev,
        "no answer within --call-timeout (Timeout)",
        "securityhub:",
    );
    said(
        &network,
        "throttled past the retries (ThrottlingException)",
        "cloudtrail:LookupEvents",
    );
    for (account, recovered) in [(&security, "kms:"), (&prod, "cloudtrail:LookupEvents")] {
        assert!(
            !collected
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("failed in {account} ")) && l.contains(recovered)),
            "{recovered} recovered by retries in {account}, not failed:\n{console}"
        );
    }

    // The controls that need the lost evidence are NOT ASSESSED, never PASS;
    // those whose evidence was recovered are judged as without the fault.
    let out = work.path().join("out");
    let reported = report_by(
        emu.auditpack(SECRET),
        &evidence,
        &out,
        &["--config", config.to_str().unwrap()],
    );
    let results = reported.typed_results();
    let verdict = verdicts(&results);
    let of = |control: &str, account: &str, region: &str| {
        verdict
            .get(&(control.into(), account.into(), region.into()))
            .copied()
    };
    let not_assessed = [
        ("guardduty.coverage", &security, "us-east-1"),
        ("guardduty.coverage", &security, "eu-west-1"),
        ("guardduty.delegated-admin", &security, "us-east-1"),
        ("guardduty.delegated-admin", &security, "eu-west-1"),
        ("config.org-aggregator", &security, "us-east-1"),
        ("config.recording", &security, "eu-west-1"),
        ("securityhub.coverage", &dev, "us-east-1"),
        ("securityhub.coverage", &dev, "eu-west-1"),
        ("iam.root-usage", &network, "us-east-1"),
        ("iam.root-usage", &network, "eu-west-1"),
    ];
    for (control, account, region) in not_assessed {
        assert_eq!(
            of(control, account, region),
            Some(Verdict::NotAssessed),
            "{control} {account} {region}: {}",
            item_message(&results, control, account, region)
        );
    }
    // The period check of the event history: not assessed, never a quiet period.
    let root_usage = item(&results, "iam.root-usage", &network, "us-east-1");
    for assertion in &root_usage.assertions {
        assert_eq!(
            assertion.status,
            Verdict::NotAssessed,
            "{}: {}",
            assertion.id,
            assertion.message
        );
    }
    // Recovered by the retries: the key without rotation is still a pass in
    // security, the root sign-in in prod still found.
    assert_eq!(
        of("kms.key-rotation", &security, "us-east-1"),
        Some(Verdict::Pass)
    );
    assert_eq!(
        of("iam.root-usage", &prod, "us-east-1"),
        Some(Verdict::Fail),
        "{}",
        item_message(&results, "iam.root-usage", &prod, "us-east-1")
    );

    // The gate fails, and counts the faulted controls among the not assessed
    // (they pass without the faults: see live_collection.rs).
    let gate = run(emu
        .auditpack(SECRET)
        .arg("gate")
        .arg(find_zip(&out))
        .args(["--format", "json"]));
    assert_eq!(gate.code, 1, "{}{}", gate.stdout, gate.stderr);
    let decision: Value = serde_json::from_str(&gate.stdout).unwrap();
    let listed = |key: &str, control: &str| {
        (decision[key].as_array())
            .unwrap_or_else(|| panic!("no {key} list: {decision}"))
            .iter()
            .any(|c| c == control)
    };
    for control in ["guardduty.delegated-admin", "config.org-aggregator"] {
        assert!(listed("not_assessed", control), "{control}: {decision}");
        assert!(!listed("failed", control), "{control}: {decision}");
    }

    // The proxy's LookupEvents rate, as AWS's: a third request within a
    // second in an account and region is throttled, the next second's is not.
    // (Three requests in a row take milliseconds; on a machine so loaded that
    // they took most of a second, the burst is sent again.)
    let region = "ap-northeast-3"; // not collected: no earlier lookups there
    let second = std::time::Duration::from_millis(1100);
    let mut bursts = 0;
    loop {
        let started = std::time::Instant::now();
        let answers: Vec<u16> = (0..3)
            .map(|_| lookup_status(&emu.endpoint, region))
            .collect();
        bursts += 1;
        if started.elapsed() < std::time::Duration::from_millis(800) || bursts == 5 {
            assert_eq!(answers, [200, 200, 400], "after {bursts} burst(s)");
            break;
        }
        std::thread::sleep(second);
    }
    std::thread::sleep(second);
    assert_eq!(lookup_status(&emu.endpoint, region), 200, "a second later");
}

/// Every envelope of `service` in `account`, as (path under the evidence, envelope).
fn envelopes(evidence: &Path, account: &str, service: &str) -> Vec<(String, Value)> {
    let found: Vec<(String, Value)> = crate::common::files_under(&evidence.join(account))
        .into_iter()
        .map(|path| {
            let relative = crate::common::relative(evidence, &path);
            (relative, read_json(&path))
        })
        .filter(|(_, envelope)| envelope["call"]["service"] == service)
        .collect();
    assert!(!found.is_empty(), "no {service} evidence in {account}");
    found
}

/// The event-history lookups of `account`.
fn lookups(evidence: &Path, account: &str) -> Vec<(String, Value)> {
    let found: Vec<_> = envelopes(evidence, account, "cloudtrail")
        .into_iter()
        .filter(|(_, e)| e["call"]["operation"] == "LookupEvents")
        .collect();
    assert!(!found.is_empty(), "no LookupEvents evidence in {account}");
    found
}

fn assert_all_ok(envelopes: &[(String, Value)]) {
    for (path, envelope) in envelopes {
        assert_ne!(envelope["status"], "error", "{path}: {}", envelope["error"]);
    }
}

/// The first call of each chain failed with `code` and `class` (its dependents
/// may not have been called at all); none answered.
fn assert_failed(envelopes: &[(String, Value)], code: &str, class: &str) {
    for (path, envelope) in envelopes {
        assert_eq!(envelope["status"], "error", "{path}: {envelope}");
        assert_eq!(envelope["error"]["code"], code, "{path}: {envelope}");
        assert_eq!(envelope["error"]["class"], class, "{path}: {envelope}");
    }
}

/// The retries the console's summary counted ("requests: N HTTP requests, M of them retries").
fn console_retries(stdout: &str) -> u64 {
    let line = (stdout.lines())
        .find(|l| l.starts_with("requests: "))
        .unwrap_or_else(|| panic!("no requests line:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "of")
        .expect("M of them retries");
    words[at - 1]
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn item<'r>(
    results: &'r Results,
    control: &str,
    account: &str,
    region: &str,
) -> &'r auditpack_core::evaluation::ItemResult {
    let region = (region != "global").then_some(region);
    results
        .controls
        .iter()
        .find(|c| c.id == control)
        .and_then(|c| {
            c.results
                .iter()
                .find(|i| i.account_id == account && i.region.as_deref() == region)
        })
        .unwrap_or_else(|| panic!("no result for {control} {account} {region:?}"))
}

fn item_message(results: &Results, control: &str, account: &str, region: &str) -> String {
    item(results, control, account, region).message.clone()
}

/// The HTTP status of one LookupEvents request to the proxy in `region`, as
/// the management account (the proxy answers LookupEvents itself and reads
/// only the credential scope of the Authorization header).
fn lookup_status(endpoint: &str, region: &str) -> u16 {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let body = "{}";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAAUDITPACKE2ETEST/20261126/{region}/cloudtrail/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}
