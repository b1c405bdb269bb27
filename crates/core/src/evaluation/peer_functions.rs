//! `peer_tally(rows)`: how many peers agree with each account, counted once.
//!
//! A control that compares every account with the other accounts of its role
//! (`baseline.consistency`) would, written with CEL's comprehensions, filter
//! the role's accounts for each account: quadratic in the size of a role, which
//! at 1,000 accounts was most of `report`'s time and at 10,000 would exceed the
//! control's cost budget. This function counts every (group, value) pair in
//! one pass, so a define that calls it once for the control (it reads only
//! run-wide values and `account = "all"` maps, see the engine) makes each
//! account's answer a map lookup.
//!
//! `rows` is a list of `[id, group, value]`: `id` a string (an account id),
//! `group` and `value` any JSON-shaped values (null, bool, number, string,
//! list, map). The answer maps each id to `{"agreeing": n, "differing": m}`:
//! among the *other* rows of the same group (compared with CEL's `==`), `n`
//! have a value equal to this row's value and `m` a different one. Values are
//! compared as CEL's `==` compares them: maps by their entries whatever the
//! order, lists element by element, numbers by value (`1 == 1.0`).
//!
//! A row that is not a three-element list, an id that is not a string or
//! appears twice, or a value that is not JSON-shaped (a timestamp, a
//! function) is an evaluation error: the requirements reading the answer are
//! NOT ASSESSED with the reason, never a pass.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Value};

/// The function's name in control files.
const NAME: &str = "peer_tally";

/// Registers [`NAME`] on a root context.
pub(crate) fn register(ctx: &mut Context) {
    ctx.add_function(NAME, |rows: Value| -> Result<Value, ExecutionError> {
        peer_tally(&rows).map_err(|e| ExecutionError::function_error(NAME, e))
    })
    .expect("peer_tally does not clash with the standard library");
}

/// The tally over `rows` (see the module's documentation); the error says
/// which row is wrong.
fn peer_tally(rows: &Value) -> Result<Value, String> {
    let Value::List(rows) = rows else {
        return Err(format!(
            "expects a list of [id, group, value], got {}",
            kind(rows)
        ));
    };
    // Each row as (id, key of its group, key of its value); the keys are
    // canonical texts, equal exactly when CEL's `==` says the values are.
    let mut keyed: Vec<(Arc<String>, String, String)> = Vec::with_capacity(rows.len());
    for (at, row) in rows.iter().enumerate() {
        let parts = match row {
            Value::List(parts) if parts.len() == 3 => parts,
            Value::List(parts) => {
                return Err(format!(
                    "row {at} has {} elements, not three [id, group, value]",
                    parts.len()
                ))
            }
            other => {
                return Err(format!(
                    "row {at} is {}, not a list [id, group, value]",
                    kind(other)
                ))
            }
        };
        let Value::String(id) = &parts[0] else {
            return Err(format!(
                "row {at}: the id is {}, not a string",
                kind(&parts[0])
            ));
        };
        let group = canonical(&parts[1]).map_err(|e| format!("row {at} ({id}): the group {e}"))?;
        let value = canonical(&parts[2]).map_err(|e| format!("row {at} ({id}): the value {e}"))?;
        keyed.push((id.clone(), group, value));
    }
    let mut in_group: HashMap<&str, i64> = HashMap::new();
    let mut with_value: HashMap<(&str, &str), i64> = HashMap::new();
    for (_, group, value) in &keyed {
        *in_group.entry(group).or_default() += 1;
        *with_value.entry((group, value)).or_default() += 1;
    }
    let mut answer: HashMap<Key, Value> = HashMap::with_capacity(keyed.len());
    for (id, group, value) in &keyed {
        let same = with_value[&(group.as_str(), value.as_str())];
        let counts: HashMap<Key, Value> = [
            (
                Key::String(Arc::new("agreeing".into())),
                Value::Int(same - 1),
            ),
            (
                Key::String(Arc::new("differing".into())),
                Value::Int(in_group[group.as_str()] - same),
            ),
        ]
        .into();
        if answer
            .insert(Key::String(id.clone()), Value::Map(Map::from(counts)))
            .is_some()
        {
            return Err(format!("the id '{id}' appears in more than one row"));
        }
    }
    Ok(Value::Map(Map::from(answer)))
}

/// A text that is the same for two values exactly when CEL's `==` holds
/// between them (for JSON-shaped values): strings are length-prefixed so no
/// two compound values run together, map entries are sorted, and a float with
/// an integer value is written as that integer (`1 == 1.0` in CEL).
fn canonical(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push('n'),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Int(i) => {
            let _ = write!(out, "#{i};");
        }
        Value::UInt(u) => {
            let _ = write!(out, "#{u};");
        }
        Value::Float(f) => {
            // Within i64's range an integral float equals that integer (CEL
            // compares an int with a float as floats); others keep their bits.
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                let _ = write!(out, "#{};", *f as i64);
            } else {
                let _ = write!(out, "~{:x};", f.to_bits());
            }
        }
        Value::String(s) => {
            let _ = write!(out, "s{}:{s}", s.len());
        }
        Value::Bytes(b) => {
            let _ = write!(out, "b{}:", b.len());
            for byte in b.iter() {
                let _ = write!(out, "{byte:02x}");
            }
        }
        Value::List(items) => {
            out.push('[');
            for item in items.iter() {
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            let mut entries: Vec<(String, &Value)> =
                map.map.iter().map(|(k, v)| (map_key(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (key, value) in entries {
                out.push_str(&key);
                write_canonical(value, out)?;
            }
            out.push('}');
        }
        other => return Err(format!("is {}, which cannot be compared here", kind(other))),
    }
    Ok(())
}

/// A map key's canonical text: CEL's map keys of different types never
/// equal each other (`{1: x} != {'1': x}`).
fn map_key(key: &Key) -> String {
    match key {
        Key::String(s) => format!("s{}:{s}", s.len()),
        Key::Int(i) => format!("i{i};"),
        Key::Uint(u) => format!("u{u};"),
        Key::Bool(b) => format!("b{b};"),
    }
}

/// A value's type, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        Value::String(_) => "a string",
        Value::Bytes(_) => "bytes",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        _ => "a value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::{json_to_cel, register_functions, Expr};
    use super::*;
    use serde_json::json;

    /// Evaluates `source` with `rows` bound (as JSON, converted as evidence is).
    fn eval(source: &str, rows: &serde_json::Value) -> Result<Value, String> {
        let mut ctx = Context::default();
        register_functions(&mut ctx);
        ctx.add_variable_from_value("rows", json_to_cel(rows));
        let expr = Expr::compile(source).map_err(|e| e.to_string())?;
        expr.eval(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn counts_agree_with_comparing_every_pair_in_cel() {
        // Groups and values of every JSON shape, with maps in another key
        // order, an int beside the equal float, null groups and values.
        let rows = json!([
            ["a", "workload", {"Min": 14, "Symbols": true}],
            ["b", "workload", {"Symbols": true, "Min": 14}],
            ["c", "workload", {"Min": 8, "Symbols": true}],
            ["d", "workload", {"Min": 14.0, "Symbols": true}],
            ["e", null, true],
            ["f", null, false],
            ["g", null, true],
            ["h", "security", [1, "x", null]],
            ["i", "security", [1, "x"]],
            ["j", "security", [1, "x", null]],
            ["k", "network", null],
            ["l", "workload", "14"],
            ["m", 7, 1],
            ["n", 7.0, 1.0],
        ]);
        // What the control computed before `peer_tally`: a filter per row.
        let pairwise = "rows.map(r, [r[0],
            size(rows.filter(p, p[1] == r[1] && p[0] != r[0] && p[2] == r[2])),
            size(rows.filter(p, p[1] == r[1] && p[0] != r[0] && p[2] != r[2]))])";
        let tallied = "rows.map(r, [r[0], peer_tally(rows)[r[0]].agreeing, peer_tally(rows)[r[0]].differing])";
        let expected = eval(pairwise, &rows).unwrap();
        assert_eq!(eval(tallied, &rows).unwrap(), expected);
        // And the counts are the ones a reader expects.
        let a = eval("peer_tally(rows)['a']", &rows).unwrap();
        assert_eq!(a, json_to_cel(&json!({"agreeing": 2, "differing": 2})));
        let m = eval("peer_tally(rows)['m']", &rows).unwrap();
        assert_eq!(m, json_to_cel(&json!({"agreeing": 1, "differing": 0})));
    }

    #[test]
    fn an_empty_list_gives_an_empty_map() {
        assert_eq!(
            eval("size(peer_tally(rows))", &json!([])),
            Ok(Value::Int(0))
        );
    }

    #[test]
    fn rows_it_cannot_read_are_errors_naming_the_row() {
        let err = |rows: serde_json::Value| eval("peer_tally(rows)", &rows).unwrap_err();
        assert!(err(json!({"a": 1})).contains("expects a list of [id, group, value], got a map"));
        assert!(err(json!(["a"])).contains("row 0 is a string, not a list"));
        assert!(err(json!([["a", "g"]])).contains("row 0 has 2 elements, not three"));
        assert!(err(json!([["a", "g", 1], [2, "g", 1]])).contains("row 1: the id is a number"));
        let twice = err(json!([["a", "g", 1], ["a", "h", 2]]));
        assert!(
            twice.contains("the id 'a' appears in more than one row"),
            "{twice}"
        );
    }
}
