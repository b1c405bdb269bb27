//! `group_pairs(pairs)`: a list of `[key, value]` pairs as a map from each key
//! to the list of its values, built once.
//!
//! A control that checks, for each element of one population, whether it is
//! in another (`org.inventory`: every account Organizations lists against
//! every account of `org.json`, and back) would, written with CEL's
//! comprehensions, scan the other population for each element: quadratic in
//! the accounts, in one scope item, so on one core (38 s of a 44 s
//! evaluation at 3,000 accounts; minutes at 10,000). A define that calls this
//! function once makes each question a map lookup.
//!
//! `pairs` is a list of two-element lists `[key, value]`: `key` a string, an
//! integer or a boolean (what a CEL map key can be), `value` anything. The
//! answer maps each key to the list of the values paired with it, in the
//! order of `pairs`, so a key given twice is seen (`size(m[k]) == 2`). An
//! element that is not a two-element list, or a key of another type, is an
//! evaluation error naming the element: the requirements reading the answer
//! are NOT ASSESSED with the reason, never a pass.

use std::collections::HashMap;

use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Value};

/// The function's name in control files.
const NAME: &str = "group_pairs";

/// Registers [`NAME`] on a root context.
pub(crate) fn register(ctx: &mut Context) {
    ctx.add_function(NAME, |pairs: Value| -> Result<Value, ExecutionError> {
        group_pairs(&pairs).map_err(|e| ExecutionError::function_error(NAME, e))
    })
    .expect("group_pairs does not clash with the standard library");
}

/// The grouping of `pairs` (see the module's documentation); the error says
/// which element is wrong.
fn group_pairs(pairs: &Value) -> Result<Value, String> {
    let Value::List(pairs) = pairs else {
        return Err("expects a list of [key, value] pairs".into());
    };
    let mut groups: HashMap<Key, Vec<Value>> = HashMap::new();
    for (at, pair) in pairs.iter().enumerate() {
        let Value::List(parts) = pair else {
            return Err(format!("element {at} is not a [key, value] list"));
        };
        let [key, value] = parts.as_slice() else {
            return Err(format!(
                "element {at} has {} elements, not two [key, value]",
                parts.len()
            ));
        };
        let key = match key {
            Value::String(s) => Key::String(s.clone()),
            Value::Int(i) => Key::Int(*i),
            Value::UInt(u) => Key::Uint(*u),
            Value::Bool(b) => Key::Bool(*b),
            _ => {
                return Err(format!(
                    "element {at}: the key is not a string, an integer or a boolean"
                ))
            }
        };
        groups.entry(key).or_default().push(value.clone());
    }
    let map: HashMap<Key, Value> = groups
        .into_iter()
        .map(|(key, values)| (key, Value::List(values.into())))
        .collect();
    Ok(Value::Map(Map::from(map)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::expr::Expr;

    fn eval(source: &str) -> Result<Value, String> {
        let mut ctx = Context::default();
        crate::evaluation::expr::register_functions(&mut ctx);
        let expr = Expr::compile(source).map_err(|e| e.to_string())?;
        expr.eval(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn values_are_grouped_by_key_in_order_and_a_repeated_key_is_seen() {
        let pairs = "group_pairs([['111', 'ACTIVE'], ['222', 'SUSPENDED'], ['111', 'CLOSED']])";
        assert_eq!(
            eval(&format!("{pairs}['111']")).unwrap(),
            eval("['ACTIVE', 'CLOSED']").unwrap()
        );
        assert_eq!(
            eval(&format!("{pairs}['222']")).unwrap(),
            eval("['SUSPENDED']").unwrap()
        );
        assert_eq!(
            eval(&format!("'333' in {pairs}")).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            eval("group_pairs([[1, true], [1, false]])[1]").unwrap(),
            eval("[true, false]").unwrap()
        );
        assert_eq!(eval("size(group_pairs([]))").unwrap(), Value::Int(0));
    }

    #[test]
    fn elements_that_are_not_pairs_or_keys_that_cannot_be_keys_are_errors_naming_them() {
        for (source, says) in [
            ("group_pairs('x')", "a list of [key, value] pairs"),
            ("group_pairs([['a', 1], 'b'])", "element 1 is not"),
            ("group_pairs([['a', 1, 2]])", "element 0 has 3 elements"),
            ("group_pairs([[1.5, 'x']])", "element 0: the key"),
            ("group_pairs([[['a'], 'x']])", "element 0: the key"),
        ] {
            let error = eval(source).unwrap_err();
            assert!(error.contains(says), "{source}: {error}");
        }
    }
}
