//! CEL expressions as used in control files.
//!
//! Why CEL: it is not Turing-complete (every assertion terminates), it is a
//! standard with implementations in several languages, and one short expression
//! can be printed word for word in the report so the auditor sees exactly what
//! was tested. This module only wraps the `cel` crate: it compiles, lists the
//! free variables an expression reads (so a typo is a lint error and missing
//! evidence is known before evaluation), and converts between JSON and CEL values.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use cel::objects::Key;
use cel::{Context, ExecutionError, ParseErrors, Program, Value};
use serde_json::Value as Json;

use super::budget::{self, OverBudget};

/// Why an expression could not be compiled or evaluated. The text is what
/// users read in lint errors and NOT_ASSESSED messages (and what results.json
/// and the report record), so it is the `cel` crate's own wording, except for
/// an absent field, which says so in plain words.
#[derive(Debug, thiserror::Error)]
pub enum ExprError {
    /// Longer than any control needs; see [`Expr::compile`].
    #[error("the expression is {bytes} bytes long; the limit is {MAX_EXPRESSION_BYTES}")]
    TooLong {
        /// Its length.
        bytes: usize,
    },
    /// Nested deeper than any control needs; see [`Expr::compile`].
    #[error("the expression nests {depth} brackets deep; the limit is {MAX_EXPRESSION_DEPTH}")]
    TooDeep {
        /// Its deepest nesting.
        depth: usize,
    },
    /// The text is not a CEL expression; the message is the parser's.
    #[error(transparent)]
    Compile(#[from] ParseErrors),
    /// Evaluation stopped (an absent field, a type mismatch, a failing
    /// function): the expression gives no verdict.
    #[error("{}", describe_error(.0))]
    Eval(#[source] ExecutionError),
    /// Evaluation ran out of its cost budget (see `super::budget`).
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
}

/// A compiled expression with its source text and free variables.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The expression as written in the control file (shown in reports).
    pub source: String,
    /// The parsed expression with its cost charges (`budget::instrument`):
    /// what is evaluated.
    metered: Arc<IdedExpr>,
    free_variables: BTreeSet<String>,
}

/// The longest expression a control may hold (the longest shipped one is
/// about 2 KiB; the `cel` crate's error reporting fails past 64 KiB of line).
pub const MAX_EXPRESSION_BYTES: usize = 16 * 1024;

/// The deepest an expression's brackets may nest (the shipped controls nest
/// under 10): the parser, the checks and the evaluator recurse once a level,
/// so this bounds their stack (a CI fuzzing run of control files died with
/// SIGSEGV and no crash input, as a stack overflow does; not reproduced).
pub const MAX_EXPRESSION_DEPTH: usize = 64;

/// How deep `source`'s brackets (`(`, `[`, `{`) nest, counting those inside
/// string literals too (an over-count only refuses more).
fn bracket_depth(source: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl Expr {
    /// Compiles `source`; the error is the parser's message.
    ///
    /// An expression over [`MAX_EXPRESSION_BYTES`] is refused before it reaches
    /// the parser: the `cel` crate panics while reporting a syntax error past
    /// column 65,535, and a control file (or a crafted bundle re-evaluated by
    /// `verify --reevaluate`) must give an error of that control, never a crash.
    pub(crate) fn compile(source: &str) -> Result<Expr, ExprError> {
        if source.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError::TooLong {
                bytes: source.len(),
            });
        }
        let depth = bracket_depth(source);
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(ExprError::TooDeep { depth });
        }
        let program = Program::compile(source)?;
        let mut free_variables = BTreeSet::new();
        collect_free_variables(program.expression(), &mut Vec::new(), &mut free_variables);
        let mut metered = program.expression().clone();
        budget::instrument(&mut metered);
        Ok(Expr {
            source: source.to_string(),
            metered: Arc::new(metered),
            free_variables,
        })
    }

    /// Variables the expression reads that it does not bind itself.
    pub(crate) fn free_variables(&self) -> &BTreeSet<String> {
        &self.free_variables
    }

    /// Evaluates in `ctx` (a context made by [`register_functions`]) within
    /// the cost budget: a runaway expression is an error of its control.
    pub(crate) fn eval(&self, ctx: &Context) -> Result<Value, ExprError> {
        budget::metered(|| ctx.resolve(&self.metered))?.map_err(ExprError::Eval)
    }
}

/// The message of an evaluation error: `cel`'s "No such key: X" reads like
/// an internal failure, so an absent field is named as such.
fn describe_error(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(key) => format!("field or key '{key}' is absent"),
        other => other.to_string(),
    }
}

/// Walks the AST, skipping names bound by comprehensions (`list.all(x, …)`).
fn collect_free_variables(node: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    match &node.expr {
        Ast::Ident(name) => {
            if !name.starts_with('@') && !bound.iter().any(|b| b == name) {
                out.insert(name.clone());
            }
        }
        Ast::Call(call) => {
            if let Some(target) = &call.target {
                collect_free_variables(target, bound, out);
            }
            call.args
                .iter()
                .for_each(|a| collect_free_variables(a, bound, out));
        }
        Ast::Select(select) => collect_free_variables(&select.operand, bound, out),
        Ast::List(list) => list
            .elements
            .iter()
            .for_each(|e| collect_free_variables(e, bound, out)),
        Ast::Map(map) => map
            .entries
            .iter()
            .for_each(|e| collect_entry(&e.expr, bound, out)),
        Ast::Struct(st) => st
            .entries
            .iter()
            .for_each(|e| collect_entry(&e.expr, bound, out)),
        Ast::Comprehension(comp) => {
            collect_free_variables(&comp.iter_range, bound, out);
            collect_free_variables(&comp.accu_init, bound, out);
            let depth = bound.len();
            bound.push(comp.iter_var.clone());
            bound.extend(comp.iter_var2.clone());
            bound.push(comp.accu_var.clone());
            for part in [&comp.loop_cond, &comp.loop_step, &comp.result] {
                collect_free_variables(part, bound, out);
            }
            bound.truncate(depth);
        }
        Ast::Literal(_) | Ast::Unspecified => {}
    }
}

fn collect_entry(entry: &EntryExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    match entry {
        EntryExpr::StructField(field) => collect_free_variables(&field.value, bound, out),
        EntryExpr::MapEntry(entry) => {
            collect_free_variables(&entry.key, bound, out);
            collect_free_variables(&entry.value, bound, out);
        }
    }
}

/// Converts JSON to a CEL value. Integers become `int` (not `uint`), so that a
/// JSON `365` compares with a parameter `365` without a type error.
pub(crate) fn json_to_cel(json: &Json) -> Value {
    to_cel(json, Nulls::Keep)
}

/// Converts evidence `data` to CEL, leaving out object members whose value is
/// `null`: AWS omits a field it has no value for, and `has()` must mean what
/// a control author reading AWS's documentation expects. Older bundles were
/// written with `null` for absent fields; read this way they evaluate like
/// new ones (see docs/evidence-format.md).
pub(crate) fn evidence_to_cel(json: &Json) -> Value {
    to_cel(json, Nulls::Absent)
}

/// Whether a `null` object member is a value or an absent field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nulls {
    Keep,
    Absent,
}

fn to_cel(json: &Json, nulls: Nulls) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(
            items.iter().map(|item| to_cel(item, nulls)).collect(),
        )),
        Json::Object(map) => {
            let entries: HashMap<Key, Value> = map
                .iter()
                .filter(|(_, v)| nulls == Nulls::Keep || !v.is_null())
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v, nulls)))
                .collect();
            Value::Map(entries.into())
        }
    }
}

/// Renders a CEL value compactly for failure messages (JSON-like, strings quoted).
pub(crate) fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(display_value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(map) => {
            let mut parts: Vec<String> = map
                .map
                .iter()
                .map(|(k, v)| format!("{}: {}", display_key(k), display_value(v)))
                .collect();
            parts.sort();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn display_key(key: &Key) -> String {
    match key {
        Key::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// Converts a CEL value back to JSON (for extension functions that inspect documents).
pub(crate) fn cel_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::String(s) => Json::String(s.to_string()),
        Value::List(items) => Json::Array(items.iter().map(cel_to_json).collect()),
        Value::Map(map) => Json::Object(
            map.map
                .iter()
                .map(|(k, v)| (display_key(k), cel_to_json(v)))
                .collect(),
        ),
        other => Json::String(format!("{other:?}")),
    }
}

/// Registers auditpack's extension functions on a root context.
///
/// `parse_json(string)`: AWS returns some documents (bucket policies, SCPs) as
/// JSON text inside JSON; controls parse them to inspect statements.
///
/// `policies_deny` and `policy_deny_gaps`: IAM policy questions, see
/// `super::policy_functions`.
///
/// `peer_tally(rows)`: how many peers of its group agree with each account,
/// counted in one pass, see `super::peer_functions`.
///
/// `group_pairs(pairs)`: `[key, value]` pairs as a map from each key to its
/// values, built once, see `super::pair_functions`.
pub(crate) fn register_functions(ctx: &mut Context) {
    budget::register(ctx);
    super::policy_functions::register(ctx);
    super::peer_functions::register(ctx);
    super::pair_functions::register(ctx);
    ctx.add_function(
        "parse_json",
        |text: Arc<String>| -> Result<Value, ExecutionError> {
            serde_json::from_str::<Json>(&text)
                .map(|json| json_to_cel(&json))
                .map_err(|e| ExecutionError::function_error("parse_json", e))
        },
    )
    .expect("parse_json does not clash with the standard library");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Compiles and evaluates `source`; the error as text, for assertions.
    fn eval(source: &str, vars: &[(&str, Json)]) -> Result<Value, String> {
        let mut ctx = Context::default();
        register_functions(&mut ctx);
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, json_to_cel(value));
        }
        let expr = Expr::compile(source).map_err(|e| e.to_string())?;
        expr.eval(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn free_variables_skip_comprehension_names() {
        let e = Expr::compile("buckets.all(b, locks[b].Mode == params.mode) && size(trails) > 0")
            .unwrap();
        let vars: Vec<&str> = e.free_variables().iter().map(String::as_str).collect();
        assert_eq!(vars, ["buckets", "locks", "params", "trails"]);
    }

    #[test]
    fn json_integers_compare_with_literals() {
        let days = json!({"Days": 365});
        assert_eq!(
            eval("x.Days >= 365", &[("x", days.clone())]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("x.Days >= 400", &[("x", days)]),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn absent_fields_are_errors_not_false() {
        let err = eval("x.Missing == 'a'", &[("x", json!({}))]).unwrap_err();
        assert!(err.contains("Missing"), "{err}");
        assert_eq!(
            eval("has(x.Missing) && x.Missing == 'a'", &[("x", json!({}))]),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn parse_json_reads_policy_documents() {
        let policy = json!({"Policy": "{\"Statement\":[{\"Effect\":\"Deny\"}]}"});
        let v = eval("parse_json(p.Policy).Statement[0].Effect", &[("p", policy)]).unwrap();
        assert_eq!(v, Value::String(Arc::new("Deny".into())));
        assert!(eval("parse_json('{nope')", &[]).is_err());
    }

    #[test]
    fn policies_deny_needs_an_unconditional_deny_on_every_resource() {
        let docs = json!([
            {"Statement": {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}},
            {"Statement": [
                {"Effect": "Deny", "Action": ["cloudtrail:Stop*", "cloudtrail:DeleteTrail"], "Resource": ["*"]},
                {"Effect": "Deny", "Action": "guardduty:*", "Resource": "*", "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}},
                {"Effect": "Deny", "Action": "config:*", "Resource": "arn:aws:config:*:*:config-rule/*"},
                {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
            ]}
        ]);
        let denies = |docs: &Json, action: &str| {
            eval(
                &format!("policies_deny(d, '{action}')"),
                &[("d", docs.clone())],
            ) == Ok(Value::Bool(true))
        };
        assert!(denies(&docs, "organizations:LeaveOrganization"));
        assert!(denies(&docs, "cloudtrail:StopLogging"), "wildcards match");
        assert!(denies(&docs, "CloudTrail:DeleteTrail"), "case-insensitive");
        assert!(
            !denies(&docs, "guardduty:DeleteDetector"),
            "a conditional deny does not count"
        );
        assert!(
            !denies(&docs, "config:StopConfigurationRecorder"),
            "a deny on some resources does not count"
        );
        assert!(!denies(&docs, "iam:CreateUser"), "an allow is not a deny");
        let not_action = json!({"Statement": {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}});
        assert!(
            denies(&not_action, "cloudtrail:StopLogging"),
            "NotAction covers the rest"
        );
        assert!(
            !denies(&not_action, "iam:CreateUser"),
            "but not what it lists"
        );
    }

    #[test]
    fn absent_evidence_fields_are_absent_not_null() {
        let data = json!({"Rules": [{"ID": "glacier", "Expiration": null, "Transitions": [{"Days": 30}]}]});
        let mut ctx = Context::default();
        register_functions(&mut ctx);
        ctx.add_variable_from_value("lc", evidence_to_cel(&data));
        let has = Expr::compile("has(lc.Rules[0].Expiration)").unwrap();
        assert_eq!(has.eval(&ctx).unwrap(), Value::Bool(false));
        let kept = Expr::compile("size(lc.Rules[0].Transitions)").unwrap();
        assert_eq!(kept.eval(&ctx).unwrap(), Value::Int(1));
        // Elsewhere (org.json, params) a null stays a value.
        assert_eq!(
            json_to_cel(&json!({"a": null})),
            json_to_cel(&json!({"a": null}))
        );
        assert_ne!(
            json_to_cel(&json!({"a": null})),
            evidence_to_cel(&json!({"a": null}))
        );
    }

    #[test]
    fn an_over_long_expression_is_an_error_not_a_panic() {
        // A syntax error past column 65,535 used to panic inside the parser.
        let long = format!("{} &&", "a".repeat(70_000));
        assert!(matches!(
            Expr::compile(&long),
            Err(ExprError::TooLong { bytes: 70_003 })
        ));
        let fits = format!("{} == 1", "a".repeat(100));
        assert!(Expr::compile(&fits).is_ok());
    }

    /// Brackets nested past the limit are refused before the parser sees
    /// them (a crafted control must not overflow the stack); nesting up to
    /// the limit compiles.
    #[test]
    fn an_over_deep_expression_is_an_error_not_a_crash() {
        let nested = |open: &str, close: &str, n: usize| {
            format!("{}1{} == 1", open.repeat(n), close.repeat(n))
        };
        let deep = nested("(", ")", 5_000);
        assert!(matches!(
            Expr::compile(&deep),
            Err(ExprError::TooDeep { depth: 5_000 })
        ));
        assert!(matches!(
            Expr::compile(&nested("[", "]", MAX_EXPRESSION_DEPTH + 1)),
            Err(ExprError::TooDeep { .. })
        ));
        assert!(Expr::compile(&nested("(", ")", MAX_EXPRESSION_DEPTH)).is_ok());
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(Expr::compile("a =="), Err(ExprError::Compile(_))));
    }

    #[test]
    fn an_absent_field_is_named_in_plain_words() {
        let err = eval("x.Missing", &[("x", json!({}))]).unwrap_err();
        assert_eq!(err, "field or key 'Missing' is absent");
    }
}
