//! Offline evaluation of AWS IAM, S3 bucket and SCP policy documents, for
//! auditpack's SOC 2 evidence.
//!
//! # What it is for
//!
//! Controls rarely ask "is this request allowed?" — they ask "does this
//! policy *deny* action A on resource R to *every* principal, and under
//! which conditions?" (TLS-only buckets, region locks, "nobody may leave the
//! organization") or "does this policy grant A to the public?". This crate
//! answers exactly those questions for one policy document at a time,
//! following IAM's documented evaluation logic: the policy grammar
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html>)
//! and the condition operators
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>).
//! Actions match case-insensitively, resources and ARNs case-sensitively,
//! both with `*` and `?` wildcards.
//!
//! * [`parse_policy`] / [`parse_policy_str`] normalise a document (the
//!   `Statement`, `Action`, `Resource`, `Principal` and `Condition`
//!   shorthands) into [`Policy`], or return a [`PolicyError`].
//! * [`denies`] answers a [`Question`] (action, sample resource, request
//!   context) with a [`DenyAnswer`]: the denying statements and the
//!   conditions that held only because their key is absent
//!   ([`ExtraCondition`]), or one reason per near miss.
//! * [`denies_unconditionally`] is the SCP shortcut: a `Deny` with no
//!   `Condition` that covers the action on every resource.
//! * [`allows_public`] / [`public_statements`] find `Allow` statements that
//!   grant an action to everyone without an account/org/network restriction.
//! * The building blocks are public too: [`condition_holds`] on a
//!   [`RequestContext`], [`Operator::parse`], [`wildcard_match`],
//!   [`pattern_covers`], [`patterns_overlap`] and [`parse_date`].
//!
//! # What it never does
//!
//! * It never touches the network, calls AWS, or reads anything but the
//!   document it is given.
//! * It never panics on input: a malformed document is a [`PolicyError`],
//!   an unknown condition operator is a near miss.
//! * It never computes the full authorization decision across identity
//!   policies, resource policies, SCPs, permission boundaries and session
//!   policies; it looks at one document at a time.
//! * It never substitutes policy variables (`${aws:username}`): they are
//!   compared as written.
//! * It never treats a narrower statement as a deny for everyone: a
//!   `NotPrincipal`, a named principal, or a condition on a key that the
//!   question's request context does not supply makes the deny partial.
//!
//! # Known limits
//!
//! * A `*`/`?` in the question's resource or action is handled soundly but
//!   not completely (a "covers" answer is never wrong; a rare true cover of
//!   a pattern by a pattern may be missed).
//! * Dates: epoch seconds or ISO 8601 extended format only.
//! * Operator names are matched case-insensitively; `BinaryEquals`
//!   compares the base64 text; IPv4-mapped IPv6 addresses are not folded.
//! * [`allows_public`] ignores `Resource`, ACLs and S3 Block Public Access.
//!
//! # Reading the answer: a note on TLS
//!
//! The modern "TLS 1.2 only" bucket statement
//! `"NumericLessThan": {"s3:TlsVersion": 1.2}` denies requests made with
//! TLS 1.0/1.1, but **not** plaintext HTTP: an HTTP request has no TLS, so
//! the `s3:TlsVersion` key is absent and a non-negated operator on an
//! absent key is false. Ask with `aws:SecureTransport = "false"` to check
//! the HTTP deny, and with `s3:TlsVersion = "1.0"` to check the old-TLS deny.
//!
//! # Layout
//!
//! `model` (the normalised document), `parse` (JSON to model), `matching`
//! (wildcards and ARNs), `conditions` (request context and operators),
//! `question` (the deny question) and `public` (public grants); everything
//! public is re-exported here.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conditions;
mod error;
mod matching;
mod model;
mod parse;
mod public;
mod question;

pub use conditions::{condition_holds, parse_date, ConditionOutcome, RequestContext};
pub use error::PolicyError;
pub use matching::{pattern_covers, patterns_overlap, wildcard_match};
pub use model::{
    Comparison, Condition, Effect, Operator, PatternSet, Policy, PrincipalEntry, PrincipalKind,
    PrincipalSpec, SetQualifier, Statement, Test,
};
pub use parse::{parse_policy, parse_policy_str};
pub use public::{allows_public, public_statements};
pub use question::{denies, denies_unconditionally, DenyAnswer, ExtraCondition, Question};
