//! `period.html`: the period package for people. Self-contained like the run
//! report (inline CSS, no script, no external request), readable and
//! printable as it is: a timeline per control drawn as inline SVG (runs,
//! failure intervals, stretches without evidence, change exceptions), the
//! items that did not pass, the sample, the runs and the excluded bundles.
//! Every text from the runs is untrusted and escaped.

use std::fmt::Write;

use chrono::NaiveDate;

use super::csv::{days_text, intervals_text};
use super::model::{ControlPeriod, PeriodDoc};
use super::timeline::day_of;
use crate::evaluation::Verdict;

/// Items listed per control before the rest are left to `period.csv`: keeps
/// the page usable at thousands of accounts.
pub const MAX_ITEM_ROWS: usize = 200;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 64.0;
const AXIS: f64 = 46.0;

/// The whole page.
pub fn period_html(doc: &PeriodDoc) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!(
        "SOC 2 Type II period package: {} {}",
        doc.organization_id, doc.period.label
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body>\n",
        esc(&title)
    );
    cover(&mut page, doc, &title);
    overview(&mut page, doc);
    for control in &doc.controls {
        control_section(&mut page, doc, control);
    }
    runs_section(&mut page, doc);
    excluded_section(&mut page, doc);
    method_section(&mut page, doc);
    page.push_str("</body></html>\n");
    page
}

fn cover(page: &mut String, doc: &PeriodDoc, title: &str) {
    let s = &doc.summary;
    let _ = write!(
        page,
        "<header><h1>{}</h1><p>Period <b>{}</b>: {} to {}. Built by {} {} from {} runs; {} bundles excluded.</p>\
         <p class=\"counts\"><span class=\"v pass\">{} PASS</span> <span class=\"v fail\">{} FAIL</span> \
         <span class=\"v na\">{} NOT ASSESSED</span> <span class=\"v waived\">{} WAIVED</span> \
         <span class=\"v disabled\">{} DISABLED</span></p>\
         <p><b>Signatures:</b> {}</p><p><b>Sampling seed:</b> <code>{}</code> · default frequency {} \
         (runs at most {} days apart)</p></header>",
        esc(title),
        esc(&doc.period.label),
        esc(&doc.period.start),
        esc(&doc.period.end),
        esc(&doc.tool.name),
        esc(&doc.tool.version),
        s.runs,
        s.excluded,
        s.pass,
        s.fail,
        s.not_assessed,
        s.waived,
        s.disabled,
        esc(&doc.signatures),
        esc(&doc.seed),
        esc(&doc.settings.frequency),
        doc.settings.max_gap_days,
    );
    page.push('\n');
}

fn overview(page: &mut String, doc: &PeriodDoc) {
    page.push_str(
        "<section><h2>Controls over the period</h2><table><thead><tr><th>Control</th><th>Period verdict</th>\
         <th>Frequency</th><th>Why</th><th>Sample</th></tr></thead><tbody>\n",
    );
    for c in &doc.controls {
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#c-{}\">{}</a><br><small>{}</small></td><td>{}</td><td>{} (≤ {} days)</td><td>{}</td><td>{} of {}</td></tr>",
            esc(&c.id),
            esc(&c.id),
            esc(&c.title),
            badge(c.status),
            esc(&c.frequency),
            c.max_gap_days,
            esc(&c.message),
            c.sample.size,
            c.sample.population
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn control_section(page: &mut String, doc: &PeriodDoc, c: &ControlPeriod) {
    let _ = write!(
        page,
        "<section class=\"control\" id=\"c-{}\"><h3>{} <small>{}</small> {}</h3><p>{}</p>",
        esc(&c.id),
        esc(&c.id),
        esc(&c.title),
        badge(c.status),
        esc(&c.message)
    );
    timeline_svg(page, doc, c);
    if !c.failure_intervals.is_empty() {
        let _ = write!(
            page,
            "<p><b>Failing:</b> {}</p>",
            esc(&intervals_text(&c.failure_intervals))
        );
    }
    items_table(page, c);
    sample_table(page, doc, c);
    page.push_str("</section>\n");
}

/// The control's timeline: the period as an axis of days, a tick per run
/// coloured by the control's verdict in it, failure intervals shaded red,
/// stretches without evidence longer than allowed hatched grey, change
/// exceptions as orange marks. `<title>` elements give each mark its text.
fn timeline_svg(page: &mut String, doc: &PeriodDoc, c: &ControlPeriod) {
    let (Some(start), Some(end)) = (day_of(&doc.period.start), day_of(&doc.period.end)) else {
        return;
    };
    let span = ((end - start).num_days() + 1).max(1) as f64;
    let x = |d: NaiveDate| ((d - start).num_days() as f64 / span * WIDTH).clamp(0.0, WIDTH);
    let dx = WIDTH / span;
    let _ = write!(
        page,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-label=\"Timeline of {} over {}\">\
         <rect x=\"0\" y=\"10\" width=\"{WIDTH}\" height=\"30\" class=\"track\"/>",
        esc(&c.id),
        esc(&doc.period.label)
    );
    // Stretches without evidence (any item's uncovered days, merged per day range).
    let mut uncovered: Vec<(String, String)> = c
        .items
        .iter()
        .flat_map(|i| i.uncovered.iter().map(|d| (d.from.clone(), d.to.clone())))
        .collect();
    uncovered.sort();
    uncovered.dedup();
    for (from, to) in uncovered.iter().take(500) {
        if let (Some(f), Some(t)) = (day_of(from), day_of(to)) {
            let _ = write!(
                page,
                "<rect x=\"{:.1}\" y=\"10\" width=\"{:.1}\" height=\"30\" class=\"gap\"><title>no evidence {} to {}</title></rect>",
                x(f),
                (x(t) - x(f) + dx).max(1.0),
                esc(from),
                esc(to)
            );
        }
    }
    for f in &c.failure_intervals {
        if let Some(from) = day_of(&f.from) {
            let to = f.to.as_deref().and_then(day_of).unwrap_or(end);
            let class = if f.waived { "waivedspan" } else { "failspan" };
            let _ = write!(
                page,
                "<rect x=\"{:.1}\" y=\"10\" width=\"{:.1}\" height=\"30\" class=\"{class}\"><title>failing from {} to {}</title></rect>",
                x(from),
                (x(to) - x(from)).max(dx),
                esc(&f.from),
                esc(f.to.as_deref().unwrap_or("the end of the period"))
            );
        }
    }
    for (p, letter) in c.timeline.chars().enumerate() {
        let Some(run) = doc.runs.get(p) else { break };
        if letter == '-' {
            continue;
        }
        if let Some(d) = day_of(&run.started_at) {
            let _ = write!(
                page,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"12\" y2=\"38\" class=\"run {1}\"><title>{2}: {3}</title></line>",
                x(d) + dx / 2.0,
                letter_class(letter),
                esc(&run.started_at),
                letter_name(letter)
            );
        }
    }
    let mut exceptions: Vec<&str> = c
        .items
        .iter()
        .flat_map(|i| i.exceptions.iter().map(|e| e.time.as_str()))
        .collect();
    exceptions.sort_unstable();
    exceptions.dedup();
    for time in exceptions.iter().take(500) {
        if let Some(d) = day_of(time) {
            let cx = x(d) + dx / 2.0;
            let _ = write!(
                page,
                "<path d=\"M{cx:.1} 2 l4 5 l-4 5 l-4 -5 z\" class=\"exception\"><title>change exception {}</title></path>",
                esc(time)
            );
        }
    }
    axis(page, start, end, &x);
    page.push_str("</svg>");
}

/// Month labels along the bottom.
fn axis(page: &mut String, start: NaiveDate, end: NaiveDate, x: &dyn Fn(NaiveDate) -> f64) {
    let mut d = start;
    while d <= end {
        let _ = write!(
            page,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"40\" y2=\"{AXIS}\" class=\"tick\"/><text x=\"{0:.1}\" y=\"{1}\" class=\"label\">{2}</text>",
            x(d),
            AXIS + 12.0,
            d.format("%Y-%m-%d")
        );
        d = match d.checked_add_months(chrono::Months::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
}

fn items_table(page: &mut String, c: &ControlPeriod) {
    let not_passed: Vec<_> = c
        .items
        .iter()
        .filter(|i| i.status != Verdict::Pass)
        .collect();
    let passed = c.items.len() - not_passed.len();
    let _ = write!(
        page,
        "<p>{passed} of {} account × region items passed in every run with no gap.</p>",
        c.items.len()
    );
    if not_passed.is_empty() {
        return;
    }
    page.push_str(
        "<table><thead><tr><th>Account</th><th>Region</th><th>Verdict</th><th>Runs</th><th>Failing</th>\
         <th>No evidence</th><th>Exceptions</th><th>Waivers</th></tr></thead><tbody>",
    );
    for i in not_passed.iter().take(MAX_ITEM_ROWS) {
        let exceptions: Vec<String> = i
            .exceptions
            .iter()
            .map(|e| {
                format!(
                    "{} {} by {}{}",
                    e.time,
                    e.event,
                    e.principal.as_deref().unwrap_or("unknown"),
                    e.waiver_ticket
                        .as_deref()
                        .map(|t| format!(" (accepted: {t})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let waivers: Vec<String> = i
            .waivers
            .iter()
            .map(|w| {
                format!(
                    "{} (expires {}; runs {} to {})",
                    w.ticket, w.expires, w.first_run, w.last_run
                )
            })
            .collect();
        let mut gaps = days_text(&i.uncovered);
        if !i.not_assessed_runs.is_empty() {
            if !gaps.is_empty() {
                gaps.push_str("; ");
            }
            gaps.push_str(&format!(
                "not assessed in the runs of {}",
                i.not_assessed_runs.join(", ")
            ));
        }
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.account_id),
            esc(i.region.as_deref().unwrap_or("global")),
            badge(i.status),
            esc(&i.timeline),
            esc(&intervals_text(&i.failure_intervals)),
            esc(&gaps),
            esc(&exceptions.join("; ")),
            esc(&waivers.join("; "))
        );
    }
    page.push_str("</tbody></table>");
    if not_passed.len() > MAX_ITEM_ROWS {
        let _ = write!(
            page,
            "<p>… and {} more items that did not pass: see period.csv.</p>",
            not_passed.len() - MAX_ITEM_ROWS
        );
    }
}

fn sample_table(page: &mut String, doc: &PeriodDoc, c: &ControlPeriod) {
    let _ = write!(
        page,
        "<details open><summary>Sample: {} of {} runs ({} frequency)</summary><table><thead><tr><th>Run</th><th>Bundle</th><th>SHA-256</th></tr></thead><tbody>",
        c.sample.size,
        c.sample.population,
        esc(&c.frequency)
    );
    for sha in &c.sample.bundles {
        if let Some(run) = doc.runs.iter().find(|r| &r.sha256 == sha) {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&run.started_at),
                esc(&run.bundle),
                esc(sha)
            );
        }
    }
    page.push_str("</tbody></table></details>");
}

fn runs_section(page: &mut String, doc: &PeriodDoc) {
    page.push_str(
        "<section><h2>Runs used</h2><table><thead><tr><th>#</th><th>Collected</th><th>Bundle</th><th>SHA-256</th>\
         <th>Signed by</th><th>PASS / FAIL / NOT ASSESSED / WAIVED</th></tr></thead><tbody>",
    );
    for (n, r) in doc.runs.iter().enumerate() {
        let where_ = match &r.locker_key {
            Some(key) => format!("{} (locker key {key})", r.bundle),
            None => r.bundle.clone(),
        };
        let signers = if r.signers.is_empty() {
            "unsigned".to_string()
        } else {
            r.signers.join(", ")
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{} to {}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} / {} / {} / {}</td></tr>",
            n + 1,
            esc(&r.started_at),
            esc(&r.finished_at),
            esc(&where_),
            esc(&r.sha256),
            esc(&signers),
            r.controls[0],
            r.controls[1],
            r.controls[2],
            r.controls[3]
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn excluded_section(page: &mut String, doc: &PeriodDoc) {
    let _ = write!(
        page,
        "<section><h2>Bundles excluded ({})</h2>",
        doc.excluded.len()
    );
    if doc.excluded.is_empty() {
        page.push_str("<p>None: every bundle found was used.</p></section>\n");
        return;
    }
    page.push_str("<table><thead><tr><th>Bundle</th><th>Why</th><th>Detail</th><th>SHA-256</th></tr></thead><tbody>");
    for e in &doc.excluded {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&e.bundle),
            esc(&e.kind),
            esc(&e.reason),
            esc(e.sha256.as_deref().unwrap_or("unreadable"))
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn method_section(page: &mut String, doc: &PeriodDoc) {
    let sizes: Vec<String> = doc
        .settings
        .sample_sizes
        .iter()
        .map(|(f, n)| format!("{f}: {n}"))
        .collect();
    let _ = write!(
        page,
        "<section><h2>How these verdicts were derived</h2><ul>\
         <li>A control passes the period for an account × region only when every run passed, no stretch between runs \
         (or from the period's edges to the nearest run) is longer than its allowed gap, and no change exception stands.</li>\
         <li>A failure interval runs from the first failing run to the first passing run after it.</li>\
         <li>An account's days start when it joined (if during the period) and end at the first run after it was last active.</li>\
         <li>Sample sizes by frequency ({}): {}.</li>\
         <li>The sample: each run that evaluated the control is ranked by SHA-256 of <code>{}:&lt;control id&gt;:&lt;bundle sha256&gt;</code>; \
         the lowest ranks are drawn. Redraw it with <code>sha256sum</code> alone.</li>\
         <li>Timeline letters: P pass, F fail, N not assessed, W waived, D disabled, - not evaluated.</li></ul></section>",
        esc(&doc.settings.sample_source),
        esc(&sizes.join(", ")),
        esc(&doc.seed)
    );
    page.push('\n');
}

fn badge(v: Verdict) -> String {
    let class = match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::NotAssessed => "na",
        Verdict::Waived => "waived",
        Verdict::Disabled => "disabled",
    };
    format!(
        "<span class=\"v {class}\">{}</span>",
        v.label().replace('_', " ")
    )
}

fn letter_class(letter: char) -> &'static str {
    match letter {
        'P' => "pass",
        'F' => "fail",
        'N' => "na",
        'W' => "waived",
        _ => "disabled",
    }
}

fn letter_name(letter: char) -> &'static str {
    match letter {
        'P' => "PASS",
        'F' => "FAIL",
        'N' => "NOT ASSESSED",
        'W' => "WAIVED",
        _ => "DISABLED",
    }
}

/// Escapes text for HTML content and quoted attribute values (the run
/// report's escaping: every attribute here is quoted too).
fn esc(input: &str) -> String {
    crate::outputs::report_html::escape_html(input)
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24;padding:0 1rem}\
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ccd}h3{margin-bottom:.3rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d5d9e0;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#f2f4f7}code{font-size:12px;word-break:break-all}\
.v{display:inline-block;padding:0 .4rem;border-radius:3px;font-weight:600;font-size:12px}\
.v.pass{background:#d8f0dd;color:#145a24}.v.fail{background:#fbd9d9;color:#8a1111}.v.na{background:#fdeec8;color:#6b4a00}\
.v.waived{background:#e4e0f7;color:#3b2a86}.v.disabled{background:#e9ebee;color:#444}\
svg.timeline{display:block;max-width:100%;margin:.4rem 0}.track{fill:#f4f6f8;stroke:#c9ced6}\
.gap{fill:#9aa3ad;fill-opacity:.45}.failspan{fill:#d93a3a;fill-opacity:.25}.waivedspan{fill:#6b55c9;fill-opacity:.2}\
line.run{stroke-width:2}line.run.pass{stroke:#1f8a3b}line.run.fail{stroke:#c21d1d}line.run.na{stroke:#c98a00}\
line.run.waived{stroke:#6b55c9}line.run.disabled{stroke:#888}.exception{fill:#e07000}\
.tick{stroke:#888}.label{font-size:10px;fill:#444}section.control{page-break-inside:avoid;border-top:1px solid #e3e6ea;padding-top:.5rem}\
@media print{body{margin:0;max-width:none;font-size:11px}a{color:inherit;text-decoration:none}details>summary{list-style:none}}";
