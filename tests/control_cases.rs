//! Every control in `controls/` against its own evidence cases.
//!
//! For each control, `controls/cases/<control id>.json` (format:
//! `controls/cases/README.md`) holds a base evidence set and cases that override
//! it. Each case is written out as a real evidence folder (the fixture org of
//! `tests/fixtures/case-org/` plus one envelope per evidence document, at the path
//! `EvidenceKey::relative_path()` gives), the control alone is evaluated with
//! `evaluate`, and every expectation of the case is checked.
//!
//! Then coverage is enforced from the *actual* results, not from what the cases
//! claim: every assertion of every control must be seen PASS in some case and
//! FAIL in some case, and every control must have an item NOT_ASSESSED in some
//! case. All problems are collected and reported together.
//!
//! `CONTROL_CASES_VERBOSE=1 cargo test --test tests control_cases:: -- --nocapture`
//! prints every item's verdict and message, case by case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use auditpack_aws::collection::classify::classify_service_error;
use auditpack_core::catalog::{find_operation, CallScope, OperationSpec};
use auditpack_core::evaluation::config::Config;
use auditpack_core::evaluation::{
    evaluate, load_controls, Control, ItemResult, LintError, Verdict,
};
use auditpack_core::evidence::{
    AnswerStatus, Envelope, ErrorClass, EvidenceKey, EvidenceStore, RegionDir, RunInfo,
};
use auditpack_core::org::{Org, Role};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::common::evidence::{envelope, write_envelope, Answer};
use crate::common::repo as root;

// ---- the case file format ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    control: String,
    #[serde(default)]
    evidence: Map<String, Value>,
    /// Base attachments of a manual control: file name → `{content, meta}`.
    #[serde(default)]
    attachments: Map<String, Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    evidence: Map<String, Value>,
    /// Attachment overrides (`null` removes one).
    #[serde(default)]
    attachments: Map<String, Value>,
    #[serde(default)]
    org: Option<OrgOverride>,
    #[serde(default)]
    params: Map<String, Value>,
    /// `[changes] trusted_principals` of the case's auditpack.toml.
    #[serde(default)]
    trusted_principals: Vec<String>,
    expect: Map<String, Value>,
    #[serde(default)]
    assertions: BTreeMap<String, String>,
    #[serde(default)]
    message_contains: Vec<String>,
}

/// Per-case changes to the fixture org: account id → fields to change (merged
/// into the fixture account, or a whole new account), or `null` to remove it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgOverride {
    accounts: Map<String, Value>,
}

/// The detailed form of an `expect` value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetailedExpect {
    status: String,
    #[serde(default)]
    assertions: BTreeMap<String, String>,
    #[serde(default)]
    message_contains: Vec<String>,
}

/// What one `expect` entry requires of each item it selects.
struct ItemExpect {
    status: Verdict,
    assertions: BTreeMap<String, Verdict>,
    message_contains: Vec<String>,
}

fn parse_status(text: &str) -> Result<Verdict, String> {
    match text {
        "PASS" => Ok(Verdict::Pass),
        "FAIL" => Ok(Verdict::Fail),
        "NOT_ASSESSED" => Ok(Verdict::NotAssessed),
        other => Err(format!(
            "'{other}' is not a verdict (PASS, FAIL or NOT_ASSESSED)"
        )),
    }
}

fn label(status: Verdict) -> &'static str {
    match status {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::NotAssessed => "NOT_ASSESSED",
        Verdict::Disabled => "DISABLED",
        Verdict::Waived => "WAIVED",
    }
}

fn parse_assertion_map(
    map: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Verdict>, String> {
    map.iter()
        .map(|(id, s)| Ok((id.clone(), parse_status(s)?)))
        .collect()
}

/// An `expect` value: `"FAIL"`, or `{ "status", "assertions", "message_contains" }`.
/// The case-level `assertions` and `message_contains` apply to every entry.
fn parse_item_expect(value: &Value, case: &Case) -> Result<ItemExpect, String> {
    let mut assertions = parse_assertion_map(&case.assertions)?;
    let mut message_contains = case.message_contains.clone();
    let status = match value {
        Value::String(s) => parse_status(s)?,
        Value::Object(_) => {
            let detailed: DetailedExpect =
                serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
            assertions.extend(parse_assertion_map(&detailed.assertions)?);
            message_contains.extend(detailed.message_contains);
            parse_status(&detailed.status)?
        }
        other => {
            return Err(format!(
            "{other} is neither a verdict nor {{\"status\", \"assertions\", \"message_contains\"}}"
        ))
        }
    };
    Ok(ItemExpect {
        status,
        assertions,
        message_contains,
    })
}

// ---- evidence keys ----

/// Resolves `<who>`: a 12-digit account id, or a role held by exactly one active account.
fn resolve_account(who: &str, org: &Org) -> Result<String, String> {
    if who.len() == 12 && who.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(who.to_string());
    }
    let role: Role = who.parse()?;
    let holders: Vec<&str> = org
        .accounts_with_role(role)
        .map(|a| a.id.as_str())
        .collect();
    match holders.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!("no active account has the role '{who}'")),
        many => Err(format!(
            "role '{who}' is held by several accounts ({}): use an account id",
            many.join(", ")
        )),
    }
}

/// Parses `<who>/<region>/<service>:<Operation>[/<qualifier>]`. The qualifier is
/// everything after the third `/`, so it may itself contain `/` (trail ARNs).
fn parse_key(key: &str, org: &Org) -> Result<EvidenceKey, String> {
    let mut parts = key.splitn(4, '/');
    let (Some(who), Some(region), Some(source)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected <who>/<region>/<service>:<Operation>[/<qualifier>]".into());
    };
    let qualifier = parts.next().map(str::to_string);
    let Some(op) = find_operation(source) else {
        return Err(format!(
            "'{source}' is not an evidence source of the catalog"
        ));
    };
    match (op.qualified_by, &qualifier) {
        (Some(what), None) => {
            return Err(format!(
                "{source} is called once per {what}: add /<qualifier>"
            ))
        }
        (None, Some(_)) => return Err(format!("{source} is called once: it takes no qualifier")),
        _ => {}
    }
    let region = match region {
        "global" => RegionDir::Global,
        "" => return Err("empty region".into()),
        r => RegionDir::Region(r.to_string()),
    };
    let is_global = op.scope == CallScope::Global;
    if is_global != (region == RegionDir::Global) {
        return Err(format!(
            "{source} is {}: its region must be {}",
            if is_global { "global" } else { "regional" },
            if is_global { "'global'" } else { "a region" }
        ));
    }
    Ok(EvidenceKey {
        account_id: resolve_account(who, org)?,
        region,
        service: op.service.to_string(),
        operation: op.operation.to_string(),
        qualifier,
    })
}

/// The envelope for one case value: data, or one of the markers
/// `{"$not_found": code}`, `{"$error": code}`, `{"$incomplete": data}`. The
/// codes are classified as the collector classifies them for the key's operation.
fn envelope_for(key: &EvidenceKey, value: &Value) -> Result<Envelope, String> {
    let marker = match value {
        Value::Object(map) if map.len() == 1 && map.keys().all(|k| k.starts_with('$')) => {
            map.iter().next()
        }
        _ => None,
    };
    let code_of = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("the marker's value must be an AWS error code, not {v}"))
    };
    let answer = match marker {
        None => Answer::data(value.clone()),
        Some((m, v)) if m == "$not_found" => {
            let code = code_of(v)?;
            if classify_service_error(operation_of(key)?, &code, None).0 != AnswerStatus::NotFound {
                return Err(format!(
                    "'{code}' is not an absence code of {}:{}; the collector would record it as an error (use $error)",
                    key.service, key.operation
                ));
            }
            Answer::NotFound(code)
        }
        Some((m, v)) if m == "$error" => {
            let code = code_of(v)?;
            let (status, class) = classify_service_error(operation_of(key)?, &code, None);
            if status != AnswerStatus::Error {
                return Err(format!(
                    "'{code}' means the configuration does not exist (use $not_found)"
                ));
            }
            Answer::Error(code, class)
        }
        Some((m, v)) if m == "$incomplete" => Answer::Data {
            data: v.clone(),
            complete: false,
        },
        Some((m, _)) => {
            return Err(format!(
                "unknown marker '{m}' (known: $not_found, $error, $incomplete)"
            ))
        }
    };
    Ok(envelope(key, answer))
}

/// The catalog's declaration of `key`'s operation.
fn operation_of(key: &EvidenceKey) -> Result<&'static OperationSpec, String> {
    let source = format!("{}:{}", key.service, key.operation);
    find_operation(&source).ok_or_else(|| format!("'{source}' is not in the catalog"))
}

/// The requirement ids of a control's items: its assertions, and
/// `period-changes` when it declares the changes that could break it; a
/// manual control's three fixed requirements.
fn requirement_ids(control: &Control) -> impl Iterator<Item = &str> {
    let period = (!control.changes.is_empty()).then_some("period-changes");
    let manual = control
        .manual
        .is_some()
        .then_some(MANUAL_REQUIREMENTS)
        .into_iter()
        .flatten()
        .copied();
    control
        .assertions
        .iter()
        .map(|a| a.id.as_str())
        .chain(period)
        .chain(manual)
}

/// A manual control's requirements; the first two are NOT ASSESSED, never
/// FAIL, when unmet (no attachment, none attributed).
const MANUAL_REQUIREMENTS: &[&str] = &["attachment-present", "attributed", "current"];

/// Writes `attachments/<name>` and its metadata file from a case's
/// `{ "content": text, "meta": { … } }` (dates as `YYYY-MM-DD` strings are
/// written as TOML dates, everything else as strings or lists of strings).
fn write_attachment(root: &Path, name: &str, value: &Value) -> Result<(), String> {
    let content = value["content"].as_str().ok_or("no \"content\" text")?;
    let meta = value["meta"].as_object().ok_or("no \"meta\" object")?;
    let is_date = |k: &str| matches!(k, "date" | "reviewed_on");
    let toml_value = |k: &str, v: &Value| -> Result<String, String> {
        Ok(match v {
            Value::String(s) if is_date(k) => s.clone(),
            Value::String(s) => serde_json::to_string(s).unwrap(),
            Value::Array(items) => serde_json::to_string(items).unwrap(),
            Value::Object(p) => format!(
                "{{ start = {}, end = {} }}",
                p["start"].as_str().ok_or("period.start")?,
                p["end"].as_str().ok_or("period.end")?
            ),
            other => return Err(format!("{k}: unexpected {other}")),
        })
    };
    let mut text = String::new();
    for (k, v) in meta {
        text.push_str(&format!("{k} = {}\n", toml_value(k, v)?));
    }
    let dir = root.join("attachments");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), content).unwrap();
    std::fs::write(dir.join(format!("{name}.meta.toml")), text).unwrap();
    Ok(())
}

// ---- parameter overrides ----

/// The `auditpack.toml` a case's `params` stand for, checked like a user's file.
fn case_config(
    control: &Control,
    params: &Map<String, Value>,
    trusted_principals: &[String],
) -> Result<Config, String> {
    if params.is_empty() && trusted_principals.is_empty() {
        return Ok(Config::default());
    }
    let mut text = format!(
        "[changes]\ntrusted_principals = {}\n\n[controls.{:?}.params]\n",
        serde_json::to_string(trusted_principals).unwrap(),
        control.id
    );
    for (name, value) in params {
        let scalar_or_list = match value {
            Value::Array(items) => items
                .iter()
                .all(|v| !v.is_object() && !v.is_array() && !v.is_null()),
            Value::Object(_) | Value::Null => false,
            _ => true,
        };
        if !scalar_or_list {
            return Err(format!(
                "params.{name}: {value} is not a string, number, boolean or list"
            ));
        }
        // JSON scalars and lists of them are valid TOML as written.
        text.push_str(&format!("{name:?} = {value}\n"));
    }
    let lint = |errors: Vec<LintError>| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let config = Config::parse(Path::new("auditpack.toml"), &text).map_err(lint)?;
    config
        .check_against(std::slice::from_ref(control))
        .map_err(lint)?;
    Ok(config)
}

// ---- org overrides ----

fn case_org(base: &Value, over: Option<&OrgOverride>) -> Result<(Value, Org), String> {
    let mut org = base.clone();
    if let Some(over) = over {
        let accounts = org["accounts"]
            .as_array_mut()
            .ok_or("fixture org.json has no accounts list")?;
        for (id, change) in &over.accounts {
            let at = accounts.iter().position(|a| a["id"] == id.as_str());
            match (change, at) {
                (Value::Null, Some(i)) => {
                    accounts.remove(i);
                }
                (Value::Null, None) => return Err(format!("org: no account {id} to remove")),
                (Value::Object(fields), Some(i)) => {
                    let account = accounts[i].as_object_mut().expect("accounts are objects");
                    for (k, v) in fields {
                        account.insert(k.clone(), v.clone());
                    }
                }
                (Value::Object(fields), None) => {
                    let mut account = fields.clone();
                    account.insert("id".into(), Value::String(id.clone()));
                    accounts.push(Value::Object(account));
                }
                (other, _) => {
                    return Err(format!(
                        "org: account {id} must be an object or null, not {other}"
                    ))
                }
            }
        }
        accounts.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    }
    let parsed: Org = serde_json::from_value(org.clone()).map_err(|e| format!("org: {e}"))?;
    Ok((org, parsed))
}

// ---- running one case ----

/// What one case produced, for coverage.
struct CaseRun {
    items: Vec<ItemResult>,
    /// Relative paths of the evidence the control read.
    read: BTreeSet<String>,
    /// Base keys (by key text) and their paths in this case.
    base_paths: BTreeMap<String, String>,
}

struct Harness {
    fixture_org: Value,
    run_text: String,
    run: RunInfo,
    problems: Vec<String>,
}

impl Harness {
    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    fn run_case(&mut self, control: &Control, file: &CaseFile, case: &Case) -> Option<CaseRun> {
        let at = format!("[{}] case '{}'", control.id, case.name);
        let (org_json, org) = match case_org(&self.fixture_org, case.org.as_ref()) {
            Ok(org) => org,
            Err(e) => {
                self.problem(format!("{at}: {e}"));
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("org.json"),
            serde_json::to_vec_pretty(&org_json).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join("run.json"), &self.run_text).unwrap();

        // Base evidence, then the case's overrides (null removes a document).
        let mut evidence: Map<String, Value> = file.evidence.clone();
        for (key, value) in &case.evidence {
            if value.is_null() && !evidence.contains_key(key) {
                self.problem(format!(
                    "{at}: evidence '{key}' is removed (null) but the base evidence has no such key"
                ));
            }
            evidence.insert(key.clone(), value.clone());
        }
        let mut base_paths = BTreeMap::new();
        let mut case_paths = BTreeMap::new();
        let mut written: BTreeMap<String, String> = BTreeMap::new();
        for (text, value) in &evidence {
            if value.is_null() {
                continue;
            }
            let key = match parse_key(text, &org) {
                Ok(key) => key,
                Err(e) => {
                    self.problem(format!("{at}: evidence key '{text}': {e}"));
                    continue;
                }
            };
            let envelope = match envelope_for(&key, value) {
                Ok(env) => env,
                Err(e) => {
                    self.problem(format!("{at}: evidence '{text}': {e}"));
                    continue;
                }
            };
            let rel = key.relative_path();
            if let Some(other) = written.insert(rel.clone(), text.clone()) {
                self.problem(format!(
                    "{at}: evidence keys '{other}' and '{text}' name the same document {rel}"
                ));
            }
            write_envelope(dir.path(), &key, &envelope);
            if case.evidence.contains_key(text) {
                case_paths.insert(text.clone(), rel);
            } else {
                base_paths.insert(text.clone(), rel);
            }
        }

        // Attachments (manual controls): the base set, then the case's.
        let mut attachments: Map<String, Value> = file.attachments.clone();
        for (name, value) in &case.attachments {
            attachments.insert(name.clone(), value.clone());
        }
        for (name, value) in attachments.iter().filter(|(_, v)| !v.is_null()) {
            if let Err(e) = write_attachment(dir.path(), name, value) {
                self.problem(format!("{at}: attachment '{name}': {e}"));
            }
        }

        let config = match case_config(control, &case.params, &case.trusted_principals) {
            Ok(config) => config,
            Err(e) => {
                self.problem(format!("{at}: params: {e}"));
                return None;
            }
        };
        let store = EvidenceStore::open(dir.path()).expect("evidence folder");
        for e in store.attachments().1 {
            self.problem(format!(
                "{at}: attachment {}: {}",
                e.file.display(),
                e.message
            ));
        }
        let results = evaluate(
            std::slice::from_ref(control),
            &config,
            &store,
            &org,
            &self.run,
        );
        let result = &results.controls[0];
        if result.results.is_empty() {
            self.problem(format!(
                "{at}: the control has no scope item ({})",
                result.message.clone().unwrap_or_default()
            ));
        }
        let read: BTreeSet<String> = result
            .results
            .iter()
            .flat_map(|item| item.evidence.iter().map(|e| e.path.clone()))
            .collect();
        for (text, rel) in &case_paths {
            if !read.contains(rel) {
                self.problem(format!(
                    "{at}: evidence '{text}' ({rel}) is never read by the control (wrong account, region or operation?)"
                ));
            }
        }
        if std::env::var_os("CONTROL_CASES_VERBOSE").is_some() {
            println!("[{}] case '{}':", control.id, case.name);
            for item in &result.results {
                println!(
                    "  {} {}: {}",
                    item_name(item),
                    label(item.status),
                    item.message
                );
            }
        }
        self.check_expectations(control, case, &org, &result.results);
        Some(CaseRun {
            items: result.results.clone(),
            read,
            base_paths,
        })
    }

    fn check_expectations(
        &mut self,
        control: &Control,
        case: &Case,
        org: &Org,
        items: &[ItemResult],
    ) {
        let at = format!("[{}] case '{}'", control.id, case.name);
        if case.expect.is_empty() {
            self.problem(format!(
                "{at}: 'expect' is empty: a case must check something"
            ));
        }
        let known: BTreeSet<&str> = requirement_ids(control).collect();
        let mut selected_by_some = BTreeSet::new();
        let mut plan: Vec<(String, Vec<usize>, ItemExpect)> = Vec::new();
        let mut wildcard: Option<ItemExpect> = None;
        for (selector, value) in &case.expect {
            let expect = match parse_item_expect(value, case) {
                Ok(e) => e,
                Err(e) => {
                    self.problem(format!("{at}: expect '{selector}': {e}"));
                    continue;
                }
            };
            for id in expect.assertions.keys() {
                if !known.contains(id.as_str()) {
                    self.problem(format!(
                        "{at}: expect '{selector}': the control has no assertion '{id}' (it has: {})",
                        known.iter().copied().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            if selector == "*" {
                wildcard = Some(expect);
                continue;
            }
            let (who, region) = match selector.split_once('/') {
                Some((who, region)) => (who, Some(region)),
                None => (selector.as_str(), None),
            };
            let account = match resolve_account(who, org) {
                Ok(id) => id,
                Err(e) => {
                    self.problem(format!("{at}: expect '{selector}': {e}"));
                    continue;
                }
            };
            let chosen: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, item)| {
                    item.account_id == account
                        && match region {
                            None => true,
                            Some("global") => item.region.is_none(),
                            Some(r) => item.region.as_deref() == Some(r),
                        }
                })
                .map(|(i, _)| i)
                .collect();
            if chosen.is_empty() {
                let all: Vec<String> = items.iter().map(item_name).collect();
                self.problem(format!(
                    "{at}: expect '{selector}' selects no result item (items: {})",
                    all.join(", ")
                ));
            }
            selected_by_some.extend(chosen.iter().copied());
            plan.push((selector.clone(), chosen, expect));
        }
        if let Some(expect) = wildcard {
            let rest: Vec<usize> = (0..items.len())
                .filter(|i| !selected_by_some.contains(i))
                .collect();
            if rest.is_empty() {
                self.problem(format!("{at}: expect '*' selects no result item"));
            }
            plan.push(("*".into(), rest, expect));
        }
        for (selector, chosen, expect) in plan {
            for i in chosen {
                let item = &items[i];
                let who = format!("{at}: item {} (expect '{selector}')", item_name(item));
                if item.status != expect.status {
                    self.problem(format!(
                        "{who}: expected {}, got {}. Message: {}",
                        label(expect.status),
                        label(item.status),
                        item.message
                    ));
                }
                for (id, want) in &expect.assertions {
                    let Some(got) = item.assertions.iter().find(|a| &a.id == id) else {
                        continue; // reported above as an unknown assertion
                    };
                    if got.status != *want {
                        self.problem(format!(
                            "{who}: assertion '{id}' expected {}, got {}. Message: {}",
                            label(*want),
                            label(got.status),
                            if got.message.is_empty() {
                                "(none)"
                            } else {
                                &got.message
                            }
                        ));
                    }
                }
                for needle in &expect.message_contains {
                    if !item.message.contains(needle.as_str()) {
                        self.problem(format!(
                            "{who}: the message does not contain '{needle}'. Message: {}",
                            item.message
                        ));
                    }
                }
            }
        }
    }
}

fn item_name(item: &ItemResult) -> String {
    match &item.region {
        Some(r) => format!("{}/{}", item.account_id, r),
        None => format!("{}/global", item.account_id),
    }
}

// ---- the test ----

#[test]
fn every_control_passes_its_cases_and_covers_every_outcome() {
    let controls_dir = root().join("controls");
    let cases_dir = controls_dir.join("cases");
    let fixture = root().join("tests/fixtures/case-org");
    let controls = match load_controls(&controls_dir) {
        Ok(c) => c,
        Err(errors) => {
            let list: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            panic!("control files do not lint:\n{}", list.join("\n"));
        }
    };
    let run_text = std::fs::read_to_string(fixture.join("run.json")).expect("fixture run.json");
    let org_text = std::fs::read_to_string(fixture.join("org.json")).expect("fixture org.json");
    let mut harness = Harness {
        run: serde_json::from_str(&run_text).expect("fixture run.json is a valid run.json"),
        fixture_org: serde_json::from_str(&org_text).expect("fixture org.json is JSON"),
        run_text,
        problems: Vec::new(),
    };
    serde_json::from_str::<Org>(&org_text).expect("fixture org.json is a valid org.json");

    // Case files without a control are stale.
    let ids: BTreeSet<&str> = controls.iter().map(|c| c.id.as_str()).collect();
    for entry in std::fs::read_dir(&cases_dir).expect("controls/cases exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if !ids.contains(stem.as_str()) {
                harness.problem(format!(
                    "{}: there is no control '{stem}' in controls/",
                    path.display()
                ));
            }
        }
    }

    let mut ran = 0;
    for control in &controls {
        ran += check_control(&mut harness, control, &cases_dir);
    }

    if !harness.problems.is_empty() {
        panic!(
            "{} problem(s) in control cases ({} case(s) run):\n\n{}\n",
            harness.problems.len(),
            ran,
            harness.problems.join("\n\n")
        );
    }
}

/// Runs one control's cases and checks its coverage; returns the number of cases run.
fn check_control(harness: &mut Harness, control: &Control, cases_dir: &Path) -> usize {
    let path = cases_dir.join(format!("{}.json", control.id));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            harness.problem(format!(
                "[{}] has no case file: add {} (see controls/cases/README.md)",
                control.id,
                path.display()
            ));
            return 0;
        }
    };
    let file: CaseFile = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            harness.problem(format!("[{}] {}: {e}", control.id, path.display()));
            return 0;
        }
    };
    if file.control != control.id {
        harness.problem(format!(
            "[{}] {}: \"control\" says '{}'",
            control.id,
            path.display(),
            file.control
        ));
    }
    let mut names = BTreeSet::new();
    let mut seen: BTreeMap<&str, BTreeSet<Verdict>> = requirement_ids(control)
        .map(|id| (id, BTreeSet::new()))
        .collect();
    let mut not_assessed_items = 0;
    let mut base_written: BTreeSet<String> = BTreeSet::new();
    let mut base_read: BTreeSet<String> = BTreeSet::new();
    for case in &file.cases {
        if !names.insert(case.name.as_str()) {
            harness.problem(format!(
                "[{}] two cases are named '{}'",
                control.id, case.name
            ));
        }
        let Some(run) = harness.run_case(control, &file, case) else {
            continue;
        };
        for item in &run.items {
            if item.status == Verdict::NotAssessed {
                not_assessed_items += 1;
            }
            for a in &item.assertions {
                if let Some(set) = seen.get_mut(a.id.as_str()) {
                    set.insert(a.status);
                }
            }
        }
        for (text, rel) in &run.base_paths {
            base_written.insert(text.clone());
            if run.read.contains(rel) {
                base_read.insert(text.clone());
            }
        }
    }
    if file.cases.is_empty() {
        harness.problem(format!("[{}] the case file has no cases", control.id));
    }
    for key in base_written.difference(&base_read) {
        harness.problem(format!(
            "[{}] base evidence '{key}' is never read by the control in any case (wrong account, region or operation?)",
            control.id
        ));
    }
    for (id, statuses) in &seen {
        // A requirement about the evidence itself (`when_false =
        // "not_assessed"`) is never FAIL: its unmet side is NOT ASSESSED.
        let unmet = match control.assertions.iter().find(|a| a.id == *id) {
            Some(a) if a.when_false == auditpack_core::evaluation::WhenFalse::NotAssessed => {
                (Verdict::NotAssessed, "not assessed (expect false)")
            }
            None if control.manual.is_some() && *id != "current" => {
                (Verdict::NotAssessed, "not assessed (unmet)")
            }
            _ => (Verdict::Fail, "failing"),
        };
        for (want, what) in [(Verdict::Pass, "passing"), unmet] {
            if !statuses.contains(&want) {
                harness.problem(format!(
                    "[{}] assertion '{id}' is never seen {what} in any case (add a case that makes it {})",
                    control.id,
                    label(want)
                ));
            }
        }
    }
    if not_assessed_items == 0 {
        harness.problem(format!(
            "[{}] no case makes an item NOT_ASSESSED (add one with {{\"$error\": \"AccessDenied\"}} on evidence the control needs)",
            control.id
        ));
    }
    file.cases.len()
}

// ---- the harness's own checks ----

#[test]
fn keys_keep_slashes_in_qualifiers_and_resolve_roles() {
    let org_text =
        std::fs::read_to_string(root().join("tests/fixtures/case-org/org.json")).unwrap();
    let org: Org = serde_json::from_str(&org_text).unwrap();
    let key = parse_key(
        "management/us-east-1/cloudtrail:GetTrailStatus/arn:aws:cloudtrail:us-east-1:111111111111:trail/org",
        &org,
    )
    .unwrap();
    assert_eq!(key.account_id, "111111111111");
    assert_eq!(
        key.qualifier.as_deref(),
        Some("arn:aws:cloudtrail:us-east-1:111111111111:trail/org")
    );
    assert_eq!(
        key.relative_path(),
        "111111111111/us-east-1/cloudtrail/GetTrailStatus.arn~3Aaws~3Acloudtrail~3Aus-east-1~3A111111111111~3Atrail~2Forg.json"
    );
    let err = parse_key("workload/global/iam:GetAccountSummary", &org).unwrap_err();
    assert!(err.contains("several accounts"), "{err}");
    assert!(parse_key("333333333333/global/s3:GetBucketPolicy", &org).is_err());
    assert!(parse_key("log-archive/us-east-1/s3:ListBuckets", &org).is_err());
}

#[test]
fn markers_write_the_envelopes_the_collector_would() {
    let key = EvidenceKey {
        account_id: "333333333333".into(),
        region: RegionDir::Global,
        service: "s3".into(),
        operation: "GetBucketPolicy".into(),
        qualifier: Some("logs".into()),
    };
    let nf = envelope_for(
        &key,
        &serde_json::json!({"$not_found": "NoSuchBucketPolicy"}),
    )
    .unwrap();
    assert_eq!(nf.status, AnswerStatus::NotFound);
    assert_eq!(nf.error.unwrap().class, ErrorClass::NotFound);
    let denied = envelope_for(&key, &serde_json::json!({"$error": "AccessDenied"})).unwrap();
    assert_eq!(denied.error.unwrap().class, ErrorClass::AccessDenied);
    let throttled =
        envelope_for(&key, &serde_json::json!({"$error": "ThrottlingException"})).unwrap();
    assert_eq!(throttled.error.unwrap().class, ErrorClass::Throttled);
    let partial =
        envelope_for(&key, &serde_json::json!({"$incomplete": {"Policy": "{}"}})).unwrap();
    assert!(!partial.pagination.complete);
    assert!(!partial.is_usable());
    assert!(envelope_for(&key, &serde_json::json!({"$error": "NoSuchBucketPolicy"})).is_err());
    assert!(envelope_for(&key, &serde_json::json!({"$oops": 1})).is_err());
}
