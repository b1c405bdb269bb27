//! The deny question: [`Question`], the [`DenyAnswer`] to it, [`denies`]
//! and the SCP shortcut [`denies_unconditionally`].

use std::fmt;

use serde_json::Value;

use crate::conditions::{condition_holds, ConditionOutcome, RequestContext};
use crate::error::PolicyError;
use crate::matching::{pattern_covers, patterns_overlap};
use crate::model::{Effect, PatternSet, Policy, PrincipalEntry, PrincipalSpec, Statement};
use crate::parse::parse_policy;

/// "Is `action` on `resource` denied to every principal, for a request
/// described by `context`?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The action, e.g. `s3:GetObject`.
    pub action: String,
    /// A sample resource ARN, e.g. `arn:aws:s3:::bucket/some/key`. A `*`
    /// or `?` in it stands for any text, and coverage is then checked
    /// soundly for every resource the pattern stands for.
    pub resource: String,
    /// The request the deny must catch.
    pub context: RequestContext,
    /// Treat a statement without `Principal`/`NotPrincipal` as applying to
    /// everyone (right for SCPs and identity policies).
    pub principal_absent_means_everyone: bool,
    /// Treat a statement without `Resource`/`NotResource` as covering every
    /// resource (SCP statements may omit it).
    pub resource_absent_means_all: bool,
}

impl Question {
    /// A question with an empty context, for a resource policy.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            context: RequestContext::new(),
            principal_absent_means_everyone: false,
            resource_absent_means_all: false,
        }
    }

    /// Adds one context value (builder style).
    pub fn with_context(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.insert(key, value);
        self
    }

    /// Replaces the whole context.
    pub fn with_request_context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    /// For SCPs: an absent `Principal` means everyone and an absent
    /// `Resource` means every resource.
    pub fn for_scp(mut self) -> Self {
        self.principal_absent_means_everyone = true;
        self.resource_absent_means_all = true;
        self
    }
}

/// A condition that held only because its key is absent from the request
/// context (an `…IfExists`, negated, `ForAllValues:` or `Null` condition).
///
/// Such a deny is correct for the request as described, but a real request
/// may carry the key (e.g. `aws:PrincipalAccount` is always present), in
/// which case the deny can be narrower than it looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraCondition {
    /// Sid (or `#n`) of the statement.
    pub statement: String,
    /// Operator as written.
    pub operator: String,
    /// Key as written.
    pub key: String,
    /// Why an absent key made it true.
    pub why: &'static str,
}

impl fmt::Display for ExtraCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "statement '{}': {} on {} is absent from the request context ({})",
            self.statement, self.operator, self.key, self.why
        )
    }
}

/// The answer to [`denies`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyAnswer {
    /// At least one `Deny` statement covers the action on the resource for
    /// every principal, with every condition satisfied by the context.
    Denied {
        /// Sids (or `#n`) of those statements.
        statement_sids: Vec<String>,
        /// Conditions of those statements that held only because their key
        /// is not in the context (see [`ExtraCondition`]).
        extra_conditions: Vec<ExtraCondition>,
    },
    /// No statement denies; one short reason per near miss.
    NotDenied {
        /// e.g. `statement 'DenyHttp' covers only actions s3:PutObject`.
        reasons: Vec<String>,
    },
}

impl DenyAnswer {
    /// Some statement denies (possibly relying on absent keys).
    pub fn is_denied(&self) -> bool {
        matches!(self, Self::Denied { .. })
    }

    /// Some denying statement needs no [`ExtraCondition`]: every condition
    /// it has is decided by keys the context actually supplies.
    pub fn is_full_deny(&self) -> bool {
        match self {
            Self::Denied {
                statement_sids,
                extra_conditions,
            } => statement_sids
                .iter()
                .any(|sid| extra_conditions.iter().all(|e| &e.statement != sid)),
            Self::NotDenied { .. } => false,
        }
    }

    /// The near-miss reasons (empty when denied).
    pub fn reasons(&self) -> &[String] {
        match self {
            Self::Denied { .. } => &[],
            Self::NotDenied { reasons } => reasons,
        }
    }
}

/// Does some `Deny` statement of `doc` deny `question.action` on
/// `question.resource` to every principal, for the request described by
/// `question.context`?
///
/// A statement counts when all of these hold:
/// * `Action` matches the action (or `NotAction` does not);
/// * `Resource` covers the resource (or `NotResource` cannot match it);
/// * `Principal` is everyone (`"*"`, `{"AWS": "*"}` or a list containing
///   it); `NotPrincipal` and named principals never count;
/// * every condition is true for the context (see [`condition_holds`]).
pub fn denies(doc: &Value, question: &Question) -> Result<DenyAnswer, PolicyError> {
    Ok(parse_policy(doc)?.denies(question))
}

impl Policy {
    /// [`denies`] on an already parsed policy.
    pub fn denies(&self, question: &Question) -> DenyAnswer {
        let mut sids = Vec::new();
        let mut extras = Vec::new();
        let mut reasons = Vec::new();
        for st in self.statements.iter().filter(|s| s.effect == Effect::Deny) {
            let mut misses = scope_misses(st, question);
            let (cond_extras, cond_misses) = judge_conditions(st, &question.context);
            misses.extend(cond_misses);
            if misses.is_empty() {
                sids.push(st.label());
                extras.extend(cond_extras);
            } else {
                reasons.extend(misses);
            }
        }
        if sids.is_empty() {
            if reasons.is_empty() {
                reasons.push("the policy has no Deny statement".into());
            }
            DenyAnswer::NotDenied { reasons }
        } else {
            DenyAnswer::Denied {
                statement_sids: sids,
                extra_conditions: extras,
            }
        }
    }
}

/// Reasons why `st` does not cover the question's action, resource and
/// principal (empty when it covers them).
fn scope_misses(st: &Statement, q: &Question) -> Vec<String> {
    let who = st.described();
    let mut misses = Vec::new();
    if let Some(why) = action_miss(&st.actions, &q.action) {
        misses.push(format!("{who} {why}"));
    }
    if let Some(why) = resource_miss(st.resources.as_ref(), q) {
        misses.push(format!("{who} {why}"));
    }
    if let Some(why) = principal_miss(&st.principal, q.principal_absent_means_everyone) {
        misses.push(format!("{who} {why}"));
    }
    misses
}

fn action_miss(actions: &PatternSet, action: &str) -> Option<String> {
    set_miss(actions, action, true, "actions", "NotAction")
}

fn resource_miss(resources: Option<&PatternSet>, q: &Question) -> Option<String> {
    match resources {
        Some(set) => set_miss(set, &q.resource, false, "resources", "NotResource"),
        None if q.resource_absent_means_all => None,
        None => Some("has no Resource element".into()),
    }
}

/// Whether `set` covers every value `query` stands for; `None` when it does.
fn set_miss(
    set: &PatternSet,
    query: &str,
    ignore_case: bool,
    noun: &str,
    not_element: &str,
) -> Option<String> {
    match set {
        PatternSet::Only(patterns) => {
            let covered = patterns
                .iter()
                .any(|p| pattern_covers(p, query, ignore_case));
            (!covered).then(|| format!("covers only {noun} {}", patterns.join(", ")))
        }
        PatternSet::AllExcept(patterns) => patterns
            .iter()
            .find(|p| patterns_overlap(p, query, ignore_case))
            .map(|p| format!("excludes {query} via {not_element} {p}")),
    }
}

fn principal_miss(spec: &PrincipalSpec, absent_means_everyone: bool) -> Option<String> {
    match spec {
        PrincipalSpec::Principal(list) if list.iter().any(PrincipalEntry::is_everyone) => None,
        PrincipalSpec::Principal(list) => {
            Some(format!("applies only to principal {}", join_display(list)))
        }
        PrincipalSpec::NotPrincipal(list) => Some(format!(
            "uses NotPrincipal, so it exempts {}",
            join_display(list)
        )),
        PrincipalSpec::Absent if absent_means_everyone => None,
        PrincipalSpec::Absent => Some("has no Principal element".into()),
    }
}

fn join_display<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits a statement's conditions into the extras (held on an absent key)
/// and the misses (human-readable reasons).
fn judge_conditions(st: &Statement, ctx: &RequestContext) -> (Vec<ExtraCondition>, Vec<String>) {
    let who = st.described();
    let mut extras = Vec::new();
    let mut misses = Vec::new();
    for c in &st.conditions {
        let shown = format!("{} {} [{}]", c.operator, c.key, c.values.join(", "));
        match condition_holds(c, ctx) {
            ConditionOutcome::Holds => {}
            ConditionOutcome::HoldsKeyAbsent(why) => extras.push(ExtraCondition {
                statement: st.label(),
                operator: c.operator.clone(),
                key: c.key.clone(),
                why,
            }),
            ConditionOutcome::Fails => misses.push(format!(
                "{who} condition {shown} does not match the request ({})",
                ctx.get(&c.key).unwrap_or_default().join(", ")
            )),
            ConditionOutcome::FailsKeyAbsent => misses.push(format!(
                "{who} also requires {} ({shown}), which the request context does not supply",
                c.key
            )),
            ConditionOutcome::UnknownOperator => misses.push(format!(
                "{who} uses unknown condition operator '{}' on {}",
                c.operator, c.key
            )),
        }
    }
    (extras, misses)
}

/// SCP shortcut: does some `Deny` statement without any `Condition` cover
/// `action` on every resource (`Resource` `"*"`, or no `Resource`), for
/// every principal (an absent `Principal` counts as everyone)?
/// `NotAction` is honoured; a `NotResource` never covers every resource.
pub fn denies_unconditionally(docs: &[Value], action: &str) -> Result<bool, PolicyError> {
    let question = Question::new(action, "*").for_scp();
    for doc in docs {
        let policy = parse_policy(doc)?;
        let hit = policy.statements.iter().any(|st| {
            st.effect == Effect::Deny
                && st.conditions.is_empty()
                && scope_misses(st, &question).is_empty()
        });
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}
