//! Engine behaviour on tiny evidence stores: pass, fail, not assessed, bad
//! expressions and missing fields. Each test writes its own store in a tempdir.

use std::path::Path;

use auditpack_core::evaluation::config::Config;
use auditpack_core::evaluation::{evaluate, parse_control, ItemResult, Results, Verdict};
use auditpack_core::evidence::{ErrorClass, EvidenceKey, EvidenceStore, RegionDir, RunInfo};
use auditpack_core::org::Org;
use serde_json::{json, Value};

use crate::common::evidence::{envelope, write_envelope, Answer};

const ORG: &str = r#"{"schema_version":1,"organization":{"id":"o-test","arn":"arn:aws:organizations::111111111111:organization/o-test","management_account_id":"111111111111","feature_set":"ALL"},
"accounts":[
 {"id":"111111111111","name":"mgmt","email":"m@x.example","status":"ACTIVE","ou_path":"Root","role":"management","joined_at":"2020-01-01T00:00:00Z","tags":{}},
 {"id":"222222222222","name":"dev","email":"d@x.example","status":"ACTIVE","ou_path":"Root/Dev","role":"workload","joined_at":"2020-01-01T00:00:00Z","tags":{}},
 {"id":"333333333333","name":"old","email":"o@x.example","status":"SUSPENDED","ou_path":"Root","role":"workload","joined_at":"2020-01-01T00:00:00Z","tags":{}}]}"#;

/// The run's window holds the envelopes' `collected_at` (`common::evidence::COLLECTED_AT`).
const RUN: &str = r#"{"schema_version":1,"tool":{"name":"auditpack","version":"0.1.0"},"period":"2026-Q4","started_at":"2026-11-20T09:12:00Z","finished_at":"2026-11-20T09:16:41Z","home_region":"us-east-1","regions":["us-east-1"],"command_line":["auditpack"],"caller_arn":"arn:aws:sts::111111111111:assumed-role/Audit/x"}"#;

/// Root-protection-like control over iam:GetAccountSummary.
const CONTROL: &str = r#"
id = "test.root-mfa"
title = "Root MFA"
tsc = ["CC6.1"]
severity = "high"
objective = "Root has MFA."
procedure = "Inspect the account summary."
remediation = "Enable MFA on the root user."
[scope]
accounts = "all"
regions = "global"
[params]
required = 1
[evidence]
summary = { source = "iam:GetAccountSummary" }
[[assertions]]
id = "mfa"
requirement = "Root MFA is enabled"
expect = "summary.SummaryMap.AccountMFAEnabled == params.required"
quote = { AccountMFAEnabled = "summary.SummaryMap.AccountMFAEnabled" }
[[assertions]]
id = "no-keys"
requirement = "Root has no access keys"
expect = "summary.SummaryMap.AccountAccessKeysPresent == 0"
"#;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("org.json"), ORG).unwrap();
        std::fs::write(dir.path().join("run.json"), RUN).unwrap();
        Fixture { dir }
    }

    /// Writes `account`'s iam:GetAccountSummary envelope.
    fn envelope(&self, account: &str, answer: Answer) {
        let key = summary_key(account);
        write_envelope(self.dir.path(), &key, &envelope(&key, answer));
    }

    /// Writes `account`'s iam:GetAccountSummary answer.
    fn summary_data(&self, account: &str, data: Value) {
        self.envelope(account, Answer::data(data));
    }

    fn summary(&self, account: &str, mfa: i64, keys: i64) {
        let data =
            json!({"SummaryMap": {"AccountMFAEnabled": mfa, "AccountAccessKeysPresent": keys}});
        self.summary_data(account, data);
    }

    fn evaluate(&self, control_text: &str) -> Results {
        let control =
            parse_control(Path::new("test.toml"), control_text).expect("control is valid");
        let store = EvidenceStore::open(self.dir.path()).unwrap();
        let org: Org = serde_json::from_str(ORG).unwrap();
        let run: RunInfo = serde_json::from_str(RUN).unwrap();
        evaluate(&[control], &Config::default(), &store, &org, &run)
    }
}

/// Where `account`'s iam:GetAccountSummary answer is stored.
fn summary_key(account: &str) -> EvidenceKey {
    EvidenceKey {
        account_id: account.into(),
        region: RegionDir::Global,
        service: "iam".into(),
        operation: "GetAccountSummary".into(),
        qualifier: None,
    }
}

/// `CONTROL` with the MFA assertion's expression replaced by `expect`.
fn control_expecting(expect: &str) -> String {
    CONTROL.replace(
        "expect = \"summary.SummaryMap.AccountMFAEnabled == params.required\"",
        &format!("expect = \"{expect}\""),
    )
}

fn item<'a>(results: &'a Results, account: &str) -> &'a ItemResult {
    results.controls[0]
        .results
        .iter()
        .find(|r| r.account_id == account)
        .expect("item exists")
}

#[test]
fn passing_evidence_passes_and_cites_its_files() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 1, 0);
    let r = f.evaluate(CONTROL);
    assert_eq!(r.controls[0].status, Verdict::Pass);
    assert_eq!(
        r.controls[0].results.len(),
        2,
        "suspended account is out of scope"
    );
    let evidence = &item(&r, "222222222222").evidence;
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        evidence[0].path,
        "222222222222/global/iam/GetAccountSummary.json"
    );
    assert_eq!(evidence[0].sha256.len(), 64);
}

#[test]
fn failing_evidence_fails_and_quotes_the_value() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 0, 0);
    let r = f.evaluate(CONTROL);
    assert_eq!(r.controls[0].status, Verdict::Fail);
    let dev = item(&r, "222222222222");
    assert_eq!(dev.status, Verdict::Fail);
    assert!(
        dev.message.contains("Root MFA is enabled"),
        "{}",
        dev.message
    );
    assert!(
        dev.message.contains("AccountMFAEnabled = 0"),
        "{}",
        dev.message
    );
    assert!(dev.message.contains("222222222222"), "{}", dev.message);
    assert_eq!(dev.assertions[1].status, Verdict::Pass);
    assert_eq!(item(&r, "111111111111").status, Verdict::Pass);
}

#[test]
fn missing_evidence_is_not_assessed() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    let r = f.evaluate(CONTROL);
    assert_eq!(r.controls[0].status, Verdict::NotAssessed);
    let dev = item(&r, "222222222222");
    assert_eq!(dev.status, Verdict::NotAssessed);
    assert!(dev.message.contains("was not collected"), "{}", dev.message);
}

#[test]
fn access_denied_is_not_assessed_never_pass() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    let denied = Answer::Error("AccessDenied".into(), ErrorClass::AccessDenied);
    f.envelope("222222222222", denied);
    let r = f.evaluate(CONTROL);
    let dev = item(&r, "222222222222");
    assert_eq!(dev.status, Verdict::NotAssessed);
    assert!(dev.message.contains("AccessDenied"), "{}", dev.message);
    assert_eq!(
        dev.evidence.len(),
        1,
        "the error envelope is cited as evidence"
    );
}

#[test]
fn incomplete_pagination_is_not_assessed() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 1, 0);
    let path = f
        .dir
        .path()
        .join("222222222222/global/iam/GetAccountSummary.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"complete\": true", "\"complete\": false");
    std::fs::write(&path, text).unwrap();
    let dev_status = item(&f.evaluate(CONTROL), "222222222222").status;
    assert_eq!(dev_status, Verdict::NotAssessed);
}

#[test]
fn a_missing_field_is_not_assessed_not_pass() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary_data(
        "222222222222",
        json!({"SummaryMap": {"AccountAccessKeysPresent": 0}}),
    );
    let r = f.evaluate(CONTROL);
    let dev = item(&r, "222222222222");
    assert_eq!(dev.assertions[0].status, Verdict::NotAssessed);
    assert!(
        dev.assertions[0].message.contains("AccountMFAEnabled"),
        "{}",
        dev.assertions[0].message
    );
    assert_eq!(dev.status, Verdict::NotAssessed);
}

#[test]
fn a_known_failure_wins_over_a_gap_and_both_are_reported() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary_data(
        "222222222222",
        json!({"SummaryMap": {"AccountAccessKeysPresent": 1}}),
    );
    let dev = item(&f.evaluate(CONTROL), "222222222222").clone();
    assert_eq!(dev.status, Verdict::Fail);
    assert!(
        dev.message.contains("Root has no access keys"),
        "{}",
        dev.message
    );
    assert!(dev.message.contains("not assessed"), "{}", dev.message);
}

#[test]
fn a_corrupt_evidence_file_is_not_assessed_and_named() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    let dir = f.dir.path().join("222222222222/global/iam");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("GetAccountSummary.json"), "{ not json").unwrap();
    let dev = item(&f.evaluate(CONTROL), "222222222222").clone();
    assert_eq!(dev.status, Verdict::NotAssessed);
    assert!(
        dev.message
            .contains("222222222222/global/iam/GetAccountSummary.json"),
        "{}",
        dev.message
    );
}

#[test]
fn evidence_stored_under_another_account_is_rejected() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    let from = f
        .dir
        .path()
        .join("111111111111/global/iam/GetAccountSummary.json");
    let to = f.dir.path().join("222222222222/global/iam");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(from, to.join("GetAccountSummary.json")).unwrap();
    let dev = item(&f.evaluate(CONTROL), "222222222222").clone();
    assert_eq!(dev.status, Verdict::NotAssessed);
    assert!(
        dev.message.contains("describes 111111111111"),
        "{}",
        dev.message
    );
}

#[test]
fn not_found_evidence_binds_an_empty_object_so_the_control_can_fail() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.envelope("222222222222", Answer::NotFound("NoSuchEntity".into()));
    let control = control_expecting(
        "has(summary.SummaryMap) && summary.SummaryMap.AccountMFAEnabled == params.required",
    );
    let dev = item(&f.evaluate(&control), "222222222222").clone();
    assert_eq!(dev.assertions[0].status, Verdict::Fail);
}

#[test]
fn for_each_checks_every_item_and_empty_lists_follow_when_empty() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 1, 0);
    let control = CONTROL.replace(
        "[[assertions]]\nid = \"mfa\"",
        "[[assertions]]\nid = \"each\"\nrequirement = \"every listed number is small\"\nfor_each = \"params.numbers\"\nas = \"n\"\nexpect = \"n < 10\"\nquote = { n = \"n\" }\n\n[[assertions]]\nid = \"mfa\"",
    );
    let with = |numbers: &str| {
        control.replace(
            "required = 1",
            &format!("required = 1\nnumbers = {numbers}"),
        )
    };
    let r = f.evaluate(&with("[1, 2, 30]"));
    let a = &item(&r, "111111111111").assertions[0];
    assert_eq!(a.status, Verdict::Fail);
    assert!(
        a.message.contains("30 in 111111111111 (n = 30)"),
        "{}",
        a.message
    );
    assert_eq!(
        item(&f.evaluate(&with("[1, 2]")), "111111111111").assertions[0].status,
        Verdict::Pass
    );
    let empty = f.evaluate(&with("[]"));
    assert_eq!(
        item(&empty, "111111111111").assertions[0].status,
        Verdict::Fail,
        "empty lists fail by default"
    );
}

#[test]
fn no_population_is_not_assessed() {
    let f = Fixture::new();
    let control = CONTROL.replace("accounts = \"all\"", "accounts = \"log-archive\"");
    let r = f.evaluate(&control);
    assert_eq!(r.controls[0].status, Verdict::NotAssessed);
    assert!(r.controls[0]
        .message
        .as_deref()
        .unwrap_or("")
        .contains("log-archive"));
}

/// `account = "all"` binds one document per account: refused, with the line,
/// for an operation called once per resource, and for an unknown account word.
#[test]
fn account_all_is_only_for_operations_called_once_per_account() {
    let qualified = CONTROL.replace(
        "summary = { source = \"iam:GetAccountSummary\" }",
        "summary = { source = \"iam:GetLoginProfile\", account = \"all\", qualifier = \"*\" }",
    );
    let errors = parse_control(Path::new("all.toml"), &qualified).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter()
            .any(|e| e.starts_with("all.toml:15: evidence.summary.account:")
                && e.contains("called once per user name")),
        "{text:?}"
    );
    let every = CONTROL.replace(
        "summary = { source = \"iam:GetAccountSummary\" }",
        "summary = { source = \"iam:GetAccountSummary\", account = \"all\" }",
    );
    let control = parse_control(Path::new("ok.toml"), &every).expect("a per-account operation");
    assert_eq!(
        control.evidence[0].account,
        auditpack_core::evaluation::AccountRef::All
    );
    let unknown = CONTROL.replace(
        "summary = { source = \"iam:GetAccountSummary\" }",
        "summary = { source = \"iam:GetAccountSummary\", account = \"everyone\" }",
    );
    let errors = parse_control(Path::new("u.toml"), &unknown).unwrap_err();
    assert!(
        errors[0].to_string().contains("'scope' or 'all'"),
        "{errors:?}"
    );
}

#[test]
fn bad_expressions_and_typos_are_lint_errors_with_lines() {
    let bad = CONTROL
        .replace(
            "summary.SummaryMap.AccountAccessKeysPresent == 0",
            "summary.SummaryMap.AccountAccessKeysPresent ==",
        )
        .replace(
            "source = \"iam:GetAccountSummary\"",
            "source = \"iam:GetAccountSumary\"",
        );
    let errors = parse_control(Path::new("bad.toml"), &bad).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(text.iter().any(|e| e.starts_with("bad.toml:15: evidence.summary.source: unknown evidence source")), "{text:?}");
    assert!(
        text.iter()
            .any(|e| e.starts_with("bad.toml:24: assertions[1].expect: invalid CEL")),
        "{text:?}"
    );

    let typo = CONTROL.replace(
        "summary.SummaryMap.AccountAccessKeysPresent == 0",
        "sumary.SummaryMap.AccountAccessKeysPresent == 0",
    );
    let errors = parse_control(Path::new("typo.toml"), &typo).unwrap_err();
    assert!(
        errors[0].to_string().contains("unknown name 'sumary'"),
        "{errors:?}"
    );

    let unknown_field = CONTROL.replace(
        "severity = \"high\"",
        "severity = \"high\"\nseverity_level = 3",
    );
    let errors = parse_control(Path::new("f.toml"), &unknown_field).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("f.toml:6: file: unknown field `severity_level`"),
        "{errors:?}"
    );

    // Every control says how to fix a failure: a file without it, or with an
    // empty one, does not lint.
    let no_fix = CONTROL.replace("remediation = \"Enable MFA on the root user.\"\n", "");
    let errors = parse_control(Path::new("r.toml"), &no_fix).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .contains("missing field `remediation`"),
        "{errors:?}"
    );
    let empty_fix = CONTROL.replace("Enable MFA on the root user.", " ");
    let errors = parse_control(Path::new("r.toml"), &empty_fix).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .contains("remediation: must not be empty"),
        "{errors:?}"
    );

    let bad_tsc = CONTROL.replace("[\"CC6.1\"]", "[\"CC6.1\", \"CC7.9\"]");
    let errors = parse_control(Path::new("t.toml"), &bad_tsc).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .contains("'CC7.9' is not a Trust Services criterion"),
        "{errors:?}"
    );
}

#[test]
fn config_overrides_params_and_disables_only_with_a_reason() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 1, 0);
    let control = parse_control(Path::new("c.toml"), CONTROL).unwrap();
    let store = EvidenceStore::open(f.dir.path()).unwrap();
    let org: Org = serde_json::from_str(ORG).unwrap();
    let run: RunInfo = serde_json::from_str(RUN).unwrap();

    let config = Config::parse(
        Path::new("auditpack.toml"),
        "[controls.\"test.root-mfa\"]\nparams = { required = 5 }\n",
    )
    .unwrap();
    config
        .check_against(std::slice::from_ref(&control))
        .unwrap();
    let r = evaluate(std::slice::from_ref(&control), &config, &store, &org, &run);
    assert_eq!(r.controls[0].status, Verdict::Fail);
    assert_eq!(r.controls[0].params["required"], json!(5));

    let wrong_type = Config::parse(
        Path::new("auditpack.toml"),
        "[controls.\"test.root-mfa\"]\nparams = { required = \"five\" }\n",
    )
    .unwrap();
    let errors = wrong_type
        .check_against(std::slice::from_ref(&control))
        .unwrap_err();
    assert!(
        errors[0].to_string().starts_with("auditpack.toml:2:"),
        "{errors:?}"
    );

    let no_reason = Config::parse(
        Path::new("auditpack.toml"),
        "[controls.\"test.root-mfa\"]\nenabled = false\n",
    )
    .unwrap();
    let errors = no_reason
        .check_against(std::slice::from_ref(&control))
        .unwrap_err();
    assert!(errors[0].message.contains("written reason"), "{errors:?}");

    let disabled = Config::parse(
        Path::new("auditpack.toml"),
        "[controls.\"test.root-mfa\"]\nenabled = false\nreason = \"SEC-1\"\n",
    )
    .unwrap();
    disabled
        .check_against(std::slice::from_ref(&control))
        .unwrap();
    let r = evaluate(
        std::slice::from_ref(&control),
        &disabled,
        &store,
        &org,
        &run,
    );
    assert_eq!(r.controls[0].status, Verdict::Disabled);
    assert!(r.controls[0].message.as_deref().unwrap().contains("SEC-1"));

    let unknown = Config::parse(
        Path::new("auditpack.toml"),
        "[controls.\"nope.x\"]\nenabled = true\n",
    )
    .unwrap();
    assert!(unknown
        .check_against(std::slice::from_ref(&control))
        .is_err());
}

/// Writes `account`'s iam:GetAccountSummary envelope as `edit` changes it.
fn edited_envelope(f: &Fixture, account: &str, answer: Answer, edit: impl FnOnce(&mut Value)) {
    let key = summary_key(account);
    let mut value = serde_json::to_value(envelope(&key, answer)).unwrap();
    edit(&mut value);
    let path = f.dir.path().join(key.relative_path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

#[test]
fn evidence_collected_outside_the_run_window_is_refused_with_the_reason() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    // A passing answer from another run, copied in: it must not make a PASS.
    let data = json!({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}});
    edited_envelope(&f, "222222222222", Answer::data(data), |env| {
        env["collected_at"] = json!("2026-08-01T00:00:00Z");
    });
    let results = f.evaluate(CONTROL);
    assert_eq!(item(&results, "111111111111").status, Verdict::Pass);
    let dev = item(&results, "222222222222");
    assert_eq!(dev.status, Verdict::NotAssessed, "{}", dev.message);
    assert!(
        dev.message.contains("outside the run's collection window"),
        "{}",
        dev.message
    );
}

#[test]
fn a_not_found_envelope_is_absence_whatever_data_it_carries() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    // A not_found answer whose file also carries passing data (hand-made).
    edited_envelope(
        &f,
        "222222222222",
        Answer::NotFound("NoSuchEntity".into()),
        |env| {
            env["data"] =
                json!({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}});
        },
    );
    let control = control_expecting(
        "has(summary.SummaryMap) && summary.SummaryMap.AccountMFAEnabled == params.required",
    );
    let dev = item(&f.evaluate(&control), "222222222222").clone();
    assert_eq!(dev.assertions[0].status, Verdict::Fail, "{}", dev.message);
}

#[test]
fn a_null_field_in_evidence_reads_as_absent() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary_data(
        "222222222222",
        json!({"SummaryMap": {"AccountMFAEnabled": null, "AccountAccessKeysPresent": 0}}),
    );
    let control = control_expecting("has(summary.SummaryMap.AccountMFAEnabled) && summary.SummaryMap.AccountMFAEnabled == params.required");
    let dev = item(&f.evaluate(&control), "222222222222").clone();
    // Absent, so the control FAILs on it instead of erroring into NOT ASSESSED.
    assert_eq!(dev.assertions[0].status, Verdict::Fail, "{}", dev.message);
}

#[test]
fn an_envelope_of_another_schema_version_is_not_read_as_version_1() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    let data = json!({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}});
    edited_envelope(&f, "222222222222", Answer::data(data), |env| {
        env["schema_version"] = json!(2);
    });
    let dev = item(&f.evaluate(CONTROL), "222222222222").clone();
    assert_eq!(dev.status, Verdict::NotAssessed, "{}", dev.message);
    assert!(dev.message.contains("schema_version 2"), "{}", dev.message);
}

/// A control comparing each account with the others (`account = "all"`),
/// through a define over the map that the engine computes once for the
/// control (`peer_tally`).
const PEERS_CONTROL: &str = r#"
id = "test.peers"
title = "Same MFA as the others"
tsc = ["CC7.1"]
severity = "medium"
objective = "Accounts agree."
procedure = "Compare each account's root MFA with the other accounts'."
remediation = "Align the account."
[scope]
accounts = "all"
regions = "global"
[evidence]
summaries = { source = "iam:GetAccountSummary", account = "all" }
[[define]]
name = "peers"
expr = "peer_tally(org.accounts.filter(a, a.status == 'ACTIVE' && a.id in summaries).map(a, [a.id, 'everyone', summaries[a.id].SummaryMap.AccountMFAEnabled]))"
[[assertions]]
id = "same-mfa"
requirement = "Root MFA is as the other accounts have it"
expect = "peers[account.id].differing == 0"
quote = { differing = "peers[account.id].differing" }
"#;

#[test]
fn a_define_over_every_accounts_map_counts_the_peers_and_keeps_each_items_own_reason() {
    let f = Fixture::new();
    f.summary("111111111111", 1, 0);
    f.summary("222222222222", 0, 0);
    let r = f.evaluate(PEERS_CONTROL);
    for account in ["111111111111", "222222222222"] {
        let it = item(&r, account);
        assert_eq!(it.status, Verdict::Fail, "{}", it.message);
        assert!(it.message.contains("differing = 1"), "{}", it.message);
    }

    // dev's own document cannot be used: dev is NOT ASSESSED with that
    // document's reason (what computing the define for dev alone would
    // give), and management is compared with no one.
    let denied = Answer::Error("AccessDenied".into(), ErrorClass::AccessDenied);
    f.envelope("222222222222", denied);
    let r = f.evaluate(PEERS_CONTROL);
    let dev = item(&r, "222222222222");
    assert_eq!(dev.status, Verdict::NotAssessed, "{}", dev.message);
    assert!(
        dev.message.contains("AccessDenied") && !dev.message.contains("could not compute"),
        "{}",
        dev.message
    );
    let management = item(&r, "111111111111");
    assert_eq!(management.status, Verdict::Pass, "{}", management.message);
}

/// Both scope accounts' summaries carry a list of 300 numbers.
fn three_hundred_items(f: &Fixture) {
    let items: Vec<i64> = (0..300).collect();
    for account in ["111111111111", "222222222222"] {
        let data = json!({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}, "Items": items});
        f.summary_data(account, data);
    }
}

#[test]
fn a_runaway_expression_ends_as_not_assessed_naming_the_budget() {
    // 300³ = 27 million steps: before the budget, minutes and gigabytes.
    let f = Fixture::new();
    three_hundred_items(&f);
    let nested = "summary.Items.all(a, summary.Items.all(b, summary.Items.all(c, a + b + c >= 0)))";
    let started = std::time::Instant::now();
    let r = f.evaluate(&control_expecting(nested));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    let control = &r.controls[0];
    assert_eq!(control.status, Verdict::NotAssessed);
    let mfa = &item(&r, "111111111111").assertions[0];
    assert_eq!(mfa.status, Verdict::NotAssessed, "{}", mfa.message);
    assert!(mfa.message.contains("cost budget"), "{}", mfa.message);
    // The other assertion of the same item is still decided.
    assert_eq!(item(&r, "111111111111").assertions[1].status, Verdict::Pass);
}

#[test]
fn a_runaway_under_for_each_stops_in_each_evaluation() {
    // The outer loop as for_each: each evaluation has its own budget (and the
    // control a total, tested in the budget's unit tests).
    let f = Fixture::new();
    three_hundred_items(&f);
    let control = CONTROL.replace(
        "[[assertions]]\nid = \"mfa\"",
        "[[assertions]]\nid = \"each\"\nrequirement = \"r\"\nfor_each = \"summary.Items.filter(x, x < 2)\"\nas = \"a\"\nexpect = \"summary.Items.all(b, summary.Items.all(c, summary.Items.all(d, a + b + c + d >= 0)))\"\n\n[[assertions]]\nid = \"mfa\"",
    );
    let started = std::time::Instant::now();
    let r = f.evaluate(&control);
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    assert_eq!(r.controls[0].status, Verdict::NotAssessed);
    let each = &item(&r, "111111111111").assertions[0];
    assert_eq!(each.status, Verdict::NotAssessed, "{}", each.message);
    assert!(
        each.message
            .contains("0 in 111111111111: evaluation stopped")
            && each
                .message
                .contains("1 in 111111111111: evaluation stopped"),
        "{}",
        each.message
    );
}

#[test]
fn ordinary_comprehensions_are_within_the_budget() {
    let f = Fixture::new();
    three_hundred_items(&f);
    let two_deep = "summary.Items.all(a, summary.Items.exists(b, b == a)) && summary.Items.map(a, a * 2).filter(x, x > 10).size() == 294";
    let r = f.evaluate(&control_expecting(two_deep));
    let mfa = &item(&r, "111111111111").assertions[0];
    assert_eq!(mfa.status, Verdict::Pass, "{}", mfa.message);
}

/// `qualifier = "account"` binds only the document qualified by the scope
/// item's own account (an operation called once per account); on an
/// operation qualified by anything else it is a lint error naming the choices.
#[test]
fn a_per_account_qualifier_binds_and_cites_only_the_items_own_document() {
    let per_user = CONTROL.replace(
        "summary = { source = \"iam:GetAccountSummary\" }",
        "summary = { source = \"iam:GetLoginProfile\", qualifier = \"account\" }",
    );
    let errors = parse_control(Path::new("q.toml"), &per_user).unwrap_err();
    assert!(
        errors.iter().any(|e| e
            .to_string()
            .contains("only \"*\" (every user name) is supported")),
        "{errors:?}"
    );
    let tags = CONTROL.replace(
        "summary = { source = \"iam:GetAccountSummary\" }",
        "summary = { source = \"organizations:ListTagsForResource\", account = \"management\", qualifier = \"account\" }",
    );
    let control = parse_control(Path::new("t.toml"), &tags).expect("a per-account operation");
    assert_eq!(
        control.evidence[0].qualifier,
        auditpack_core::evaluation::QualifierRef::ScopeAccount
    );
    // The catalog's account-ownership control on the samples: each account's
    // item cites its own tag document and nothing else (with "*" each cited all).
    let dir = tempfile::tempdir().unwrap();
    let results = crate::common::report(&crate::common::samples(), dir.path(), &[]).typed_results();
    let ownership = results
        .controls
        .iter()
        .find(|c| c.id == "org.account-ownership")
        .unwrap();
    assert!(ownership.results.len() > 1);
    for item in &ownership.results {
        let cited: Vec<&str> = item.evidence.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            cited,
            [format!(
                "123456789012/global/organizations/ListTagsForResource.{}.json",
                item.account_id
            )],
            "{}",
            item.account_id
        );
    }
}
