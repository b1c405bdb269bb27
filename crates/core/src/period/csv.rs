//! `period.csv`: one row per control × account × region with its period
//! verdict, failure intervals and gaps, for the auditor's spreadsheet. The
//! `csv` crate does the quoting, so untrusted text cannot shift columns.

use super::model::{Days, FailureInterval, PeriodDoc};

/// The CSV's bytes.
pub fn period_csv(doc: &PeriodDoc) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "control_id",
        "control_title",
        "frequency",
        "max_gap_days",
        "control_period_status",
        "account_id",
        "region",
        "period_status",
        "runs_evaluated",
        "runs_failed",
        "failure_intervals",
        "longest_gap_days",
        "uncovered",
        "not_assessed_runs",
        "exceptions",
        "exceptions_not_accepted",
        "waiver_tickets",
    ])
    .expect("writing to memory");
    for c in &doc.controls {
        for i in &c.items {
            let evaluated = i
                .timeline
                .chars()
                .filter(|c| !matches!(c, '-' | 'D'))
                .count();
            let failed = i.timeline.chars().filter(|c| *c == 'F').count();
            let standing = i
                .exceptions
                .iter()
                .filter(|e| e.waiver_ticket.is_none())
                .count();
            let tickets: Vec<&str> = i.waivers.iter().map(|w| w.ticket.as_str()).collect();
            w.write_record([
                c.id.as_str(),
                &c.title,
                &c.frequency,
                &c.max_gap_days.to_string(),
                c.status.label(),
                &i.account_id,
                i.region.as_deref().unwrap_or("global"),
                i.status.label(),
                &evaluated.to_string(),
                &failed.to_string(),
                &intervals_text(&i.failure_intervals),
                &i.longest_gap.as_ref().map_or(0, |g| g.days).to_string(),
                &days_text(&i.uncovered),
                &i.not_assessed_runs.join("; "),
                &i.exceptions.len().to_string(),
                &standing.to_string(),
                &tickets.join("; "),
            ])
            .expect("writing to memory");
        }
    }
    w.into_inner().expect("flushing to memory")
}

/// `from – to` of each interval (`open` when it still failed at the last run).
pub fn intervals_text(intervals: &[FailureInterval]) -> String {
    intervals
        .iter()
        .map(|f| {
            let to = f.to.as_deref().unwrap_or("still failing at the last run");
            let waived = if f.waived { " (waived)" } else { "" };
            format!("{} to {to}{waived}", f.from)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `from to to (n days)` of each stretch.
pub fn days_text(stretches: &[Days]) -> String {
    stretches
        .iter()
        .map(|d| format!("{} to {} ({} days)", d.from, d.to, d.days))
        .collect::<Vec<_>>()
        .join("; ")
}
