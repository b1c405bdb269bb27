//! The CI gate: one pure decision over [`Results`], so a pipeline fails when a
//! control fails or could not be assessed (fail closed), and the reason is one
//! line a person can act on.

use serde::Serialize;

use crate::evaluation::{Results, Severity, Verdict, WaiverRecord, WaiverState};

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateDecision {
    /// True when every in-scope control at or above the threshold passed or was waived.
    pub passed: bool,
    /// The threshold (`--fail-on`).
    pub fail_on: Severity,
    /// Controls at or above the threshold that failed.
    pub failed: Vec<String>,
    /// Controls at or above the threshold that could not be assessed.
    pub not_assessed: Vec<String>,
    /// Controls whose every failure or gap is covered by an active waiver.
    pub waived: Vec<String>,
    /// Controls that passed (or were below the threshold).
    pub passing: usize,
    /// Controls turned off with a written reason.
    pub disabled: usize,
    /// Waivers past their expiry: they no longer waive anything.
    pub expired_waivers: Vec<String>,
    /// Waivers that matched no failure: the register needs tidying.
    pub stale_waivers: Vec<String>,
    /// The one-line reason.
    pub summary: String,
}

/// Why `results` cannot be gated on: statuses that do not follow from the
/// items they summarise. The gate decides from proven facts, so a results file
/// whose control says PASS while an item says FAIL (hand-edited, or forged in
/// an unsigned bundle), a summary that miscounts, or a file with no controls
/// at all is refused rather than read at its word. Empty when consistent.
pub fn consistency_problems(results: &Results) -> Vec<String> {
    let mut problems = Vec::new();
    if results.controls.is_empty() {
        problems.push("it has no controls: nothing was evaluated".to_string());
    }
    for control in &results.controls {
        problems.extend(control_problems(control));
    }
    if crate::evaluation::Summary::of(&results.controls) != results.summary {
        problems.push("its summary does not count its controls' and items' verdicts".to_string());
    }
    problems
}

/// A control's status must be what its items combine to (or, with no items,
/// a gap: NOT ASSESSED, DISABLED, or WAIVED as a whole); each item's status
/// what its assertions combine to, unless a waiver records the original.
fn control_problems(control: &crate::evaluation::ControlResult) -> Vec<String> {
    let mut problems = Vec::new();
    let expected = if control.results.is_empty() {
        match control.status {
            Verdict::NotAssessed | Verdict::Disabled | Verdict::Waived => control.status,
            _ => Verdict::NotAssessed,
        }
    } else {
        Verdict::all_of(control.results.iter().map(|r| r.status))
    };
    if control.status != expected {
        problems.push(format!(
            "control {} says {} but its items combine to {}",
            control.id,
            control.status.label(),
            expected.label()
        ));
    }
    for item in &control.results {
        let combined = Verdict::all_of(item.assertions.iter().map(|a| a.status));
        let consistent = match (&item.waiver, item.status) {
            (Some(w), Verdict::Waived) => w.original_status == combined,
            (None, status) => item.assertions.is_empty() || status == combined,
            (Some(_), _) => false,
        };
        if !consistent {
            problems.push(format!(
                "control {} item {}{} says {} but its requirements combine to {}",
                control.id,
                item.account_id,
                item.region
                    .as_deref()
                    .map(|r| format!("/{r}"))
                    .unwrap_or_default(),
                item.status.label(),
                combined.label()
            ));
        }
    }
    problems
}

/// Decides the gate: a FAIL or NOT_ASSESSED control of severity `fail_on` or
/// higher fails it; WAIVED counts as passing (the waiver is in the report) and
/// disabled controls do not count (their reason is in the report).
pub fn decide(results: &Results, fail_on: Severity) -> GateDecision {
    let mut failed = Vec::new();
    let mut not_assessed = Vec::new();
    let mut waived = Vec::new();
    let mut passing = 0;
    let mut disabled = 0;
    for control in &results.controls {
        let counts = control.severity >= fail_on;
        match control.status {
            Verdict::Fail if counts => failed.push(control.id.clone()),
            Verdict::NotAssessed if counts => not_assessed.push(control.id.clone()),
            Verdict::Waived => waived.push(control.id.clone()),
            Verdict::Disabled => disabled += 1,
            _ => passing += 1,
        }
    }
    let describe = |state: WaiverState| -> Vec<String> {
        results
            .waivers
            .iter()
            .filter(|w| w.state == state)
            .map(describe_waiver)
            .collect()
    };
    let expired_waivers = describe(WaiverState::Expired);
    let stale_waivers = describe(WaiverState::Stale);
    let passed = failed.is_empty() && not_assessed.is_empty();
    let mut decision = GateDecision {
        passed,
        fail_on,
        failed,
        not_assessed,
        waived,
        passing,
        disabled,
        expired_waivers,
        stale_waivers,
        summary: String::new(),
    };
    decision.summary = summary_line(&decision);
    decision
}

fn describe_waiver(w: &WaiverRecord) -> String {
    let place = match (&w.account, &w.region) {
        (None, None) => "every account".to_string(),
        (Some(a), None) => a.clone(),
        (None, Some(r)) => format!("every account in {r}"),
        (Some(a), Some(r)) => format!("{a}/{r}"),
    };
    format!(
        "{} for {place}, expires {} ({}, {})",
        w.control, w.expires, w.ticket, w.source
    )
}

/// The last line the gate prints: verdict first, then why, with counts.
fn summary_line(d: &GateDecision) -> String {
    let tally = format!(
        "{} passed, {} waived, {} disabled",
        d.passing,
        d.waived.len(),
        d.disabled
    );
    let mut notes = Vec::new();
    if !d.expired_waivers.is_empty() {
        notes.push(format!(
            "{} expired waiver(s) no longer waive",
            d.expired_waivers.len()
        ));
    }
    if !d.stale_waivers.is_empty() {
        notes.push(format!(
            "{} stale waiver(s) match nothing",
            d.stale_waivers.len()
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    let fail_on = d.fail_on.as_str();
    if d.passed {
        return format!("PASSED: {tally}; none failed or unassessed{notes} (fail-on: {fail_on})");
    }
    let mut parts = Vec::new();
    if !d.failed.is_empty() {
        parts.push(format!(
            "{} failed ({})",
            d.failed.len(),
            d.failed.join(", ")
        ));
    }
    if !d.not_assessed.is_empty() {
        parts.push(format!(
            "{} not assessed ({})",
            d.not_assessed.len(),
            d.not_assessed.join(", ")
        ));
    }
    format!(
        "FAILED: {}; {tally}{notes} (fail-on: {fail_on})",
        parts.join("; ")
    )
}

/// The gate's text output: one line per failing or unassessed control with
/// its first reason, one per expired or stale waiver, then the summary line.
pub fn text_report(results: &Results, decision: &GateDecision) -> String {
    let mut out = String::new();
    for control in &results.controls {
        let listed =
            decision.failed.contains(&control.id) || decision.not_assessed.contains(&control.id);
        if !listed {
            continue;
        }
        let (count, first) =
            control.findings(|s| matches!(s, Verdict::Fail | Verdict::NotAssessed));
        out.push_str(&format!(
            "{:<12} {} [{}] {} of {} item(s); first: {first}\n",
            control.status.label(),
            control.id,
            control.severity.as_str(),
            count,
            control.results.len(),
        ));
    }
    for w in &decision.expired_waivers {
        out.push_str(&format!("EXPIRED WAIVER {w}: no longer waives\n"));
    }
    for w in &decision.stale_waivers {
        out.push_str(&format!("STALE WAIVER   {w}: matches no failure\n"));
    }
    out.push_str(&decision.summary);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{ControlResult, Counts, Summary};

    fn results(controls: &[(&str, Severity, Verdict)]) -> Results {
        let control = |(id, severity, status): &(&str, Severity, Verdict)| ControlResult {
            id: id.to_string(),
            title: String::new(),
            tsc: vec![],
            severity: *severity,
            status: *status,
            message: None,
            objective: String::new(),
            procedure: String::new(),
            remediation: String::new(),
            scope_accounts: "all".into(),
            scope_regions: "global".into(),
            params: Default::default(),
            assertions: vec![],
            file: String::new(),
            origin: None,
            file_sha256: None,
            results: vec![],
            out_of_scope: vec![],
            matrix: false,
        };
        Results {
            schema_version: 1,
            tool: crate::evidence::ToolInfo {
                name: "auditpack".into(),
                version: "0".into(),
            },
            organization_id: "o-x".into(),
            management_account_id: "1".into(),
            period: "2026-Q4".into(),
            period_dates: None,
            period_to_date: false,
            generated_at: String::new(),
            collection_window: crate::evaluation::CollectionWindow {
                start: String::new(),
                end: String::new(),
            },
            home_region: "us-east-1".into(),
            regions: vec![],
            summary: Summary {
                controls: Counts::default(),
                items: Counts::default(),
            },
            controls: controls.iter().map(control).collect(),
            waivers: vec![],
            attachments: vec![],
            criteria: vec![],
        }
    }

    #[test]
    fn passes_only_when_nothing_fails_or_is_unassessed() {
        let all_pass = results(&[
            ("a.b", Severity::High, Verdict::Pass),
            ("c.d", Severity::Low, Verdict::Disabled),
        ]);
        let d = decide(&all_pass, Severity::Low);
        assert!(d.passed, "{}", d.summary);
        assert!(d.summary.starts_with("PASSED"));

        let failing = results(&[
            ("a.b", Severity::High, Verdict::Fail),
            ("c.d", Severity::Low, Verdict::NotAssessed),
        ]);
        let d = decide(&failing, Severity::Low);
        assert!(!d.passed);
        assert_eq!(d.failed, ["a.b"]);
        assert_eq!(d.not_assessed, ["c.d"]);
        assert!(
            d.summary.contains("1 failed (a.b)") && d.summary.contains("1 not assessed (c.d)"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn fail_on_ignores_lower_severities() {
        let r = results(&[
            ("a.b", Severity::Low, Verdict::Fail),
            ("c.d", Severity::Critical, Verdict::Pass),
        ]);
        assert!(decide(&r, Severity::High).passed);
        assert!(!decide(&r, Severity::Low).passed);
        assert!(decide(&r, Severity::High)
            .summary
            .ends_with("(fail-on: high)"));
    }
}
