//! `changes.csv`: the change population of the audit period, one row per
//! change event a control declares (exceptions, managed changes and refused
//! attempts), what an auditor samples from for change-management testing
//! (CC8.1). Written beside the report and into the bundle.
//!
//! Every text comes from CloudTrail records, so from whoever made the call:
//! the `csv` crate does the quoting, and a cell a spreadsheet would read as a
//! formula (`=`, `+`, `-`, `@`, tab or carriage return first) is prefixed
//! with `'`.

use crate::evaluation::{ChangeRecord, ResultsSource};

/// The header of `changes.csv` (also the columns of the workbook's Changes sheet).
pub(crate) const CHANGES_HEADER: [&str; 17] = [
    "control_id",
    "account_id",
    "account_name",
    "region",
    "kind",
    "time",
    "event",
    "identity_type",
    "principal",
    "session_issuer",
    "mfa",
    "source_ip",
    "error_code",
    "restored_at",
    "event_id",
    "request_parameters",
    "waiver_ticket",
];

/// `changes.csv` of `results`, in memory (see [`write_changes_csv`]).
#[cfg(test)]
pub(crate) fn changes_csv(results: &impl ResultsSource) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_changes_csv(results, &mut bytes).expect("writing to memory");
    bytes
}

/// Writes `changes.csv` of `results` to `out` row by row, a control's items
/// at a time.
pub(crate) fn write_changes_csv(
    results: &impl ResultsSource,
    out: impl std::io::Write,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CHANGES_HEADER)?;
    for c in results.controls() {
        for item in &c.results {
            let Some(period) = &item.period else { continue };
            let kinds = [
                ("exception", &period.exceptions),
                ("managed", &period.managed),
                ("refused", &period.refused),
            ];
            for (kind, records) in kinds {
                for r in records {
                    let region = item.region.clone().unwrap_or_else(|| "global".into());
                    let row = change_row(
                        &c.id,
                        &item.account_id,
                        &item.account_name,
                        &region,
                        kind,
                        r,
                    );
                    w.write_record(row.iter().map(|cell| defused(cell)))?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// One change as a row of `CHANGES_HEADER`'s columns, as recorded (not defused).
pub(crate) fn change_row(
    control: &str,
    account_id: &str,
    account_name: &str,
    region: &str,
    kind: &str,
    r: &ChangeRecord,
) -> [String; 17] {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        control.into(),
        account_id.into(),
        account_name.into(),
        region.into(),
        kind.into(),
        r.time.clone(),
        r.event.clone(),
        text(&r.identity_type),
        text(&r.principal),
        text(&r.session_issuer),
        r.mfa
            .map(|m| if m { "yes" } else { "no" }.to_string())
            .unwrap_or_default(),
        text(&r.source_ip),
        text(&r.error_code),
        text(&r.restored_at),
        text(&r.event_id),
        r.request_parameters
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        r.waiver
            .as_ref()
            .map(|w| w.ticket.clone())
            .unwrap_or_default(),
    ]
}

/// A cell a spreadsheet would not evaluate.
fn defused(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(defused("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defused("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defused("-1+2"), "'-1+2");
        assert_eq!(defused("arn:aws:iam::1:user/a"), "arn:aws:iam::1:user/a");
        assert_eq!(defused(""), "");
    }
}
