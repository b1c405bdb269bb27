//! Unit tests of the rendered page, and the fixtures `view`'s tests share.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::*;
use crate::evaluation::{Counts, Results};
use crate::evidence::RunInfo;
use crate::org::Org;
use crate::outputs::EvidenceIndexEntry;

pub(super) const SCRIPT_TAG: &str = "<script>alert(1)</script>";
pub(super) const IMG_TAG: &str = "\"><img src=x onerror=alert(1)>";
pub(super) const M: &str = "111111111111";
pub(super) const W: &str = "222222222222";
pub(super) const X: &str = "444444444444";
const NA: &str = "s3:GetPublicAccessBlock failed with AccessDenied";

fn parse<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("fixture matches the type")
}

fn item(account: &str, region: Option<&str>, status: &str, message: &str) -> Value {
    json!({
        "account_id": account, "account_name": SCRIPT_TAG, "region": region,
        "status": status, "message": message,
        "assertions": [{ "id": "check", "status": status, "message": message }],
        "evidence": [{
            "path": format!("{account}/global/iam/GetAccountSummary.json"),
            "sha256": "ab".repeat(32)
        }]
    })
}

fn waived(account: &str) -> Value {
    let mut item = item(account, Some("us-east-1"), "WAIVED", "Recorder off");
    item["waiver"] = json!({
        "original_status": "FAIL", "reason": "Sandbox, no data",
        "approver": "CISO", "ticket": "RISK-42", "expires": "2027-03-31"
    });
    item
}

fn control(id: &str, status: &str, scope: &str, results: Vec<Value>) -> Value {
    let message = (status == "DISABLED").then_some("Disabled in auditpack.toml: not used");
    json!({
        "id": id, "title": format!("Title of {id}"), "tsc": ["CC6.1", "CC7.2"],
        "severity": "high", "status": status, "message": message,
        "objective": "Objective\ntext.", "procedure": "Procedure text.",
        "remediation": format!("Fix {id} here.\n\n{SCRIPT_TAG}"),
        "scope_accounts": scope, "scope_regions": "global", "params": { "max_age_days": 90 },
        "file": format!("{id}.toml"), "results": results,
        "assertions": [{
            "id": "check", "requirement": "Root has MFA", "for_each": "users.filter(u, u.on)",
            "expect": "summary.AccountMFAEnabled == 1 && name != \"<b>\""
        }]
    })
}

fn account(id: &str, name: &str, role: Option<&str>, status: &str) -> Value {
    json!({
        "id": id, "name": name, "email": format!("{id}@example.com"), "status": status,
        "ou_path": "Root/Workloads", "role": role, "joined_at": "2024-01-02T03:04:05Z",
        "tags": { "owner": SCRIPT_TAG }, "reachable": id != W
    })
}

/// Four controls: one failing (with a pass), one not assessed in two accounts
/// for the same reason, one passing with a waived item, one disabled.
pub(super) fn results() -> Results {
    parse(json!({
        "schema_version": 1, "tool": { "name": "auditpack", "version": "0.1.0" },
        "organization_id": "o-test123456", "management_account_id": M, "period": "2026-Q4",
        "generated_at": "2026-11-20T09:16:41Z",
        "collection_window": { "start": "2026-11-20T09:12:00Z", "end": "2026-11-20T09:16:41Z" },
        "home_region": "us-east-1", "regions": ["eu-west-1", "us-east-1"],
        "summary": { "controls": Counts::default(), "items": Counts::default() },
        "controls": [
            control("iam.root-protection", "FAIL", "all", vec![
                item(M, None, "PASS", "All met."),
                item(W, None, "FAIL", &format!("line one\n{IMG_TAG}")),
            ]),
            control("s3.public-access", "NOT_ASSESSED", "all", vec![
                item(M, Some("eu-west-1"), "NOT_ASSESSED", &format!("{NA} for {M} in eu-west-1")),
                item(X, Some("eu-west-1"), "NOT_ASSESSED", &format!("{NA} for {X} in eu-west-1")),
            ]),
            control("config.recording", "PASS", "management", vec![
                item(M, Some("eu-west-1"), "PASS", "ok"),
                waived(M),
            ]),
            control("guardduty.coverage", "DISABLED", "all", vec![]),
        ],
        "waivers": [{
            "control": "config.recording", "account": M, "region": null,
            "reason": "Sandbox, no data", "approver": "CISO", "ticket": "RISK-42",
            "expires": "2027-03-31", "state": "active", "items": 1, "source": "waivers.toml:1"
        }]
    }))
}

pub(super) fn org() -> Org {
    parse(json!({
        "schema_version": 1,
        "organization": {
            "id": "o-test123456", "management_account_id": M, "feature_set": "ALL",
            "arn": "arn:aws:organizations::111111111111:organization/o-test123456"
        },
        "accounts": [
            account(M, "acme-management", Some("management"), "ACTIVE"),
            account(W, SCRIPT_TAG, None, "ACTIVE"),
            account("333333333333", "acme-old", Some("workload"), "SUSPENDED"),
            account(X, "acme-prod", Some("workload"), "ACTIVE"),
        ]
    }))
}

pub(super) fn run() -> RunInfo {
    parse(json!({
        "schema_version": 1, "tool": { "name": "auditpack", "version": "0.1.0" },
        "period": "2026-Q4", "started_at": "2026-11-20T09:12:00Z",
        "finished_at": "2026-11-20T09:16:41Z", "home_region": "us-east-1",
        "regions": ["eu-west-1", "us-east-1"],
        "command_line": ["auditpack", "collect", "--period", "2026-Q4"],
        "caller_arn": "arn:aws:sts::111111111111:assumed-role/Audit/alice"
    }))
}

pub(super) fn evidence() -> Vec<EvidenceIndexEntry> {
    vec![EvidenceIndexEntry {
        path: format!("{M}/global/iam/GetAccountSummary.json"),
        account_id: M.into(),
        region: None,
        service: "iam".into(),
        operation: "GetAccountSummary".into(),
        qualifier: Some(SCRIPT_TAG.into()),
        status: "error".into(),
        error_code: Some("AccessDenied".into()),
        collected_at: Some("2026-11-20T09:13:00Z".into()),
        size: 12_345,
        sha256: "cd".repeat(32),
        facts: None,
    }]
}

fn render_with(links: &Links) -> String {
    render_results_with(&results(), links)
}

fn render() -> String {
    render_with(&Links::bundle())
}

/// The page of `results` (the fixture org, run and evidence), as bundled.
fn render_results(results: &Results) -> String {
    render_results_with(results, &Links::bundle())
}

/// The page of `results` with the fixture org, run and evidence.
fn render_results_with(results: &Results, links: &Links) -> String {
    render_report(&Fixture::of(results).input(), links).expect("renders")
}

/// What a page is rendered from: the fixture org, run and evidence index,
/// and results with their items on disk.
struct Fixture {
    org: Org,
    run: RunInfo,
    evidence: crate::outputs::EvidenceIndex,
    results: crate::evaluation::StoredResults,
}

impl Fixture {
    fn of(results: &Results) -> Fixture {
        Fixture {
            org: org(),
            run: run(),
            evidence: crate::outputs::EvidenceIndex::of_entries(&evidence()).unwrap(),
            results: crate::evaluation::StoredResults::of_results(results.clone()).unwrap(),
        }
    }

    fn input(&self) -> ReportInput<'_> {
        ReportInput {
            results: &self.results,
            org: &self.org,
            run: &self.run,
            evidence: &self.evidence,
            bundle_name: "auditpack-o-test123456-2026-Q4",
            ipe: Default::default(),
        }
    }
}

/// `report` writes the bag's and the out folder's copies side by side, each
/// control's items read once for both: each copy is the page written alone
/// with its links, exceptions (given to one copy, copied to the other) and
/// all.
#[test]
fn copies_written_side_by_side_are_each_the_page_written_alone() {
    let fixture = Fixture::of(&results());
    let input = fixture.input();
    let beside = Links::beside(
        std::path::Path::new("/work/out"),
        std::path::Path::new("/work/evidence"),
        None,
    );
    let (mut in_bag, mut out_folder) = (Vec::new(), Vec::new());
    write_reports(
        &input,
        &mut [(&Links::bundle(), &mut in_bag), (&beside, &mut out_folder)],
    )
    .unwrap();
    let (in_bag, out_folder) = (
        String::from_utf8(in_bag).unwrap(),
        String::from_utf8(out_folder).unwrap(),
    );
    assert_eq!(in_bag, render_report(&input, &Links::bundle()).unwrap());
    assert_eq!(out_folder, render_report(&input, &beside).unwrap());
    assert_ne!(in_bag, out_folder, "the copies' links differ");
    for page in [&in_bag, &out_folder] {
        assert!(
            page.contains("<table class=\"exceptions\">"),
            "the exceptions are listed"
        );
        assert!(page.contains("Not assessed (2 requirement(s) × item)"));
    }
}

#[test]
fn renders_org_period_controls_and_every_status() {
    let html = render();
    let expected = [
        "o-test123456",
        "2026-Q4",
        "auditpack 0.1.0",
        "2026-11-20 09:12:00 UTC",
        "12.3 KB",
        "error (AccessDenied)",
        "sha256sum -c manifest-sha256.txt",
        "auditpack verify auditpack-o-test123456-2026-Q4.zip",
        "Disabled in auditpack.toml: not used",
        "OUT OF SCOPE",
        "NOT REACHED",
        "Logical and physical access controls",
        "id=\"c-guardduty.coverage\"",
        "iam.root-protection",
        "s3.public-access",
        "config.recording",
        // The waiver, with the verdict it replaced and who accepted it.
        "RISK-42",
        "CISO",
        "2027-03-31",
        "waivers.toml:1",
    ];
    for needle in expected {
        assert!(html.contains(needle), "missing {needle}");
    }
    for status in [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::NotAssessed,
        Verdict::Disabled,
        Verdict::Waived,
    ] {
        let badge = Badge::from(status);
        // As a badge, big or small.
        let shown = format!(" {}\">{}</span>", badge.class, badge.label);
        assert!(html.contains(&shown), "missing {shown}");
    }
}

#[test]
fn untrusted_text_is_escaped() {
    let html = render();
    for raw in [SCRIPT_TAG, IMG_TAG, "<img", "\"<b>\""] {
        assert!(!html.contains(raw), "raw {raw}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the embedded script"
    );
}

#[test]
fn counts_have_thousands_separators() {
    let shown: Vec<String> = [0, 999, 1_000, 16_644, 1_234_567].map(thousands).into();
    assert_eq!(shown, ["0", "999", "1,000", "16,644", "1,234,567"]);
}

#[test]
fn the_escape_function_covers_text_and_quoted_attributes() {
    assert_eq!(
        escape_html("a&b<c>d\"e'f/g ‹h›"),
        "a&amp;b&lt;c&gt;d&quot;e&#39;f/g ‹h›"
    );
}

#[test]
fn page_is_self_contained() {
    let html = render().to_ascii_lowercase();
    let external = [
        "http://", "https://", "<link", "<iframe", "<object", "<embed", "url(",
    ];
    for needle in external.iter().chain(&["<img", "@import"]) {
        assert!(!html.contains(needle), "found {needle}");
    }
    // Escaped text holds no '<', so every '<' opens a real tag: none may load anything.
    for tag in (html.split('<').skip(1)).map(|t| t.split('>').next().unwrap_or(t)) {
        assert!(!tag.contains("src="), "<{tag}>");
    }
    assert!(html.contains("<script>") && html.contains("<style>"));
    let link = "href=\"evidence/111111111111/global/iam/getaccountsummary.json\"";
    assert!(html.contains(link), "evidence links are relative to data/");
    assert!(html.contains("href=\"controls/iam.root-protection.toml\""));
}

#[test]
fn out_folder_links_use_the_given_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let links = Links::beside(
        &dir.path().join("out"),
        &dir.path().join("evidence"),
        Some(&dir.path().join("controls")),
    );
    let html = render_with(&links);
    assert!(html.contains("href=\"../evidence/111111111111/global/iam/GetAccountSummary.json\""));
    assert!(html.contains("href=\"../controls/iam.root-protection.toml\""));
    assert!(!html.contains("href=\"evidence/"));
}

#[test]
fn a_finding_shared_by_accounts_is_one_row_naming_each() {
    let html = render();
    // Both NOT ASSESSED items say the same up to their account: one finding.
    let generic = format!("{NA} for ‹account› in ‹region›");
    assert_eq!(
        html.matches(&generic).count(),
        2,
        "the finding and the exception"
    );
    assert!(
        !html.contains(&format!("{NA} for {M}")),
        "no row per account"
    );
    // The row names both accounts, each leading to its files in the index.
    let row = &html[html.find(&generic).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    for account in [M, X] {
        assert!(row.contains(&format!(
            "<li data-account=\"{account}\"><a href=\"#ev-{account}\""
        )));
    }
    assert!(row.contains("2 accounts"), "{row}");
    // A finding of one account keeps its exact message, with its lines.
    assert!(html.contains("line one\n&quot;&gt;&lt;img"));
}

/// A control whose file sets `matrix = true` shows every item against every
/// requirement; the others do not (account names escaped there too).
#[test]
fn a_matrix_control_shows_requirements_by_accounts() {
    let mut results = results();
    assert!(
        !render().contains("Requirements × accounts"),
        "no control asks for it"
    );
    let root = results
        .controls
        .iter_mut()
        .find(|c| c.id == "iam.root-protection")
        .unwrap();
    root.matrix = true;
    let html = render_results(&results);
    let matrix = &html[html.find("Requirements × accounts").expect("the matrix")..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert!(
        matrix.contains("<span>check</span>"),
        "a column per requirement"
    );
    assert!(matrix.contains(&format!("data-account=\"{W}\"")));
    assert!(matrix.contains("<td class=\"cell fail\">FAIL</td>"));
    assert!(matrix.contains("<td class=\"cell pass\">PASS</td>"));
    assert!(!matrix.contains(SCRIPT_TAG), "account names are escaped");
}

/// A control's changes of the period are listed (exceptions first), with
/// every CloudTrail-supplied text escaped.
#[test]
fn changes_of_the_period_are_listed_and_escaped() {
    let mut results = results();
    let item = &mut results.controls[0].results[1];
    item.period = Some(parse(json!({
        "window": { "start": "2026-10-01T00:00:00Z", "end": "2026-11-20T09:12:00Z" },
        "managed": [],
        "refused": [],
        "exceptions": [{
            "time": "2026-11-02T09:00:00Z", "event": "cloudtrail.amazonaws.com:StopLogging",
            "event_id": "e1", "identity_type": "IAMUser", "principal": SCRIPT_TAG,
            "session_issuer": null, "mfa": false, "source_ip": IMG_TAG,
            "request_parameters": { "name": "trail" }, "error_code": null,
            "restored_at": "2026-11-02T12:00:00Z"
        }]
    })));
    let html = render_results(&results);
    let table = &html[html
        .find("Changes during the period (1)")
        .expect("the table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<code>StopLogging</code>"));
    assert!(table.contains("restored 2026-11-02T12:00:00Z"));
    assert!(table.contains("IAMUser, no MFA"));
    assert!(
        !table.contains(SCRIPT_TAG) && !table.contains(IMG_TAG),
        "escaped"
    );
    assert!(
        !render().contains("Changes during the period"),
        "none without changes"
    );
}

/// A failing control shows how to fix it in its findings table, escaped;
/// controls without a failure do not.
#[test]
fn remediation_is_shown_beside_failures_only() {
    let html = render();
    let failing = &html[html.find("id=\"c-iam.root-protection\"").unwrap()..];
    let failing = &failing[..failing.find("</article>").unwrap()];
    let findings = &failing[failing.find("table class=\"results findings\"").unwrap()..];
    let findings = &findings[..findings.find("</table>").unwrap()];
    assert!(findings.contains("<tr class=\"fix\"><th scope=\"row\">Remediation</th>"));
    assert!(findings.contains("<p>Fix iam.root-protection here.</p>"));
    assert!(findings.contains("&lt;script&gt;") && !findings.contains(SCRIPT_TAG));
    // Not assessed only, and passing with a waived NOT ASSESSED: nothing to fix.
    for id in ["s3.public-access", "guardduty.coverage"] {
        assert!(!html.contains(&format!("Fix {id} here.")), "{id}");
    }
    // A failure accepted by a waiver still shows the fix.
    let mut results = results();
    results.controls[0].results[1].status = Verdict::Waived;
    results.controls[0].results[1].waiver = Some(parse(json!({
        "original_status": "FAIL", "reason": "r", "approver": "a", "ticket": "t", "expires": "2027-01-01"
    })));
    assert!(render_results(&results).contains("Fix iam.root-protection here."));
}
