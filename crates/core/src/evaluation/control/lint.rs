//! The control file format (serde, with spans) and its validation into a
//! [`Control`]: every problem of a file is collected, each with its line and
//! field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;
use toml::Spanned;

use super::*;
use crate::evaluation::criteria::is_known_criterion;

mod bindings;

use bindings::bind_evidence;

// ---- the file format (serde) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlFile {
    id: Spanned<String>,
    title: Spanned<String>,
    tsc: Spanned<Vec<Spanned<String>>>,
    severity: Spanned<Severity>,
    objective: Spanned<String>,
    procedure: Spanned<String>,
    /// What to change when the control fails, and where it usually lives.
    remediation: Spanned<String>,
    /// `manual` for a control judged from attachments (`[attachment]`);
    /// absent (or `automated`) for one judged from API evidence.
    kind: Option<Spanned<String>>,
    /// A manual control's rule.
    attachment: Option<Spanned<AttachmentRuleFile>>,
    scope: Option<Spanned<ScopeFile>>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    evidence: BTreeMap<String, Spanned<EvidenceFile>>,
    #[serde(default)]
    define: Vec<DefineFile>,
    assertions: Option<Spanned<Vec<AssertionFile>>>,
    /// The report shows a requirements × items matrix for the control.
    #[serde(default)]
    matrix: bool,
    /// CloudTrail event-history lookups, `AttributeKey=value`.
    #[serde(default)]
    lookups: Vec<Spanned<String>>,
    /// The changes that could break the control, `eventSource:eventName`.
    #[serde(default)]
    changes: Vec<Spanned<String>>,
    /// Change → the event that undoes it (`StopLogging = "StartLogging"`).
    #[serde(default)]
    restored_by: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentRuleFile {
    requires: Spanned<String>,
    max_age_days: Option<Spanned<u32>>,
    #[serde(default)]
    within_period: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    accounts: Spanned<String>,
    regions: Spanned<RegionSelector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceFile {
    source: Spanned<String>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    qualifier: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefineFile {
    name: Spanned<String>,
    expr: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssertionFile {
    id: Spanned<String>,
    requirement: Spanned<String>,
    for_each: Option<Spanned<String>>,
    #[serde(rename = "as")]
    item_var: Option<Spanned<String>>,
    resource: Option<Spanned<String>>,
    expect: Spanned<String>,
    #[serde(default)]
    quote: BTreeMap<String, Spanned<String>>,
    message: Option<Spanned<String>>,
    when_empty: Option<Spanned<WhenEmpty>>,
    when_false: Option<Spanned<WhenFalse>>,
}

/// Collects problems with their lines while a file is validated.
struct Linter<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<LintError>,
}

impl Linter<'_> {
    fn line_of(&self, span: std::ops::Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text[..end].bytes().filter(|b| *b == b'\n').count() + 1
    }

    fn error(
        &mut self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let line = self.line_of(span);
        self.errors.push(LintError {
            file: self.file.to_path_buf(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn compile(&mut self, source: &Spanned<String>, field: &str) -> Option<Expr> {
        match Expr::compile(source.get_ref()) {
            Ok(expr) => Some(expr),
            Err(message) => {
                self.error(
                    source.span(),
                    field,
                    format!("invalid CEL expression: {message}"),
                );
                None
            }
        }
    }

    /// Reports names an expression reads that are not in scope (typos, undeclared evidence).
    fn check_names(
        &mut self,
        expr: &Expr,
        known: &BTreeSet<String>,
        span: std::ops::Range<usize>,
        field: &str,
    ) {
        for name in expr.free_variables() {
            if !known.contains(name) {
                let hint = format!(
                    "declare it under [evidence] or [[define]], or use one of: {}",
                    sorted(known)
                );
                self.error(
                    span.clone(),
                    field,
                    format!("unknown name '{name}' ({hint})"),
                );
            }
        }
    }
}

fn sorted(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Parses and validates one control file. On error, returns every problem found.
pub fn parse_control(file: &Path, text: &str) -> Result<Control, Vec<LintError>> {
    let mut linter = Linter {
        file,
        text,
        errors: Vec::new(),
    };
    let raw: ControlFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            linter.error(span, "file", e.message().to_string());
            return Err(linter.errors);
        }
    };
    let control = validate(&mut linter, raw, text);
    if linter.errors.is_empty() {
        Ok(control.expect("a control without lint errors is complete"))
    } else {
        Err(linter.errors)
    }
}

fn validate(l: &mut Linter<'_>, raw: ControlFile, text: &str) -> Option<Control> {
    check_id(l, &raw.id);
    for tsc in raw.tsc.get_ref() {
        if !is_known_criterion(tsc.get_ref()) {
            l.error(
                tsc.span(),
                "tsc",
                format!(
                    "'{}' is not a Trust Services criterion (e.g. CC7.2, A1.2)",
                    tsc.get_ref()
                ),
            );
        }
    }
    if raw.tsc.get_ref().is_empty() {
        l.error(
            raw.tsc.span(),
            "tsc",
            "a control must cite at least one criterion",
        );
    }
    for (field, value) in [
        ("title", &raw.title),
        ("objective", &raw.objective),
        ("procedure", &raw.procedure),
        ("remediation", &raw.remediation),
    ] {
        if value.get_ref().trim().is_empty() {
            l.error(value.span(), field, "must not be empty");
        }
    }
    let manual = match raw.kind.as_ref().map(|k| k.get_ref().as_str()) {
        None | Some("automated") => false,
        Some("manual") => true,
        Some(other) => {
            let span = raw.kind.as_ref().map(|k| k.span()).unwrap_or(0..0);
            l.error(
                span,
                "kind",
                format!("'{other}' is not a kind of control (automated, manual)"),
            );
            false
        }
    };
    if manual {
        return validate_manual(l, raw, text);
    }
    if let Some(rule) = &raw.attachment {
        l.error(
            rule.span(),
            "attachment",
            "only a manual control (kind = \"manual\") has an [attachment] rule",
        );
    }
    let (Some(scope), Some(_)) = (&raw.scope, &raw.assertions) else {
        let missing = if raw.scope.is_none() {
            "scope"
        } else {
            "assertions"
        };
        l.error(0..0, "file", format!("missing field `{missing}` (a control judged from API evidence needs [scope] and [[assertions]])"));
        return None;
    };
    let accounts = parse_account_selector(l, &scope.get_ref().accounts);
    let regions = *scope.get_ref().regions.get_ref();
    let params = convert_params(l, &raw.params);

    let mut known: BTreeSet<String> = BUILTIN_VARIABLES.iter().map(|s| s.to_string()).collect();
    let evidence = bind_evidence(l, &raw.evidence, regions, &mut known);
    let defines = compile_defines(l, &raw.define, &mut known);
    let matrix = raw.matrix;
    let lookups = check_lookups(l, &raw.lookups, &raw.evidence);
    let changes = check_changes(l, &raw.changes);
    let restored_by = check_restored_by(l, &raw.restored_by, &changes);
    let assertions = compile_assertions(l, raw.assertions.expect("checked above"), &known);

    Some(Control {
        id: raw.id.into_inner(),
        title: raw.title.into_inner(),
        tsc: raw
            .tsc
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        severity: raw.severity.into_inner(),
        objective: raw.objective.into_inner(),
        procedure: raw.procedure.into_inner(),
        remediation: raw.remediation.into_inner(),
        accounts: accounts?,
        regions,
        params,
        evidence: evidence?,
        defines: defines?,
        assertions: assertions?,
        matrix,
        lookups,
        changes,
        restored_by,
        file: l.file.to_path_buf(),
        source_text: text.to_string(),
        origin: ControlOrigin::Custom,
        manual: None,
    })
}

/// A manual control: its `[attachment]` rule and nothing a control judged
/// from API evidence has (scope, evidence, defines, assertions, lookups,
/// changes, parameters). Its one scope item is the organization, held by
/// the management account.
fn validate_manual(l: &mut Linter<'_>, raw: ControlFile, text: &str) -> Option<Control> {
    let Some(rule) = &raw.attachment else {
        l.error(0..0, "attachment", "a manual control needs an [attachment] rule (requires, max_age_days and/or within_period)");
        return None;
    };
    let rule = rule.get_ref();
    if rule.requires.get_ref().trim().is_empty() {
        l.error(
            rule.requires.span(),
            "attachment.requires",
            "must not be empty",
        );
    }
    if rule.max_age_days.is_none() && !rule.within_period {
        l.error(
            rule.requires.span(),
            "attachment",
            "say how recent the attachment must be: max_age_days, within_period = true, or both",
        );
    }
    let forbidden: [(&str, bool); 8] = [
        ("scope", raw.scope.is_some()),
        ("evidence", !raw.evidence.is_empty()),
        ("define", !raw.define.is_empty()),
        ("assertions", raw.assertions.is_some()),
        ("lookups", !raw.lookups.is_empty()),
        ("changes", !raw.changes.is_empty()),
        ("params", !raw.params.is_empty()),
        ("matrix", raw.matrix),
    ];
    for (field, present) in forbidden {
        if present {
            l.error(
                0..0,
                field,
                "a manual control is judged from attachments only: remove it",
            );
        }
    }
    if !l.errors.is_empty() {
        return None;
    }
    Some(Control {
        id: raw.id.into_inner(),
        title: raw.title.into_inner(),
        tsc: (raw.tsc.into_inner().into_iter())
            .map(Spanned::into_inner)
            .collect(),
        severity: raw.severity.into_inner(),
        objective: raw.objective.into_inner(),
        procedure: raw.procedure.into_inner(),
        remediation: raw.remediation.into_inner(),
        accounts: AccountSelector::Role(Role::Management),
        regions: RegionSelector::Global,
        params: BTreeMap::new(),
        evidence: Vec::new(),
        defines: Vec::new(),
        assertions: Vec::new(),
        matrix: false,
        lookups: Vec::new(),
        changes: Vec::new(),
        restored_by: BTreeMap::new(),
        file: l.file.to_path_buf(),
        source_text: text.to_string(),
        origin: ControlOrigin::Custom,
        manual: Some(ManualRule {
            requires: rule
                .requires
                .get_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            max_age_days: rule.max_age_days.as_ref().map(|d| *d.get_ref()),
            within_period: rule.within_period,
        }),
    })
}

fn check_id(l: &mut Linter<'_>, id: &Spanned<String>) {
    let valid = id.get_ref().split('.').count() >= 2
        && id.get_ref().split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    if !valid {
        l.error(
            id.span(),
            "id",
            format!(
                "'{}' must look like 'service.check-name' (lowercase, dotted)",
                id.get_ref()
            ),
        );
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_new_name(
    l: &mut Linter<'_>,
    name: &str,
    span: std::ops::Range<usize>,
    field: &str,
    known: &BTreeSet<String>,
) -> bool {
    if !is_identifier(name) {
        l.error(
            span,
            field,
            format!("'{name}' is not a valid name (lowercase letters, digits, _)"),
        );
        false
    } else if known.contains(name) {
        l.error(span, field, format!("'{name}' is already defined"));
        false
    } else {
        true
    }
}

/// The attributes CloudTrail's `LookupEvents` can look events up by.
const LOOKUP_ATTRIBUTE_KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

/// `lookups`: each `AttributeKey=value` with a key CloudTrail knows, no
/// duplicates; declared exactly when the control reads `cloudtrail:LookupEvents`
/// (a lookup nobody reads, or a binding with nothing to look up, is a mistake).
fn check_lookups(
    l: &mut Linter<'_>,
    lookups: &[Spanned<String>],
    evidence: &BTreeMap<String, Spanned<EvidenceFile>>,
) -> Vec<String> {
    let mut seen = BTreeSet::new();
    for (i, lookup) in lookups.iter().enumerate() {
        let field = format!("lookups[{i}]");
        let text = lookup.get_ref();
        match text.split_once('=') {
            Some((key, value)) if LOOKUP_ATTRIBUTE_KEYS.contains(&key) && !value.trim().is_empty() => {
                if !seen.insert(text.clone()) {
                    l.error(lookup.span(), field, format!("'{text}' is listed twice"));
                }
            }
            _ => l.error(
                lookup.span(),
                field,
                format!(
                    "'{text}' is not AttributeKey=value with a key of CloudTrail's LookupEvents ({})",
                    LOOKUP_ATTRIBUTE_KEYS.join(", ")
                ),
            ),
        }
    }
    let binding = evidence
        .iter()
        .find(|(_, e)| e.get_ref().source.get_ref() == "cloudtrail:LookupEvents");
    match (binding, lookups.is_empty()) {
        (Some((name, e)), true) => l.error(
            e.span(),
            format!("evidence.{name}"),
            "reads cloudtrail:LookupEvents but the control declares no lookups = [\"AttributeKey=value\", …]",
        ),
        (None, false) => l.error(
            lookups[0].span(),
            "lookups",
            "declared, but no evidence binding reads cloudtrail:LookupEvents",
        ),
        _ => {}
    }
    lookups.iter().map(|s| s.get_ref().clone()).collect()
}

/// `changes`: each `<service>.amazonaws.com:<EventName>` (a CloudTrail
/// `eventSource` and a PascalCase `eventName`), no duplicates.
fn check_changes(l: &mut Linter<'_>, changes: &[Spanned<String>]) -> Vec<ChangeEvent> {
    let mut out: Vec<ChangeEvent> = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let text = change.get_ref();
        let parsed = text.split_once(':').and_then(|(source, name)| {
            let service = source.strip_suffix(".amazonaws.com")?;
            let service_ok = !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            let name_ok = name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.bytes().all(|b| b.is_ascii_alphanumeric());
            (service_ok && name_ok).then(|| ChangeEvent {
                source: source.to_string(),
                name: name.to_string(),
            })
        });
        match parsed {
            Some(event) if out.contains(&event) => {
                l.error(change.span(), format!("changes[{i}]"), format!("'{text}' is listed twice"))
            }
            Some(event) => out.push(event),
            None => l.error(
                change.span(),
                format!("changes[{i}]"),
                format!("'{text}' is not eventSource:eventName (e.g. cloudtrail.amazonaws.com:StopLogging)"),
            ),
        }
    }
    out
}

/// `restored_by`: keys are declared changes, values event names of the same form.
fn check_restored_by(
    l: &mut Linter<'_>,
    restored_by: &BTreeMap<String, Spanned<String>>,
    changes: &[ChangeEvent],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (change, restore) in restored_by {
        let field = format!("restored_by.{change}");
        if !changes.iter().any(|c| &c.name == change) {
            l.error(
                restore.span(),
                field,
                format!("'{change}' is not one of the control's changes"),
            );
        } else if !(restore
            .get_ref()
            .starts_with(|c: char| c.is_ascii_uppercase())
            && restore.get_ref().bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            l.error(
                restore.span(),
                field,
                format!("'{}' is not an eventName", restore.get_ref()),
            );
        } else {
            out.insert(change.clone(), restore.get_ref().clone());
        }
    }
    out
}

fn parse_account_selector(l: &mut Linter<'_>, value: &Spanned<String>) -> Option<AccountSelector> {
    if value.get_ref() == "all" {
        return Some(AccountSelector::All);
    }
    match value.get_ref().parse::<Role>() {
        Ok(role) => Some(AccountSelector::Role(role)),
        Err(message) => {
            l.error(
                value.span(),
                "scope.accounts",
                format!("{message}, or 'all'"),
            );
            None
        }
    }
}

fn convert_params(
    l: &mut Linter<'_>,
    raw: &BTreeMap<String, Spanned<toml::Value>>,
) -> BTreeMap<String, Json> {
    let mut params = BTreeMap::new();
    for (name, value) in raw {
        match toml_to_json(value.get_ref()) {
            Some(json) => {
                params.insert(name.clone(), json);
            }
            None => l.error(
                value.span(),
                format!("params.{name}"),
                "parameters must be strings, numbers, booleans or lists of them",
            ),
        }
    }
    params
}

/// Converts a TOML parameter value to JSON; tables and dates are not parameters.
pub fn toml_to_json(value: &toml::Value) -> Option<Json> {
    Some(match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Json::Number)?,
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Array(items) => {
            Json::Array(items.iter().map(toml_to_json).collect::<Option<_>>()?)
        }
        toml::Value::Table(_) | toml::Value::Datetime(_) => return None,
    })
}

fn compile_defines(
    l: &mut Linter<'_>,
    raw: &[DefineFile],
    known: &mut BTreeSet<String>,
) -> Option<Vec<Define>> {
    let mut defines = Vec::new();
    let mut ok = true;
    for (i, d) in raw.iter().enumerate() {
        let field = format!("define[{i}]");
        if !check_new_name(
            l,
            d.name.get_ref(),
            d.name.span(),
            &format!("{field}.name"),
            known,
        ) {
            ok = false;
            continue;
        }
        match l.compile(&d.expr, &format!("{field}.expr")) {
            Some(expr) => {
                l.check_names(&expr, known, d.expr.span(), &format!("{field}.expr"));
                defines.push(Define {
                    name: d.name.get_ref().clone(),
                    expr,
                });
            }
            None => ok = false,
        }
        known.insert(d.name.get_ref().clone());
    }
    ok.then_some(defines)
}

fn compile_assertions(
    l: &mut Linter<'_>,
    raw: Spanned<Vec<AssertionFile>>,
    known: &BTreeSet<String>,
) -> Option<Vec<Assertion>> {
    if raw.get_ref().is_empty() {
        l.error(
            raw.span(),
            "assertions",
            "a control needs at least one assertion",
        );
        return None;
    }
    let mut ids = BTreeSet::new();
    let mut assertions = Vec::new();
    let mut ok = true;
    for (i, a) in raw.into_inner().into_iter().enumerate() {
        let field = format!("assertions[{i}]");
        if !ids.insert(a.id.get_ref().clone()) {
            l.error(
                a.id.span(),
                format!("{field}.id"),
                format!("duplicate assertion id '{}'", a.id.get_ref()),
            );
        }
        match compile_assertion(l, a, known, &field) {
            Some(assertion) => assertions.push(assertion),
            None => ok = false,
        }
    }
    ok.then_some(assertions)
}

fn compile_assertion(
    l: &mut Linter<'_>,
    a: AssertionFile,
    known: &BTreeSet<String>,
    field: &str,
) -> Option<Assertion> {
    let item_var = a
        .item_var
        .as_ref()
        .map(|v| v.get_ref().clone())
        .unwrap_or_else(|| "item".to_string());
    let mut inner = known.clone();
    if let Some(var) = &a.item_var {
        if a.for_each.is_none() {
            l.error(
                var.span(),
                format!("{field}.as"),
                "'as' names the item of for_each; there is no for_each",
            );
        }
        check_new_name(l, var.get_ref(), var.span(), &format!("{field}.as"), known);
    }
    let for_each = a.for_each.as_ref().map(|src| {
        let e = l.compile(src, &format!("{field}.for_each"));
        if let Some(e) = &e {
            l.check_names(e, known, src.span(), &format!("{field}.for_each"));
        }
        e
    });
    if a.for_each.is_some() {
        inner.insert(item_var.clone());
    }
    let compile_inner = |l: &mut Linter<'_>, src: &Spanned<String>, name: &str| {
        let e = l.compile(src, &format!("{field}.{name}"));
        if let Some(e) = &e {
            l.check_names(e, &inner, src.span(), &format!("{field}.{name}"));
        }
        e
    };
    let expect = compile_inner(l, &a.expect, "expect");
    let resource = a
        .resource
        .as_ref()
        .map(|src| compile_inner(l, src, "resource"));
    let mut quote = Vec::new();
    for (label, src) in &a.quote {
        quote.push((
            label.clone(),
            compile_inner(l, src, &format!("quote.{label}")),
        ));
    }
    if a.requirement.get_ref().trim().is_empty() {
        l.error(
            a.requirement.span(),
            format!("{field}.requirement"),
            "must not be empty",
        );
    }
    let quote: Option<Vec<(String, Expr)>> =
        quote.into_iter().map(|(k, e)| e.map(|e| (k, e))).collect();
    Some(Assertion {
        id: a.id.into_inner(),
        requirement: a.requirement.into_inner(),
        for_each: for_each.map(|e| e.ok_or(())).transpose().ok()?,
        item_var,
        resource: resource.map(|e| e.ok_or(())).transpose().ok()?,
        expect: expect?,
        quote: quote?,
        message: a.message.map(Spanned::into_inner),
        when_empty: a
            .when_empty
            .map(Spanned::into_inner)
            .unwrap_or(WhenEmpty::Fail),
        when_false: a
            .when_false
            .map(Spanned::into_inner)
            .unwrap_or(WhenFalse::Fail),
    })
}
