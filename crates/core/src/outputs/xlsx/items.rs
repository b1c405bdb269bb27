//! What the workbook reads of each control's items, and in what pieces.
//!
//! A table is declared with its last row before its rows are written
//! (constant-memory mode), so each large sheet needs its rows counted first.
//! Counting them by making them read every item in full twice (the
//! exceptions, the changes) and held each control's items whole (a control
//! sheet): at 10,000 accounts × 4 regions the workbook parsed ~3.5 GB of
//! items and held the largest control's 40,000. Here one pass counts every
//! sheet's rows from the few fields that decide them ([`Tally`]); the rows
//! are then made a piece of items at a time, each sheet's items parsed with
//! only the fields it shows.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::evaluation::{AssertionResult, ItemPeriod, ResultsSource, StoredResults, Verdict};

/// A control's items as the workbook counts them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    /// The control sheet's rows: one per item and evidence file (one for an
    /// item with none).
    pub(super) evidence_rows: usize,
    /// The exceptions sheet's rows of the items: one per requirement not
    /// assessed.
    pub(super) not_assessed: usize,
    /// The changes sheet's rows: one per change recorded.
    pub(super) changes: usize,
    /// Whether an item failed, before or after a waiver (its remediation
    /// shows then).
    pub(super) failed: bool,
}

/// The fields of an item that decide its [`Tally`]; the rest is skipped
/// unparsed.
#[derive(Deserialize)]
struct CountedFields {
    status: Verdict,
    #[serde(default)]
    assertions: Vec<StatusOnly>,
    #[serde(default)]
    evidence: Vec<IgnoredAny>,
    #[serde(default)]
    waiver: Option<WaiverStatus>,
    #[serde(default)]
    period: Option<ChangeCounts>,
}

#[derive(Deserialize)]
struct StatusOnly {
    status: Verdict,
}

#[derive(Deserialize)]
struct WaiverStatus {
    original_status: Verdict,
}

#[derive(Deserialize)]
struct ChangeCounts {
    #[serde(default)]
    managed: Vec<IgnoredAny>,
    #[serde(default)]
    exceptions: Vec<IgnoredAny>,
    #[serde(default)]
    refused: Vec<IgnoredAny>,
}

impl Tally {
    fn add(&mut self, item: &CountedFields) {
        self.evidence_rows += item.evidence.len().max(1);
        self.not_assessed += (item.assertions.iter())
            .filter(|a| a.status == Verdict::NotAssessed)
            .count();
        self.changes += (item.period.iter())
            .map(|p| p.managed.len() + p.exceptions.len() + p.refused.len())
            .sum::<usize>();
        self.failed |= item.status == Verdict::Fail
            || (item.waiver.as_ref()).is_some_and(|w| w.original_status == Verdict::Fail);
    }
}

/// Every control's [`Tally`], in order: one pass over the items.
pub(super) fn tallies(stored: &StoredResults) -> Vec<Tally> {
    (0..stored.head().controls.len())
        .map(|n| {
            let mut tally = Tally::default();
            for piece in stored.item_pieces::<CountedFields>(n) {
                piece.iter().for_each(|item| tally.add(item));
            }
            tally
        })
        .collect()
}

/// What the exceptions sheet shows of an item.
#[derive(Deserialize)]
pub(super) struct ExceptionItem {
    pub(super) account_id: String,
    pub(super) account_name: String,
    pub(super) region: Option<String>,
    pub(super) assertions: Vec<AssertionResult>,
}

/// What the changes sheet shows of an item.
#[derive(Deserialize)]
pub(super) struct ChangeItem {
    pub(super) account_id: String,
    pub(super) account_name: String,
    pub(super) region: Option<String>,
    #[serde(default)]
    pub(super) period: Option<ItemPeriod>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{AppliedWaiver, ChangeRecord, ControlResult};
    use crate::outputs::test_samples::samples;

    /// A control's tally as its items in full give it.
    fn tally_in_full(c: &ControlResult) -> Tally {
        let items = &c.results;
        Tally {
            evidence_rows: items.iter().map(|i| i.evidence.len().max(1)).sum(),
            not_assessed: (items.iter().flat_map(|i| &i.assertions))
                .filter(|a| a.status == Verdict::NotAssessed)
                .count(),
            changes: (items.iter().filter_map(|i| i.period.as_ref()))
                .map(|p| p.managed.len() + p.exceptions.len() + p.refused.len())
                .sum(),
            failed: items.iter().any(|i| {
                i.status == Verdict::Fail
                    || (i.waiver.as_ref()).is_some_and(|w| w.original_status == Verdict::Fail)
            }),
        }
    }

    fn change(event: &str) -> ChangeRecord {
        serde_json::from_value(serde_json::json!({
            "time": "2026-10-01T00:00:00Z", "event": event, "event_id": null,
            "identity_type": null, "principal": null, "session_issuer": null,
            "mfa": null, "source_ip": null, "request_parameters": null,
            "error_code": null, "restored_at": null
        }))
        .expect("a change record")
    }

    /// The counts made from the few fields read are those of the items in
    /// full, for every control of the samples, with changes and a failure
    /// hidden by a waiver added (the samples have neither).
    #[test]
    fn the_rows_counted_from_a_few_fields_are_those_of_the_items_in_full() {
        let mut e = samples();
        let items = (e.results.controls.iter_mut())
            .find(|c| c.results.len() > 2 && !c.results.iter().any(|i| i.status == Verdict::Fail))
            .map(|c| &mut c.results)
            .expect("a control with items and no failure");
        items[0].status = Verdict::Waived;
        items[0].waiver = Some(AppliedWaiver {
            original_status: Verdict::Fail,
            reason: "accepted".into(),
            approver: "ciso".into(),
            ticket: "RISK-1".into(),
            expires: "2027-01-01".into(),
        });
        items[1].period = Some(crate::evaluation::ItemPeriod {
            managed: vec![change("PutBucketPolicy")],
            exceptions: vec![change("DeleteTrail"), change("StopLogging")],
            ..Default::default()
        });
        e.refresh();
        let tallies = tallies(&e.stored);
        assert_eq!(tallies.len(), e.results.controls.len());
        for (c, tally) in e.results.controls.iter().zip(&tallies) {
            assert_eq!(*tally, tally_in_full(c), "{}", c.id);
        }
        assert!(tallies.iter().any(|t| t.changes == 3 && t.failed));
        assert!(tallies.iter().any(|t| t.not_assessed > 0));
        assert!(tallies.iter().any(|t| !t.failed && t.evidence_rows > 0));
    }
}
