//! The request context and condition evaluation: [`RequestContext`],
//! [`condition_holds`] and the string, number, date, boolean, IP address and
//! ARN comparisons behind the condition operators.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::matching::{arn_matches, wildcard_match};
use crate::model::{Condition, Operator, SetQualifier, Test};

/// Condition keys and their values for the request a deny must catch.
///
/// Keys are case-insensitive. A key given with several values is a
/// multivalued key (for `ForAllValues:` / `ForAnyValue:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: BTreeMap<String, (String, Vec<String>)>,
}

impl RequestContext {
    /// An empty context: every key is absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value to `key` (builder style).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` to exactly `values` (may be empty: present, no values).
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = values.into_iter().map(Into::into).collect();
        self.values
            .insert(key.to_lowercase(), (key.to_owned(), list));
        self
    }

    /// Adds one value to `key`.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .entry(key.to_lowercase())
            .or_insert_with(|| (key.to_owned(), Vec::new()))
            .1
            .push(value.into());
    }

    /// The values of `key` (case-insensitive), `None` when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_lowercase())
            .map(|(_, v)| v.as_slice())
    }
}

/// How one condition fares against a request context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionOutcome {
    /// True, decided by values in the context.
    Holds,
    /// True only because the key is absent (the reason is attached).
    HoldsKeyAbsent(&'static str),
    /// False, decided by values in the context.
    Fails,
    /// False because the key is absent.
    FailsKeyAbsent,
    /// The operator is unknown; treated as false.
    UnknownOperator,
}

/// Evaluates one condition against `context`.
///
/// Absent keys follow the AWS condition-operator reference: "If the key that
/// you specify in a policy condition is not present in the request context,
/// the values do not match and the condition is *false*. If the policy
/// condition requires that the key is *not* matched, such as `StringNotLike`
/// or `ArnNotLike`, and the right key is not present, the condition is
/// *true*. This logic applies to all condition operators except
/// `...IfExists` and `Null` check." `…IfExists` is true on an absent key;
/// `ForAllValues:` is true on an absent key and `ForAnyValue:` false
/// (reference_policies_condition-single-vs-multi-valued-context-keys).
/// Several policy values are OR-ed, and NOR-ed for negated operators
/// (reference_policies_multi-value-conditions).
pub fn condition_holds(condition: &Condition, context: &RequestContext) -> ConditionOutcome {
    let Some(op) = condition.parsed else {
        return ConditionOutcome::UnknownOperator;
    };
    match context.get(&condition.key) {
        None => absent_key_outcome(op, &condition.values),
        Some(request) if present_key_holds(op, &condition.values, request) => {
            ConditionOutcome::Holds
        }
        Some(_) => ConditionOutcome::Fails,
    }
}

fn absent_key_outcome(op: Operator, policy: &[String]) -> ConditionOutcome {
    use ConditionOutcome::{FailsKeyAbsent, HoldsKeyAbsent};
    if op.test == Test::Null {
        return if policy.iter().any(|v| v.eq_ignore_ascii_case("true")) {
            HoldsKeyAbsent("Null \"true\" asks for the key to be absent")
        } else {
            FailsKeyAbsent
        };
    }
    if op.if_exists {
        return HoldsKeyAbsent("IfExists is true when the key is absent");
    }
    match op.set {
        Some(SetQualifier::ForAllValues) => {
            HoldsKeyAbsent("ForAllValues is true when the key is absent")
        }
        Some(SetQualifier::ForAnyValue) => FailsKeyAbsent,
        None if op.negated => HoldsKeyAbsent("a negated operator is true when the key is absent"),
        None => FailsKeyAbsent,
    }
}

fn present_key_holds(op: Operator, policy: &[String], request: &[String]) -> bool {
    if op.test == Test::Null {
        return policy.iter().any(|v| v.eq_ignore_ascii_case("false"));
    }
    let value_passes = |v: &String| {
        let matched = policy.iter().any(|p| test_matches(op.test, p, v));
        matched != op.negated
    };
    match op.set {
        Some(SetQualifier::ForAllValues) => request.iter().all(value_passes),
        Some(SetQualifier::ForAnyValue) => request.iter().any(value_passes),
        None if op.negated => request.iter().all(value_passes),
        None => request.iter().any(value_passes),
    }
}

/// The positive test of one policy value against one request value.
fn test_matches(test: Test, policy: &str, request: &str) -> bool {
    match test {
        Test::StringEquals | Test::BinaryEquals => policy == request,
        Test::StringEqualsIgnoreCase => policy.to_lowercase() == request.to_lowercase(),
        Test::StringLike => wildcard_match(policy, request, false),
        Test::Numeric(cmp) => match (parse_number(request), parse_number(policy)) {
            (Some(r), Some(p)) => cmp.holds(r, p),
            _ => false,
        },
        Test::Date(cmp) => match (parse_date(request), parse_date(policy)) {
            (Some(r), Some(p)) => cmp.holds(r, p),
            _ => false,
        },
        Test::Bool => policy.trim().eq_ignore_ascii_case(request.trim()),
        Test::IpAddress => ip_in_cidr(request, policy),
        Test::ArnEquals | Test::ArnLike => arn_matches(policy, request),
        Test::Null => false,
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Parses a date condition value to seconds since the Unix epoch: either a
/// number (epoch seconds) or ISO 8601 extended format
/// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM|±HHMM]` (no zone = UTC).
pub fn parse_date(text: &str) -> Option<f64> {
    let text = text.trim();
    parse_number(text).or_else(|| parse_iso8601(text))
}

fn parse_iso8601(text: &str) -> Option<f64> {
    let date = text.get(..10)?;
    let rest = text.get(10..)?;
    let days = parse_ymd(date)?;
    let seconds = match rest.chars().next() {
        None => 0.0,
        Some('T' | 't' | ' ') => parse_time_and_zone(rest.get(1..)?)?,
        Some(_) => return None,
    };
    Some(days as f64 * 86_400.0 + seconds)
}

fn parse_ymd(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let valid = parts.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d);
    valid.then(|| days_from_civil(y, m, d))
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (m + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `HH:MM[:SS[.fff]]` followed by an optional zone; returns UTC seconds of
/// the day (may be outside 0..86400 after the zone shift).
fn parse_time_and_zone(text: &str) -> Option<f64> {
    let zone_at = text.find(['Z', 'z', '+', '-']).unwrap_or(text.len());
    let (clock, zone) = text.split_at(zone_at);
    let mut parts = clock.split(':');
    let h: f64 = parts.next()?.parse::<u32>().ok()?.into();
    let m: f64 = parts.next()?.parse::<u32>().ok()?.into();
    let s: f64 = parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if parts.next().is_some() || h > 24.0 || m > 59.0 || !(0.0..61.0).contains(&s) {
        return None;
    }
    Some(h * 3600.0 + m * 60.0 + s - zone_offset(zone)?)
}

fn zone_offset(zone: &str) -> Option<f64> {
    let sign = match zone.chars().next() {
        None | Some('Z' | 'z') if zone.len() <= 1 => return Some(0.0),
        Some('+') => 1.0,
        Some('-') => -1.0,
        _ => return None,
    };
    let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let h: f64 = digits.get(..2)?.parse::<u32>().ok()?.into();
    let m: f64 = digits.get(2..)?.parse::<u32>().ok()?.into();
    Some(sign * (h * 3600.0 + m * 60.0))
}

/// Whether the request address `addr` (an IP, optionally with `/len`) lies
/// in `cidr` (an IPv4 or IPv6 address with optional prefix length).
fn ip_in_cidr(addr: &str, cidr: &str) -> bool {
    let address = addr.trim().split_once('/').map_or(addr.trim(), |(a, _)| a);
    match (address.parse::<IpAddr>(), parse_cidr(cidr)) {
        (Ok(IpAddr::V4(a)), Some((IpAddr::V4(n), len))) => {
            same_prefix(u32::from(a).into(), u32::from(n).into(), len, 32)
        }
        (Ok(IpAddr::V6(a)), Some((IpAddr::V6(n), len))) => {
            same_prefix(u128::from(a), u128::from(n), len, 128)
        }
        _ => false,
    }
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u32)> {
    let text = text.trim();
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u32>().ok()?)),
        None => (text.parse::<IpAddr>().ok()?, None),
    };
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(width);
    (len <= width).then_some((addr, len))
}

fn same_prefix(a: u128, b: u128, len: u32, width: u32) -> bool {
    let shift = width - len;
    shift >= 128 || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_date("2020-01-01"), Some(1_577_836_800.0));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            Some(1_577_836_800.0)
        );
        assert_eq!(parse_date("2020-01-01T00:00:00.5Z"), Some(1_577_836_800.5));
        assert_eq!(parse_date("1577836800"), Some(1_577_836_800.0));
        assert_eq!(parse_date("2020-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn ips() {
        assert!(ip_in_cidr("192.0.2.10", "192.0.2.0/24"));
        assert!(!ip_in_cidr("192.0.3.10", "192.0.2.0/24"));
        assert!(ip_in_cidr("10.1.2.3", "0.0.0.0/0"));
        assert!(ip_in_cidr("203.0.113.5", "203.0.113.5"));
        assert!(ip_in_cidr("2001:db8::1", "2001:db8::/32"));
        assert!(!ip_in_cidr("2001:db9::1", "2001:db8::/32"));
        assert!(!ip_in_cidr("192.0.2.1", "2001:db8::/32"));
        assert!(!ip_in_cidr("192.0.2.1", "192.0.2.0/33"));
    }
}
