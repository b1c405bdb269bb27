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
use cel::{Context, ExecutionError, Program, Value};
use serde_json::Value as Json;

/// A compiled expression with its source text and free variables.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The expression as written in the control file (shown in reports).
    pub source: String,
    program: Arc<Program>,
    free_variables: BTreeSet<String>,
}

impl Expr {
    /// Compiles `source`; the error is the parser's message.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let program = Program::compile(source).map_err(|e| e.to_string())?;
        let mut free_variables = BTreeSet::new();
        collect_free_variables(program.expression(), &mut Vec::new(), &mut free_variables);
        Ok(Expr {
            source: source.to_string(),
            program: Arc::new(program),
            free_variables,
        })
    }

    /// Variables the expression reads that it does not bind itself.
    pub fn free_variables(&self) -> &BTreeSet<String> {
        &self.free_variables
    }

    /// Evaluates in `ctx`.
    pub fn eval(&self, ctx: &Context) -> Result<Value, String> {
        self.program.execute(ctx).map_err(|e| describe_error(&e))
    }
}

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
pub fn json_to_cel(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(json_to_cel).collect())),
        Json::Object(map) => {
            let entries: HashMap<Key, Value> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), json_to_cel(v)))
                .collect();
            Value::Map(entries.into())
        }
    }
}

/// Renders a CEL value compactly for failure messages (JSON-like, strings quoted).
pub fn display_value(value: &Value) -> String {
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
pub fn cel_to_json(value: &Value) -> Json {
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

/// True when one of the policy documents denies `action` unconditionally on every
/// resource: a statement with `Effect: Deny`, no `Condition` (a conditional deny
/// can be escaped by not meeting the condition), `Resource` `*`, and an `Action`
/// (string or list, `*` and `?` wildcards) that matches. `NotAction` statements
/// are not counted. Such a deny cannot be overridden by any allow.
pub fn policies_deny(documents: &Json, action: &str) -> bool {
    let docs: Vec<&Json> = match documents {
        Json::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    docs.iter()
        .flat_map(|doc| as_list(&doc["Statement"]))
        .any(|statement| {
            statement["Effect"] == "Deny"
                && statement.get("Condition").is_none_or(Json::is_null)
                && as_list(&statement["Resource"]).iter().any(|r| *r == "*")
                && as_list(&statement["Action"])
                    .iter()
                    .filter_map(|a| a.as_str())
                    .any(|pattern| wildcard_match(pattern, action))
        })
}

fn as_list(value: &Json) -> Vec<&Json> {
    match value {
        Json::Array(items) => items.iter().collect(),
        Json::Null => Vec::new(),
        single => vec![single],
    }
}

/// IAM action matching: case-insensitive, `*` any run, `?` one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    fn matches(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], t) || (!t.is_empty() && matches(p, &t[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => matches(&p[1..], &t[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), text.as_bytes())
}

/// Registers auditpack's extension functions on a root context.
///
/// `parse_json(string)`: AWS returns some documents (bucket policies, SCPs) as
/// JSON text inside JSON; controls parse them to inspect statements.
///
/// `policies_deny(documents, action)`: see [`policies_deny`]; IAM's string-or-list
/// fields make this unreadable in plain CEL.
pub fn register_functions(ctx: &mut Context) {
    ctx.add_function(
        "policies_deny",
        |documents: Value, action: Arc<String>| -> bool {
            policies_deny(&cel_to_json(&documents), &action)
        },
    )
    .expect("policies_deny does not clash with the standard library");
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

    fn eval(source: &str, vars: &[(&str, Json)]) -> Result<Value, String> {
        let mut ctx = Context::default();
        register_functions(&mut ctx);
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, json_to_cel(value));
        }
        Expr::compile(source)?.eval(&ctx)
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
        assert!(policies_deny(&docs, "organizations:LeaveOrganization"));
        assert!(
            policies_deny(&docs, "cloudtrail:StopLogging"),
            "wildcards match"
        );
        assert!(
            policies_deny(&docs, "CloudTrail:DeleteTrail"),
            "case-insensitive"
        );
        assert!(
            !policies_deny(&docs, "guardduty:DeleteDetector"),
            "a conditional deny does not count"
        );
        assert!(
            !policies_deny(&docs, "config:StopConfigurationRecorder"),
            "a deny on some resources does not count"
        );
        assert!(
            !policies_deny(&docs, "iam:CreateUser"),
            "an allow is not a deny"
        );
        assert_eq!(
            eval("policies_deny(d, 'cloudtrail:StopLogging')", &[("d", docs)]),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(Expr::compile("a ==").is_err());
    }
}
