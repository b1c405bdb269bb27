//! Public access: `Allow` statements that grant an action to everyone
//! without an account, organization, network or caller restriction.

use serde_json::Value;

use crate::error::PolicyError;
use crate::matching::{pattern_covers, patterns_overlap};
use crate::model::{
    Condition, Effect, PatternSet, PrincipalEntry, PrincipalSpec, SetQualifier, Statement, Test,
};
use crate::parse::parse_policy;

/// Condition keys that, tested positively, limit an `Allow` to a known
/// account, organization, network or caller.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
];

/// Does some `Allow` statement grant an action matching `action_pattern`
/// (e.g. `s3:GetObject` or `s3:*`) to everyone without a restricting
/// condition? See [`public_statements`].
pub fn allows_public(doc: &Value, action_pattern: &str) -> Result<bool, PolicyError> {
    Ok(!public_statements(doc, action_pattern)?.is_empty())
}

/// Sids (or `#n`) of the `Allow` statements that make `doc` public for an
/// action matching `action_pattern`.
///
/// A statement is public when its `Principal` is everyone (or it uses
/// `NotPrincipal`, which allows everyone else) and none of its conditions
/// restricts the caller. A restricting condition is a known, non-negated,
/// non-`IfExists`, non-`ForAllValues:` operator on one of
/// `aws:SourceAccount`, `aws:SourceOwner`, `aws:SourceArn`,
/// `aws:SourceOrgID`, `aws:SourceOrgPaths`, `aws:PrincipalAccount`,
/// `aws:PrincipalArn`, `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`,
/// `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceIp`, `aws:userid`,
/// `aws:username`, whose values are not all-matching (`*`, `0.0.0.0/0`,
/// `::/0`). Other conditions (e.g. `aws:SecureTransport`) do not make a
/// grant private. Resources are not looked at.
pub fn public_statements(doc: &Value, action_pattern: &str) -> Result<Vec<String>, PolicyError> {
    let policy = parse_policy(doc)?;
    Ok(policy
        .statements
        .iter()
        .filter(|st| st.effect == Effect::Allow)
        .filter(|st| grants_to_everyone(&st.principal))
        .filter(|st| action_may_match(&st.actions, action_pattern))
        .filter(|st| !st.conditions.iter().any(restricts_caller))
        .map(Statement::label)
        .collect())
}

fn grants_to_everyone(spec: &PrincipalSpec) -> bool {
    match spec {
        PrincipalSpec::Principal(list) => list.iter().any(PrincipalEntry::is_everyone),
        PrincipalSpec::NotPrincipal(_) => true,
        PrincipalSpec::Absent => false,
    }
}

/// Whether some action matching `pattern` is granted by `actions`.
fn action_may_match(actions: &PatternSet, pattern: &str) -> bool {
    match actions {
        PatternSet::Only(list) => list.iter().any(|a| patterns_overlap(a, pattern, true)),
        PatternSet::AllExcept(list) => !list.iter().any(|a| pattern_covers(a, pattern, true)),
    }
}

fn restricts_caller(c: &Condition) -> bool {
    let Some(op) = c.parsed else {
        return false;
    };
    let key = c.key.to_lowercase();
    RESTRICTING_KEYS.contains(&key.as_str())
        && !op.negated
        && !op.if_exists
        && op.set != Some(SetQualifier::ForAllValues)
        && op.test != Test::Null
        && !c
            .values
            .iter()
            .any(|v| matches!(v.trim(), "*" | "0.0.0.0/0" | "::/0"))
}
