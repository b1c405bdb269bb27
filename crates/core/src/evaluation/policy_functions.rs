//! CEL functions over IAM policy documents (bucket policies, SCPs), so control
//! files ask IAM's own question, "is this denied to everyone?", instead of
//! pattern-matching statements. The evaluation follows IAM's documented logic
//! (see the `auditpack-policy` crate); a control only names the actions,
//! resources and request it cares about.
//!
//! * `policy_deny_gaps(policy, actions, resources, context)`: the
//!   (action, resource) pairs the policy does **not** deny to every principal
//!   for a request described by `context` (a map of condition keys to values),
//!   each with the reason; an empty list means every pair is denied. `policy` is
//!   the document or its JSON text, as AWS returns it.
//! * `policies_deny(documents, action)`: some SCP among `documents` denies
//!   `action` on every resource to everyone, with no condition (`NotAction`
//!   honoured).
//!
//! A document that is not a policy is an evaluation error, so the requirement
//! is NOT ASSESSED with the parser's message, never a pass.

use std::sync::Arc;

use auditpack_policy::{
    denies_unconditionally, parse_policy, DenyAnswer, Question, RequestContext,
};
use cel::{Context, ExecutionError, Value};
use serde_json::Value as Json;

use super::expr::cel_to_json;

/// Registers the functions on a root context.
pub(crate) fn register(ctx: &mut Context) {
    ctx.add_function(
        "policy_deny_gaps",
        |policy: Value,
         actions: Value,
         resources: Value,
         context: Value|
         -> Result<Value, ExecutionError> {
            let gaps = deny_gaps(
                &cel_to_json(&policy),
                &strings(&actions),
                &strings(&resources),
                &request_context(&cel_to_json(&context)),
            )
            .map_err(|e| ExecutionError::function_error("policy_deny_gaps", e))?;
            Ok(Value::List(Arc::new(
                gaps.into_iter()
                    .map(|g| Value::String(Arc::new(g)))
                    .collect(),
            )))
        },
    )
    .expect("policy_deny_gaps does not clash with the standard library");
    ctx.add_function(
        "policies_deny",
        |documents: Value, action: Arc<String>| -> Result<bool, ExecutionError> {
            let docs = match cel_to_json(&documents) {
                Json::Array(items) => items,
                single => vec![single],
            };
            denies_unconditionally(&docs, &action)
                .map_err(|e| ExecutionError::function_error("policies_deny", e))
        },
    )
    .expect("policies_deny does not clash with the standard library");
}

/// The pairs of `actions` × `resources` that `policy` does not fully deny to
/// every principal for a request with `context`, as
/// `"<action> on <resource>: <why>"`.
pub(crate) fn deny_gaps(
    policy: &Json,
    actions: &[String],
    resources: &[String],
    context: &RequestContext,
) -> Result<Vec<String>, auditpack_policy::PolicyError> {
    let policy = parse_policy(policy)?;
    let mut gaps = Vec::new();
    for resource in resources {
        for action in actions {
            let question = Question::new(action.as_str(), resource.as_str())
                .with_request_context(context.clone());
            let answer = policy.denies(&question);
            if !answer.is_full_deny() {
                gaps.push(format!("{action} on {resource}: {}", why_not(&answer)));
            }
        }
    }
    Ok(gaps)
}

/// Why an answer is not a full deny, in one line.
fn why_not(answer: &DenyAnswer) -> String {
    match answer {
        DenyAnswer::NotDenied { reasons } if reasons.is_empty() => {
            "no Deny statement covers it".to_string()
        }
        DenyAnswer::NotDenied { reasons } => reasons.join("; "),
        DenyAnswer::Denied {
            extra_conditions, ..
        } => format!(
            "denied only when {}",
            extra_conditions
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// A CEL list of strings (anything else is skipped).
fn strings(value: &Value) -> Vec<String> {
    match cel_to_json(value) {
        Json::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        Json::String(s) => vec![s],
        _ => Vec::new(),
    }
}

/// `{"aws:SecureTransport": "false", …}`; a value may be a list.
fn request_context(value: &Json) -> RequestContext {
    let mut context = RequestContext::new();
    if let Json::Object(map) = value {
        for (key, v) in map {
            match v {
                Json::Array(items) => items
                    .iter()
                    .for_each(|i| context.insert(key, scalar_text(i))),
                other => context.insert(key, scalar_text(other)),
            }
        }
    }
    context
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tls_policy(statement: Json) -> Json {
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    fn gaps(policy: &Json) -> Vec<String> {
        deny_gaps(
            policy,
            &["s3:GetObject".into(), "s3:PutObject".into()],
            &["arn:aws:s3:::logs/any-object-key".into()],
            &request_context(&json!({"aws:SecureTransport": "false"})),
        )
        .unwrap()
    }

    #[test]
    fn aws_s_tls_only_example_denies_every_pair() {
        let policy = tls_policy(json!({
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }));
        assert!(gaps(&policy).is_empty(), "{:?}", gaps(&policy));
        // As AWS returns it: the document as JSON text.
        assert!(gaps(&Json::String(policy.to_string())).is_empty());
    }

    #[test]
    fn a_deny_of_one_action_leaves_the_others_open() {
        let policy = tls_policy(json!({
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::logs/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }));
        let found = gaps(&policy);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("s3:GetObject on arn:aws:s3:::logs/any-object-key: "));
    }

    #[test]
    fn a_deny_narrowed_by_another_condition_is_a_gap_that_names_the_key() {
        let policy = tls_policy(json!({
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": "arn:aws:s3:::logs/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"},
                          "StringEquals": {"aws:PrincipalAccount": "111111111111"}}
        }));
        let found = gaps(&policy);
        assert_eq!(found.len(), 2);
        assert!(found[0].contains("aws:PrincipalAccount"), "{found:?}");
    }

    #[test]
    fn a_document_that_is_not_a_policy_is_an_error() {
        assert!(deny_gaps(&json!("{not json"), &[], &[], &RequestContext::new()).is_err());
    }

    #[test]
    fn the_context_takes_strings_booleans_and_lists() {
        let context = request_context(&json!({"aws:SecureTransport": false, "k": ["a", "b"]}));
        assert_eq!(context.get("aws:securetransport").unwrap(), ["false"]);
        assert_eq!(context.get("K").unwrap(), ["a", "b"]);
    }
}
