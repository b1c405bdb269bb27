//! `junit.xml`: the results as JUnit XML, which GitLab, Jenkins, Azure DevOps
//! and most CI dashboards display without plugins.
//!
//! Mapping: one `<testsuite>` per control, one `<testcase>` per account (×
//! region). FAIL is a `<failure>`; NOT_ASSESSED is an `<error>` (the test could
//! not run, and CI must not read it as a pass); WAIVED and DISABLED are
//! `<skipped>` with the waiver or the written reason. Written with `quick-junit`
//! (the serializer behind cargo-nextest), which handles XML escaping of
//! untrusted resource names and messages.

use std::io::Write;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::evaluation::{ControlResult, Counts, ItemResult, ResultsSource, Verdict};

/// Renders `results` as JUnit XML, in memory (see [`write_junit`]).
#[cfg(test)]
pub(crate) fn junit_xml(results: &impl ResultsSource) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_junit(results, &mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// Writes `results` as JUnit XML to `out` a control at a time: the bytes
/// `quick-junit` writes for the whole report, without its model of every
/// test case (~900 MB at 10,000 accounts × 4 regions, with JUnit's and
/// SARIF's models together). The totals on `<testsuites>` come first in the
/// file: they are counted from the verdicts kept beside the items
/// ([`suite_totals`]), so each suite is built once, to be written.
pub(crate) fn write_junit(source: &impl ResultsSource, mut out: impl Write) -> std::io::Result<()> {
    let results = source.head();
    let mut head = Report::new(format!(
        "auditpack {} {}",
        results.organization_id, results.period
    ));
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(&results.generated_at) {
        head.set_timestamp(time);
    }
    for n in 0..results.controls.len() {
        let suite = suite_totals(&results.controls[n], source.item_counts(n));
        head.tests += suite.tests;
        head.failures += suite.failures;
        head.errors += suite.errors;
        head.skipped += suite.skipped;
    }
    // An empty report is `<?xml …?>`, `<testsuites …>`, `</testsuites>`:
    // what precedes the end tag opens the file, and each control's suite is
    // what a report of that suite alone holds between the two tags (the
    // indentation depends on depth only, so the bytes are the same).
    let head = serialized(&head)?;
    let (opening, closing) = split_at_end_tag(&head);
    out.write_all(opening)?;
    for control in source.controls() {
        let mut one = Report::new("");
        one.add_test_suite(control_suite(&control));
        let bytes = serialized(&one)?;
        let start = bytes
            .windows(2)
            .position(|w| w == b">\n")
            .and_then(|decl_end| {
                let rest = &bytes[decl_end + 2..];
                rest.windows(2)
                    .position(|w| w == b">\n")
                    .map(|tag| decl_end + 2 + tag + 1)
            })
            .ok_or_else(|| std::io::Error::other("quick-junit wrote no <testsuites> tag"))?;
        let (suite, _) = split_at_end_tag(&bytes[start..]);
        out.write_all(suite)?;
    }
    out.write_all(closing)
}

/// `bytes` split before its last line break followed by `</testsuites>`.
fn split_at_end_tag(bytes: &[u8]) -> (&[u8], &[u8]) {
    const END: &[u8] = b"\n</testsuites>";
    let at = (bytes.windows(END.len()).rposition(|w| w == END)).unwrap_or(bytes.len());
    bytes.split_at(at)
}

fn serialized(report: &Report) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    report
        .serialize(&mut bytes)
        .map_err(std::io::Error::other)?;
    Ok(bytes)
}

/// A suite's totals, as [`control_suite`] counts its cases: from the
/// control's items by verdict (`counts`), or its one case when it has none.
fn suite_totals(control: &ControlResult, counts: Counts) -> Totals {
    let counts = match counts.total() {
        0 => Counts::of([control.status]),
        _ => counts,
    };
    Totals {
        tests: counts.total(),
        failures: counts.fail,
        errors: counts.not_assessed,
        skipped: counts.waived + counts.disabled,
    }
}

/// What `<testsuites>` and `<testsuite>` count.
#[derive(Debug, PartialEq, Eq)]
struct Totals {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn control_suite(control: &ControlResult) -> TestSuite {
    let mut suite = TestSuite::new(control.id.as_str());
    suite.add_properties([
        Property::new("title", control.title.as_str()),
        Property::new("severity", control.severity.as_str()),
        Property::new("criteria", control.tsc.join(", ")),
        Property::new("status", control.status.label()),
    ]);
    if control.results.is_empty() {
        // No population: one case stands for the control, so the gap is visible.
        let message = control.message.clone().unwrap_or_default();
        let mut case = TestCase::new(control.id.as_str(), status_for(control.status, &message));
        case.set_classname(control.id.as_str());
        suite.add_test_case(case);
    }
    suite.add_test_cases(control.results.iter().map(|item| item_case(control, item)));
    suite
}

fn item_case(control: &ControlResult, item: &ItemResult) -> TestCase {
    let name = match &item.region {
        Some(region) => format!("{} ({}) {region}", item.account_id, item.account_name),
        None => format!("{} ({})", item.account_id, item.account_name),
    };
    let message = match &item.waiver {
        Some(w) => format!(
            "WAIVED by {} ({}, until {}): {}. Original verdict {}: {}",
            w.approver,
            w.ticket,
            w.expires,
            w.reason,
            w.original_status.label(),
            item.message
        ),
        None => item.message.clone(),
    };
    let mut case = TestCase::new(name, status_for(item.status, &message));
    case.set_classname(control.id.as_str());
    case.set_assertions(item.assertions.len());
    case
}

fn status_for(status: Verdict, message: &str) -> TestCaseStatus {
    let first_line = message.lines().next().unwrap_or_default();
    let non_success = |kind, ty: &str| {
        let mut s = TestCaseStatus::non_success(kind);
        s.set_message(first_line)
            .set_type(ty)
            .set_description(message);
        s
    };
    match status {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => non_success(NonSuccessKind::Failure, "FAIL"),
        Verdict::NotAssessed => non_success(NonSuccessKind::Error, "NOT_ASSESSED"),
        Verdict::Waived | Verdict::Disabled => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(first_line)
                .set_type(status.label())
                .set_description(message);
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::Results;
    use crate::outputs::test_samples::samples;

    /// The whole report as `quick-junit` writes it from one model.
    fn whole(results: &Results) -> Vec<u8> {
        let mut report = Report::new(format!(
            "auditpack {} {}",
            results.organization_id, results.period
        ));
        if let Ok(time) = chrono::DateTime::parse_from_rfc3339(&results.generated_at) {
            report.set_timestamp(time);
        }
        report.add_test_suites(results.controls.iter().map(control_suite));
        serialized(&report).unwrap()
    }

    /// Written a control at a time, the file is byte for byte the one
    /// `quick-junit` writes from a model of the whole report: with every
    /// verdict, a control with no item, hostile text, and no control at all.
    #[test]
    fn streamed_junit_is_the_whole_report_byte_for_byte() {
        let mut results = samples().results;
        assert_eq!(junit_xml(&results), whole(&results));
        let statuses: std::collections::BTreeSet<&str> = (results.controls.iter())
            .flat_map(|c| c.results.iter().map(|i| i.status.label()))
            .collect();
        assert!(statuses.len() >= 3, "{statuses:?}");
        let item = &mut results.controls[0].results[0];
        item.account_name = "</testsuites>\n<x>&\"]]>".into();
        item.status = Verdict::Waived;
        results.controls[1].results.clear();
        results.controls[1].message = Some("no population </testsuite>".into());
        let written = junit_xml(&results);
        assert_eq!(written, whole(&results));
        let text = String::from_utf8(written).unwrap();
        assert_eq!(text.matches("<testsuite ").count(), results.controls.len());
        assert!(text.ends_with("</testsuites>\n"), "{text}");
        for (n, control) in results.controls.iter().enumerate() {
            let suite = control_suite(control);
            let built = Totals {
                tests: suite.tests,
                failures: suite.failures,
                errors: suite.errors,
                skipped: suite.skipped,
            };
            assert_eq!(
                suite_totals(control, results.item_counts(n)),
                built,
                "{}",
                control.id
            );
        }
        results.controls.clear();
        assert_eq!(junit_xml(&results), whole(&results));
    }
}
