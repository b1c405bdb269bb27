//! `summary.md`: a short Markdown summary for CI pages (GitHub's job summary,
//! GitLab merge-request notes): the gate's verdict, a table of controls that
//! need attention, and the exceptions register. The full detail stays in the
//! HTML report; this is what an engineer reads first.

use crate::evaluation::{ControlResult, ResultsSource, Verdict, WaiverState};
use crate::gate::GateDecision;

/// Renders the summary for `results` as decided by `decision`.
pub fn summary_markdown(source: &impl ResultsSource, decision: &GateDecision) -> String {
    let results = source.head();
    let verdict = if decision.passed { "PASSED" } else { "FAILED" };
    let c = &results.summary.controls;
    let mut md = format!(
        "## auditpack gate: {verdict}\n\n\
         Organization {}, period {}, evidence collected {} to {} ({} region(s)).\n\n\
         | PASS | FAIL | NOT ASSESSED | WAIVED | DISABLED |\n\
         |---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {} | {} |\n\n\
         {}\n",
        escape(&results.organization_id),
        escape(&results.period),
        escape(&results.collection_window.start),
        escape(&results.collection_window.end),
        results.regions.len(),
        c.pass,
        c.fail,
        c.not_assessed,
        c.waived,
        c.disabled,
        escape(&decision.summary),
    );
    // The controls' verdicts are known without their items; only those
    // listed are read with them.
    let attention: Vec<usize> = (results.controls.iter().enumerate())
        .filter(|(_, c)| {
            matches!(
                c.status,
                Verdict::Fail | Verdict::NotAssessed | Verdict::Waived
            )
        })
        .map(|(n, _)| n)
        .collect();
    if !attention.is_empty() {
        md.push_str(
            "\n### Controls that need attention\n\n\
             | Verdict | Control | Severity | Criteria | Items | First finding |\n\
             |---|---|---|---|---:|---|\n",
        );
        for n in attention {
            md.push_str(&control_row(&source.control(n)));
        }
    }
    if !results.waivers.is_empty() {
        md.push_str(
            "\n### Exceptions register\n\n\
             | State | Control | Scope | Approver | Ticket | Expires | Items |\n\
             |---|---|---|---|---|---|---:|\n",
        );
        for w in &results.waivers {
            let state = match w.state {
                WaiverState::Active => "active",
                WaiverState::Expired => "**expired**",
                WaiverState::Stale => "stale",
            };
            let scope = match (&w.account, &w.region) {
                (None, None) => "all".to_string(),
                (a, r) => [a.as_deref(), r.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
            };
            md.push_str(&format!(
                "| {state} | {} | {} | {} | {} | {} | {} |\n",
                escape(&w.control),
                escape(&scope),
                escape(&w.approver),
                escape(&w.ticket),
                escape(&w.expires),
                w.items
            ));
        }
    }
    md.push_str(
        "\nThe full report (`report.html`) and the evidence bundle are in the job's artifacts.\n",
    );
    md
}

fn control_row(control: &ControlResult) -> String {
    let (count, first) = control.findings(|s| s != Verdict::Pass);
    format!(
        "| {} | {} | {} | {} | {} of {} | {} |\n",
        control.status.label(),
        escape(&control.id),
        control.severity.as_str(),
        escape(&control.tsc.join(", ")),
        count,
        control.results.len(),
        escape(&truncate(&first, 200))
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Makes untrusted text (resource names, error messages) inert in Markdown:
/// no HTML, no links, no table breaks, one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_inject_markup() {
        let e = escape("<script>alert(1)</script> | [x](http://evil) `a`\nnext");
        assert_eq!(
            e,
            "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\[x\\](http://evil) \\`a\\` next"
        );
    }

    #[test]
    fn long_findings_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("ééé", 2), "éé…");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
