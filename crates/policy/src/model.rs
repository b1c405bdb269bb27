//! The normalised policy model: [`Policy`], [`Statement`] and their parts,
//! and the condition [`Operator`] grammar.

use std::fmt;

/// A normalised policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`, if present.
    pub version: Option<String>,
    /// `Id`, if present.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// `Effect`. IAM accepts exactly `"Allow"` and `"Deny"` (case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

/// Either the listed patterns (`Action`, `Resource`) or everything except
/// them (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternSet {
    /// `Action` / `Resource`: matches what one of the patterns matches.
    Only(Vec<String>),
    /// `NotAction` / `NotResource`: matches what none of the patterns match.
    AllExcept(Vec<String>),
}

/// The namespace of a principal identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The bare `"Principal": "*"`.
    Wildcard,
    /// `{"AWS": …}`: accounts, users, roles, or `"*"`.
    Aws,
    /// `{"Service": …}`: AWS service principals.
    Service,
    /// `{"Federated": …}`: identity providers.
    Federated,
    /// `{"CanonicalUser": …}`: S3 canonical user ids.
    CanonicalUser,
}

/// One principal identifier, e.g. `AWS` / `arn:aws:iam::111122223333:root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    /// Namespace.
    pub kind: PrincipalKind,
    /// Identifier as written.
    pub id: String,
}

impl PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: every principal, authenticated or not.
    pub fn is_everyone(&self) -> bool {
        matches!(self.kind, PrincipalKind::Wildcard | PrincipalKind::Aws) && self.id == "*"
    }
}

impl fmt::Display for PrincipalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = match self.kind {
            PrincipalKind::Wildcard => return f.write_str(&self.id),
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        };
        write!(f, "{ns}:{}", self.id)
    }
}

/// The `Principal` / `NotPrincipal` element of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    /// Neither element (identity policies, SCPs).
    Absent,
    /// `Principal`.
    Principal(Vec<PrincipalEntry>),
    /// `NotPrincipal`: everyone except the listed principals.
    NotPrincipal(Vec<PrincipalEntry>),
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// 1-based position in the document.
    pub index: usize,
    /// `Sid`, if present.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`.
    pub principal: PrincipalSpec,
    /// `Action` / `NotAction` (exactly one is required).
    pub actions: PatternSet,
    /// `Resource` / `NotResource`; `None` when neither is present.
    pub resources: Option<PatternSet>,
    /// One entry per (operator, key) pair of the `Condition` block.
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// The `Sid`, or `#n` (1-based position) when there is none.
    pub fn label(&self) -> String {
        self.sid
            .clone()
            .unwrap_or_else(|| format!("#{}", self.index))
    }

    pub(crate) fn described(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement '{sid}'"),
            None => format!("statement #{}", self.index),
        }
    }
}

/// One condition: `{operator: {key: values}}` flattened to one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written, e.g. `"ForAnyValue:StringLikeIfExists"`.
    pub operator: String,
    /// The parsed operator, `None` when it is unknown.
    pub parsed: Option<Operator>,
    /// The condition key as written (compared case-insensitively).
    pub key: String,
    /// The policy values (JSON numbers and booleans as their text).
    pub values: Vec<String>,
}

/// A parsed condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// `ForAllValues:` / `ForAnyValue:` prefix.
    pub set: Option<SetQualifier>,
    /// The underlying positive test.
    pub test: Test,
    /// The operator is a negated one (`StringNotEquals`, `NotIpAddress`, …).
    pub negated: bool,
    /// The `…IfExists` suffix.
    pub if_exists: bool,
}

/// Set qualifier for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// `ForAllValues:` — every request value must pass.
    ForAllValues,
    /// `ForAnyValue:` — at least one request value must pass.
    ForAnyValue,
}

/// Ordering test used by the numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `…Equals`.
    Eq,
    /// `…LessThan`.
    Lt,
    /// `…LessThanEquals`.
    Le,
    /// `…GreaterThan`.
    Gt,
    /// `…GreaterThanEquals`.
    Ge,
}

impl Comparison {
    pub(crate) fn holds(self, request: f64, policy: f64) -> bool {
        match self {
            Self::Eq => request == policy,
            Self::Lt => request < policy,
            Self::Le => request <= policy,
            Self::Gt => request > policy,
            Self::Ge => request >= policy,
        }
    }
}

/// The positive test behind a condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// `StringEquals` (case-sensitive).
    StringEquals,
    /// `StringEqualsIgnoreCase`.
    StringEqualsIgnoreCase,
    /// `StringLike` (`*` / `?`, case-sensitive).
    StringLike,
    /// `Numeric…`.
    Numeric(Comparison),
    /// `Date…` (ISO 8601 or epoch seconds).
    Date(Comparison),
    /// `Bool` (`"true"` / `"false"`, case-insensitive).
    Bool,
    /// `BinaryEquals` (base64 text compared as written).
    BinaryEquals,
    /// `IpAddress` (IPv4 and IPv6 CIDR).
    IpAddress,
    /// `ArnEquals` (same matching as `ArnLike`, per AWS docs).
    ArnEquals,
    /// `ArnLike`: each of the six ARN components matched with wildcards.
    ArnLike,
    /// `Null`: `"true"` means the key must be absent, `"false"` present.
    Null,
}

impl Operator {
    /// Parses an operator name such as `"ForAllValues:StringNotLikeIfExists"`.
    ///
    /// Names are matched case-insensitively. Returns `None` for anything
    /// IAM does not define (including `NullIfExists` and set-qualified
    /// `Null`).
    pub fn parse(name: &str) -> Option<Self> {
        let (set, rest) = match name.split_once(':') {
            Some((prefix, rest)) => (Some(parse_set_qualifier(prefix)?), rest),
            None => (None, name),
        };
        let lower = rest.to_ascii_lowercase();
        let (base, if_exists) = match lower.strip_suffix("ifexists") {
            Some(base) => (base, true),
            None => (lower.as_str(), false),
        };
        let (test, negated) = parse_test(base)?;
        if test == Test::Null && (if_exists || set.is_some()) {
            return None;
        }
        Some(Self {
            set,
            test,
            negated,
            if_exists,
        })
    }
}

fn parse_set_qualifier(prefix: &str) -> Option<SetQualifier> {
    match prefix.to_ascii_lowercase().as_str() {
        "forallvalues" => Some(SetQualifier::ForAllValues),
        "foranyvalue" => Some(SetQualifier::ForAnyValue),
        _ => None,
    }
}

fn parse_test(lower: &str) -> Option<(Test, bool)> {
    use Comparison::{Eq, Ge, Gt, Le, Lt};
    let found = match lower {
        "stringequals" => (Test::StringEquals, false),
        "stringnotequals" => (Test::StringEquals, true),
        "stringequalsignorecase" => (Test::StringEqualsIgnoreCase, false),
        "stringnotequalsignorecase" => (Test::StringEqualsIgnoreCase, true),
        "stringlike" => (Test::StringLike, false),
        "stringnotlike" => (Test::StringLike, true),
        "numericequals" => (Test::Numeric(Eq), false),
        "numericnotequals" => (Test::Numeric(Eq), true),
        "numericlessthan" => (Test::Numeric(Lt), false),
        "numericlessthanequals" => (Test::Numeric(Le), false),
        "numericgreaterthan" => (Test::Numeric(Gt), false),
        "numericgreaterthanequals" => (Test::Numeric(Ge), false),
        "dateequals" => (Test::Date(Eq), false),
        "datenotequals" => (Test::Date(Eq), true),
        "datelessthan" => (Test::Date(Lt), false),
        "datelessthanequals" => (Test::Date(Le), false),
        "dategreaterthan" => (Test::Date(Gt), false),
        "dategreaterthanequals" => (Test::Date(Ge), false),
        "bool" => (Test::Bool, false),
        "binaryequals" => (Test::BinaryEquals, false),
        "ipaddress" => (Test::IpAddress, false),
        "notipaddress" => (Test::IpAddress, true),
        "arnequals" => (Test::ArnEquals, false),
        "arnnotequals" => (Test::ArnEquals, true),
        "arnlike" => (Test::ArnLike, false),
        "arnnotlike" => (Test::ArnLike, true),
        "null" => (Test::Null, false),
        _ => return None,
    };
    Some(found)
}
#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn operators() {
        let op = Operator::parse("ForAnyValue:StringNotLikeIfExists");
        assert_eq!(
            op,
            Some(Operator {
                set: Some(SetQualifier::ForAnyValue),
                test: Test::StringLike,
                negated: true,
                if_exists: true,
            })
        );
        assert!(Operator::parse("StringSortOf").is_none());
        assert!(Operator::parse("ForSomeValues:StringEquals").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
    }
}
