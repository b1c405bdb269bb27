//! `junit.xml`: the results as JUnit XML, which GitLab, Jenkins, Azure DevOps
//! and most CI dashboards display without plugins.
//!
//! Mapping: one `<testsuite>` per control, one `<testcase>` per account (×
//! region). FAIL is a `<failure>`; NOT_ASSESSED is an `<error>` (the test could
//! not run, and CI must not read it as a pass); WAIVED and DISABLED are
//! `<skipped>` with the waiver or the written reason. Written with `quick-junit`
//! (the serializer behind cargo-nextest), which handles XML escaping of
//! untrusted resource names and messages.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::evaluation::{ControlResult, ItemResult, Results, Verdict};

/// Renders `results` as JUnit XML.
pub(crate) fn junit_xml(results: &Results) -> Vec<u8> {
    let mut report = Report::new(format!(
        "auditpack {} {}",
        results.organization_id, results.period
    ));
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(&results.generated_at) {
        report.set_timestamp(time);
    }
    report.add_test_suites(results.controls.iter().map(control_suite));
    let mut bytes = Vec::new();
    report
        .serialize(&mut bytes)
        .expect("serialising to memory cannot fail");
    bytes
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
