//! The audit period as dates. `--period` names a calendar (or fiscal)
//! quarter, half or year, or an ISO 8601 interval of days; it resolves to a
//! first and a last day, in UTC, recorded in `run.json` and everything made
//! from it, so a Type II report can say which days its evidence covers.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A period, resolved: its label as given and its first and last instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodDates {
    /// The first instant of the first day, RFC 3339 UTC.
    pub start: String,
    /// The last instant (23:59:59) of the last day, RFC 3339 UTC.
    pub end: String,
}

/// Why a `--period` could not be resolved; the text names the input and the
/// forms that are accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not one of the accepted forms.
    #[error("period '{0}' is not a year (2026), a quarter (2026-Q4), a half (2026-H2) or an interval of days (2026-10-01/2026-12-31)")]
    Malformed(String),
    /// An interval whose end is before its start.
    #[error("period '{0}' ends before it starts")]
    Inverted(String),
    /// A fiscal year start month outside 1–12 (auditpack.toml `[period]`).
    #[error("fiscal_year_start_month {0} is not a month (1 to 12)")]
    BadFiscalStart(u32),
}

/// Resolves `label`. Years, halves and quarters are fiscal when the fiscal year
/// starts in another month than January (`fiscal_start_month`, from
/// auditpack.toml): a fiscal year is named by the calendar year it starts in
/// (with April, `2026` is 2026-04-01 to 2027-03-31 and `2026-Q1` is April to
/// June 2026).
pub fn resolve_period(label: &str, fiscal_start_month: u32) -> Result<PeriodDates, PeriodError> {
    if !(1..=12).contains(&fiscal_start_month) {
        return Err(PeriodError::BadFiscalStart(fiscal_start_month));
    }
    let malformed = || PeriodError::Malformed(label.to_string());
    let (first, last) = if let Some((from, to)) = label.split_once('/') {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| malformed());
        let (first, last) = (day(from)?, day(to)?);
        if last < first {
            return Err(PeriodError::Inverted(label.to_string()));
        }
        (first, last)
    } else {
        let (year, part) = match label.split_once('-') {
            Some((year, part)) => (year, Some(part)),
            None => (label, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let year: i32 = year.parse().map_err(|_| malformed())?;
        let (offset, months) = match part {
            None => (0, 12),
            Some("H1") => (0, 6),
            Some("H2") => (6, 6),
            Some(q @ ("Q1" | "Q2" | "Q3" | "Q4")) => (3 * (u32::from(q.as_bytes()[1] - b'1')), 3),
            Some(_) => return Err(malformed()),
        };
        let fiscal_start =
            NaiveDate::from_ymd_opt(year, fiscal_start_month, 1).ok_or_else(malformed)?;
        let first = fiscal_start + Months::new(offset);
        let next = first + Months::new(months);
        (first, next.pred_opt().ok_or_else(malformed)?)
    };
    Ok(PeriodDates {
        start: rfc3339(first, 0, 0, 0),
        end: rfc3339(last, 23, 59, 59),
    })
}

fn rfc3339(day: NaiveDate, h: u32, m: u32, s: u32) -> String {
    let t: DateTime<Utc> = Utc.from_utc_datetime(&day.and_hms_opt(h, m, s).expect("valid time"));
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether the period had not ended when the evidence was collected (a
/// period-to-date run): its end is after `collected_at`.
pub fn period_to_date(period: &PeriodDates, collected_at: &str) -> bool {
    let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok();
    matches!((parse(&period.end), parse(collected_at)), (Some(end), Some(at)) if end > at)
}

/// The calendar quarter of `today`, the default period (`2026-Q4`).
pub fn current_quarter(today: NaiveDate) -> String {
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(label: &str, fiscal: u32) -> (String, String) {
        let p = resolve_period(label, fiscal).unwrap_or_else(|e| panic!("{label}: {e}"));
        (p.start, p.end)
    }

    #[test]
    fn calendar_quarters_halves_years_and_intervals() {
        let d = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            dates("2026-Q4", 1),
            d("2026-10-01T00:00:00Z", "2026-12-31T23:59:59Z")
        );
        assert_eq!(
            dates("2026-Q1", 1),
            d("2026-01-01T00:00:00Z", "2026-03-31T23:59:59Z")
        );
        assert_eq!(dates("2024-Q1", 1).1, "2024-03-31T23:59:59Z");
        assert_eq!(
            dates("2026-H2", 1),
            d("2026-07-01T00:00:00Z", "2026-12-31T23:59:59Z")
        );
        assert_eq!(
            dates("2026", 1),
            d("2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z")
        );
        assert_eq!(
            dates("2026-10-01/2026-12-31", 1),
            d("2026-10-01T00:00:00Z", "2026-12-31T23:59:59Z")
        );
        assert_eq!(dates("2026-02-28/2026-02-28", 1).1, "2026-02-28T23:59:59Z");
    }

    #[test]
    fn fiscal_years_are_named_by_the_year_they_start_in() {
        let d = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            dates("2026", 4),
            d("2026-04-01T00:00:00Z", "2027-03-31T23:59:59Z")
        );
        assert_eq!(
            dates("2026-Q1", 4),
            d("2026-04-01T00:00:00Z", "2026-06-30T23:59:59Z")
        );
        assert_eq!(
            dates("2026-Q4", 4),
            d("2027-01-01T00:00:00Z", "2027-03-31T23:59:59Z")
        );
        assert_eq!(dates("2026-H2", 10).0, "2027-04-01T00:00:00Z");
        assert_eq!(
            dates("2026-10-01/2026-12-31", 4).0,
            "2026-10-01T00:00:00Z",
            "an interval is dates, never fiscal"
        );
    }

    #[test]
    fn malformed_inverted_and_bad_fiscal_starts_are_refused_with_the_reason() {
        for bad in [
            "",
            "2026-Q5",
            "2026-Q0",
            "26-Q4",
            "2026-H3",
            "Q4-2026",
            "2026/2027",
            "2026-10-01/2026-13-01",
            "2026-10-01/",
            "2026-q4",
            "2026-Q4 ",
        ] {
            let e = resolve_period(bad, 1).unwrap_err();
            assert!(matches!(e, PeriodError::Malformed(_)), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
        }
        assert_eq!(
            resolve_period("2026-12-31/2026-10-01", 1).unwrap_err(),
            PeriodError::Inverted("2026-12-31/2026-10-01".into())
        );
        assert_eq!(
            resolve_period("2026", 13).unwrap_err(),
            PeriodError::BadFiscalStart(13)
        );
        assert_eq!(
            resolve_period("2026", 0).unwrap_err(),
            PeriodError::BadFiscalStart(0)
        );
    }

    #[test]
    fn a_period_not_ended_at_collection_is_to_date() {
        let q4 = resolve_period("2026-Q4", 1).unwrap();
        assert!(period_to_date(&q4, "2026-11-26T06:00:00Z"));
        assert!(!period_to_date(&q4, "2027-01-02T06:00:00Z"));
        assert_eq!(
            current_quarter(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
            "2026-Q4"
        );
    }
}
