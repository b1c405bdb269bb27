//! Control definitions: parsed from TOML (`ControlFile`), then validated into a
//! `Control` that evaluation can trust. Validation collects *every* problem of a
//! file, each with its line and field, so an author fixes them in one pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;
use toml::Spanned;

use super::criteria::is_known_criterion;
use super::expr::Expr;
use crate::catalog::{find_operation, CallScope, OperationSpec};
use crate::org::Role;

/// Names every control can read without declaring them.
pub(crate) const BUILTIN_VARIABLES: &[&str] =
    &["account", "region", "home_region", "org", "run", "params"];

/// One problem in a control file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The field, as a dotted path (`assertions[2].expect`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.field,
            self.message
        )
    }
}

/// How severe a failure of the control is (used by `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Low,
    /// Should be fixed this quarter.
    Medium,
    /// A guardrail is missing.
    High,
    /// Evidence integrity or detection is at stake.
    Critical,
}

impl Severity {
    /// The name as written in files and flags (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Which accounts a control looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountSelector {
    /// Every active account.
    All,
    /// Active accounts with this role (the management account is always `management`).
    Role(Role),
}

/// Which regions a control looks at in each of its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionSelector {
    /// Once per account (global services).
    Global,
    /// The run's home region only.
    Home,
    /// Every region of the run.
    Each,
}

/// Whose evidence a binding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRef {
    /// The scope item's own account.
    Scope,
    /// The account with this role (exactly one must exist).
    Role(Role),
}

/// Which region folder a binding reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRef {
    /// The scope item's region.
    Scope,
    /// The home region.
    Home,
    /// The `global` folder.
    Global,
}

/// Which qualified documents a binding reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QualifierRef {
    /// The operation takes no qualifier.
    None,
    /// Every qualified document, bound as a map qualifier → data.
    All,
}

/// A name bound to evidence.
#[derive(Debug, Clone)]
pub struct EvidenceBinding {
    /// Variable name in expressions.
    pub name: String,
    /// The operation.
    pub operation: &'static OperationSpec,
    /// Whose evidence.
    pub account: AccountRef,
    /// Which region.
    pub region: RegionRef,
    /// Which qualified documents.
    pub qualifier: QualifierRef,
}

/// A name computed from other names before the assertions run.
#[derive(Debug, Clone)]
pub struct Define {
    /// Variable name.
    pub name: String,
    /// Its expression.
    pub expr: Expr,
}

/// What an assertion means when its `for_each` list is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenEmpty {
    /// Nothing to check is a failure (e.g. no log bucket at all).
    Fail,
    /// Nothing to check is fine (e.g. no IAM users with passwords).
    Pass,
    /// Nothing to check means the evidence is insufficient.
    NotAssessed,
}

/// One requirement of a control.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// Short id, unique in the control.
    pub id: String,
    /// The requirement in plain words.
    pub requirement: String,
    /// Optional list of resources to check one by one.
    pub for_each: Option<Expr>,
    /// Name each resource is bound to.
    pub item_var: String,
    /// How to name a resource in messages (default: the item itself).
    pub resource: Option<Expr>,
    /// Must be true for the requirement to hold.
    pub expect: Expr,
    /// Values quoted in failure messages, by label.
    pub quote: Vec<(String, Expr)>,
    /// Why a failure matters, appended to its message.
    pub message: Option<String>,
    /// Meaning of an empty `for_each`.
    pub when_empty: WhenEmpty,
}

impl Assertion {
    /// Every expression of the assertion, for reference checks.
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Expr> {
        self.for_each
            .iter()
            .chain(self.resource.iter())
            .chain(std::iter::once(&self.expect))
            .chain(self.quote.iter().map(|(_, e)| e))
    }
}

/// A validated control.
#[derive(Debug, Clone)]
pub struct Control {
    /// Stable id, e.g. `logarchive.immutable`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Trust Services Criteria it supports.
    pub tsc: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// What the control is for.
    pub objective: String,
    /// The auditor-facing test procedure.
    pub procedure: String,
    /// Accounts in scope.
    pub accounts: AccountSelector,
    /// Regions in scope.
    pub regions: RegionSelector,
    /// Parameter defaults.
    pub params: BTreeMap<String, Json>,
    /// Evidence bindings.
    pub evidence: Vec<EvidenceBinding>,
    /// Derived names, in order.
    pub defines: Vec<Define>,
    /// Requirements.
    pub assertions: Vec<Assertion>,
    /// The file it came from.
    pub file: PathBuf,
    /// The file's exact text (bundled so results can be re-derived).
    pub source_text: String,
}

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
    scope: Spanned<ScopeFile>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    evidence: BTreeMap<String, Spanned<EvidenceFile>>,
    #[serde(default)]
    define: Vec<DefineFile>,
    assertions: Spanned<Vec<AssertionFile>>,
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
    ] {
        if value.get_ref().trim().is_empty() {
            l.error(value.span(), field, "must not be empty");
        }
    }
    let accounts = parse_account_selector(l, &raw.scope.get_ref().accounts);
    let regions = *raw.scope.get_ref().regions.get_ref();
    let params = convert_params(l, &raw.params);

    let mut known: BTreeSet<String> = BUILTIN_VARIABLES.iter().map(|s| s.to_string()).collect();
    let evidence = bind_evidence(l, &raw.evidence, regions, &mut known);
    let defines = compile_defines(l, &raw.define, &mut known);
    let assertions = compile_assertions(l, raw.assertions, &known);

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
        accounts: accounts?,
        regions,
        params,
        evidence: evidence?,
        defines: defines?,
        assertions: assertions?,
        file: l.file.to_path_buf(),
        source_text: text.to_string(),
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

fn bind_evidence(
    l: &mut Linter<'_>,
    raw: &BTreeMap<String, Spanned<EvidenceFile>>,
    regions: RegionSelector,
    known: &mut BTreeSet<String>,
) -> Option<Vec<EvidenceBinding>> {
    let mut bindings = Vec::new();
    let mut ok = true;
    for (name, spec) in raw {
        let field = format!("evidence.{name}");
        if !check_new_name(l, name, spec.span(), &field, known) {
            ok = false;
            continue;
        }
        known.insert(name.clone());
        match bind_one(l, name, spec.get_ref(), regions, &field) {
            Some(binding) => bindings.push(binding),
            None => ok = false,
        }
    }
    ok.then_some(bindings)
}

fn bind_one(
    l: &mut Linter<'_>,
    name: &str,
    spec: &EvidenceFile,
    regions: RegionSelector,
    field: &str,
) -> Option<EvidenceBinding> {
    let Some(operation) = find_operation(spec.source.get_ref()) else {
        l.error(
            spec.source.span(),
            format!("{field}.source"),
            format!(
                "unknown evidence source '{}' (run `auditpack controls sources` for the list)",
                spec.source.get_ref()
            ),
        );
        return None;
    };
    let account = match spec.account.as_ref() {
        None => Some(AccountRef::Scope),
        Some(v) if v.get_ref() == "scope" => Some(AccountRef::Scope),
        Some(v) => match v.get_ref().parse::<Role>() {
            Ok(role) => Some(AccountRef::Role(role)),
            Err(message) => {
                l.error(
                    v.span(),
                    format!("{field}.account"),
                    format!("{message}, or 'scope'"),
                );
                None
            }
        },
    };
    let region = bind_region(l, spec, operation, regions, field);
    let qualifier = match (&spec.qualifier, operation.qualified_by) {
        (None, None) => Some(QualifierRef::None),
        (Some(q), Some(_)) if q.get_ref() == "*" => Some(QualifierRef::All),
        (Some(q), Some(what)) => {
            l.error(
                q.span(),
                format!("{field}.qualifier"),
                format!("only \"*\" (every {what}) is supported"),
            );
            None
        }
        (Some(q), None) => {
            l.error(
                q.span(),
                format!("{field}.qualifier"),
                format!(
                    "{} is called once; it takes no qualifier",
                    operation.source_name()
                ),
            );
            None
        }
        (None, Some(what)) => {
            l.error(
                spec.source.span(),
                format!("{field}.qualifier"),
                format!(
                    "{} is called once per {what}: add qualifier = \"*\"",
                    operation.source_name()
                ),
            );
            None
        }
    };
    Some(EvidenceBinding {
        name: name.to_string(),
        operation,
        account: account?,
        region: region?,
        qualifier: qualifier?,
    })
}

fn bind_region(
    l: &mut Linter<'_>,
    spec: &EvidenceFile,
    op: &OperationSpec,
    regions: RegionSelector,
    field: &str,
) -> Option<RegionRef> {
    let field = format!("{field}.region");
    match (op.scope, spec.region.as_ref().map(|r| r.get_ref().as_str())) {
        (CallScope::Global, None | Some("global")) => Some(RegionRef::Global),
        (CallScope::Global, Some(_)) => {
            let span = spec.region.as_ref().map(|r| r.span()).unwrap_or_default();
            l.error(
                span,
                field,
                format!(
                    "{} is a global call; its region is 'global'",
                    op.source_name()
                ),
            );
            None
        }
        (CallScope::Regional, Some("home")) => Some(RegionRef::Home),
        (CallScope::Regional, None | Some("scope")) if regions != RegionSelector::Global => {
            Some(RegionRef::Scope)
        }
        (CallScope::Regional, None | Some("scope")) => {
            l.error(
                spec.source.span(),
                field,
                format!(
                    "{} is regional but the control's scope has no region: set region = \"home\"",
                    op.source_name()
                ),
            );
            None
        }
        (CallScope::Regional, Some(other)) => {
            let span = spec.region.as_ref().map(|r| r.span()).unwrap_or_default();
            l.error(
                span,
                field,
                format!("'{other}' is not a region reference ('scope' or 'home')"),
            );
            None
        }
    }
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
    })
}
