//! Reading a policy document into the [`Policy`] model: the `Statement`,
//! `Action`, `Resource`, `Principal` and `Condition` shorthands, and
//! URL-encoded documents as `GetRolePolicy` returns them.

use serde_json::{Map, Value};

use crate::error::{invalid, PolicyError};
use crate::model::{
    Condition, Effect, Operator, PatternSet, Policy, PrincipalEntry, PrincipalKind, PrincipalSpec,
    Statement,
};

/// Normalises a policy document given as a JSON object, or as a JSON string
/// whose content is the document (plain or URL-encoded, as `GetRolePolicy`
/// returns it).
pub fn parse_policy(doc: &Value) -> Result<Policy, PolicyError> {
    match doc {
        Value::Object(map) => parse_document(map),
        Value::String(text) => parse_policy_str(text),
        _ => Err(PolicyError::NotAnObject("policy document")),
    }
}

/// Normalises a policy document given as JSON text (plain or URL-encoded).
pub fn parse_policy_str(text: &str) -> Result<Policy, PolicyError> {
    let trimmed = text.trim();
    let decoded;
    let json = if trimmed.starts_with('%') {
        decoded = percent_decode(trimmed)
            .ok_or_else(|| PolicyError::InvalidJson("bad URL encoding".into()))?;
        decoded.as_str()
    } else {
        trimmed
    };
    let value: Value =
        serde_json::from_str(json).map_err(|e| PolicyError::InvalidJson(e.to_string()))?;
    match &value {
        Value::Object(map) => parse_document(map),
        _ => Err(PolicyError::NotAnObject("policy document")),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_document(map: &Map<String, Value>) -> Result<Policy, PolicyError> {
    let statements = match map.get("Statement") {
        None => {
            return Err(PolicyError::MissingElement {
                element: "Statement",
                statement: None,
            })
        }
        Some(Value::Object(one)) => vec![parse_statement(one, 1)?],
        Some(Value::Array(list)) => parse_statement_list(list)?,
        Some(_) => {
            return Err(PolicyError::InvalidElement {
                element: "Statement",
                statement: None,
                detail: "must be an object or a list of objects".into(),
            })
        }
    };
    Ok(Policy {
        version: optional_string(map, "Version"),
        id: optional_string(map, "Id"),
        statements,
    })
}

fn optional_string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_statement_list(list: &[Value]) -> Result<Vec<Statement>, PolicyError> {
    list.iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => parse_statement(map, i + 1),
            _ => Err(PolicyError::NotAnObject("statement")),
        })
        .collect()
}

fn parse_statement(map: &Map<String, Value>, index: usize) -> Result<Statement, PolicyError> {
    let sid = match map.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("Sid", index, "must be a string")),
    };
    Ok(Statement {
        index,
        sid,
        effect: parse_effect(map.get("Effect"), index)?,
        principal: parse_principal_spec(map, index)?,
        actions: parse_pattern_pair(map, "Action", "NotAction", index)?.ok_or(
            PolicyError::MissingElement {
                element: "Action",
                statement: Some(index),
            },
        )?,
        resources: parse_pattern_pair(map, "Resource", "NotResource", index)?,
        conditions: match map.get("Condition") {
            None => Vec::new(),
            Some(block) => parse_conditions(block, index)?,
        },
    })
}

fn parse_effect(value: Option<&Value>, index: usize) -> Result<Effect, PolicyError> {
    match value {
        None => Err(PolicyError::MissingElement {
            element: "Effect",
            statement: Some(index),
        }),
        Some(Value::String(s)) if s == "Allow" => Ok(Effect::Allow),
        Some(Value::String(s)) if s == "Deny" => Ok(Effect::Deny),
        Some(other) => Err(invalid(
            "Effect",
            index,
            format!("must be \"Allow\" or \"Deny\" (case-sensitive), got {other}"),
        )),
    }
}

/// Reads `positive` / `negative` (e.g. `Action` / `NotAction`); having both
/// is an error, having neither is `Ok(None)`.
fn parse_pattern_pair(
    map: &Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
    index: usize,
) -> Result<Option<PatternSet>, PolicyError> {
    match (map.get(positive), map.get(negative)) {
        (Some(_), Some(_)) => Err(invalid(
            positive,
            index,
            format!("{positive} and {negative} are both present"),
        )),
        (Some(v), None) => Ok(Some(PatternSet::Only(string_list(v, positive, index)?))),
        (None, Some(v)) => Ok(Some(PatternSet::AllExcept(string_list(
            v, negative, index,
        )?))),
        (None, None) => Ok(None),
    }
}

/// A string or a list of strings.
fn string_list(
    value: &Value,
    element: &'static str,
    index: usize,
) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(element, index, "list items must be strings")),
            })
            .collect(),
        _ => Err(invalid(
            element,
            index,
            "must be a string or a list of strings",
        )),
    }
}

fn parse_principal_spec(
    map: &Map<String, Value>,
    index: usize,
) -> Result<PrincipalSpec, PolicyError> {
    match (map.get("Principal"), map.get("NotPrincipal")) {
        (Some(_), Some(_)) => Err(invalid(
            "Principal",
            index,
            "Principal and NotPrincipal are both present",
        )),
        (Some(v), None) => Ok(PrincipalSpec::Principal(parse_principals(
            v,
            "Principal",
            index,
        )?)),
        (None, Some(v)) => Ok(PrincipalSpec::NotPrincipal(parse_principals(
            v,
            "NotPrincipal",
            index,
        )?)),
        (None, None) => Ok(PrincipalSpec::Absent),
    }
}

fn parse_principals(
    value: &Value,
    element: &'static str,
    index: usize,
) -> Result<Vec<PrincipalEntry>, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(vec![PrincipalEntry {
            kind: PrincipalKind::Wildcard,
            id: "*".into(),
        }]),
        Value::Object(map) => {
            let mut entries = Vec::new();
            for (namespace, ids) in map {
                let kind = principal_kind(namespace)
                    .ok_or_else(|| invalid(element, index, format!("unknown key {namespace}")))?;
                for id in scalar_list(ids).ok_or_else(|| {
                    invalid(
                        element,
                        index,
                        format!("{namespace} must be a string or list"),
                    )
                })? {
                    entries.push(PrincipalEntry { kind, id });
                }
            }
            Ok(entries)
        }
        _ => Err(invalid(element, index, "must be \"*\" or an object")),
    }
}

fn principal_kind(namespace: &str) -> Option<PrincipalKind> {
    match namespace {
        "AWS" => Some(PrincipalKind::Aws),
        "Service" => Some(PrincipalKind::Service),
        "Federated" => Some(PrincipalKind::Federated),
        "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
        _ => None,
    }
}

/// A scalar (string, number, boolean) or a list of scalars, as text.
fn scalar_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => items.iter().map(scalar_text).collect(),
        other => scalar_text(other).map(|s| vec![s]),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_conditions(block: &Value, index: usize) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = block else {
        return Err(invalid("Condition", index, "must be an object"));
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return Err(invalid(
                "Condition",
                index,
                format!("{operator} must map keys to values"),
            ));
        };
        for (key, values) in keys {
            let values = scalar_list(values).ok_or_else(|| {
                invalid(
                    "Condition",
                    index,
                    format!("bad value for {operator} {key}"),
                )
            })?;
            conditions.push(Condition {
                operator: operator.clone(),
                parsed: Operator::parse(operator),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn url_encoded() {
        let p = parse_policy_str("%7B%22Statement%22%3A%5B%5D%7D").expect("decodes");
        assert!(p.statements.is_empty());
    }
}
