//! `report.html`: the one self-contained page an external auditor opens.
//!
//! Logic lives in Rust, presentation in `templates/report.html.tera`:
//! [`view`] builds everything the page shows (counts, the criteria table, the
//! coverage matrix, per-control findings, the inventory, exceptions, waivers,
//! the evidence index, readable sizes and dates), [`links`] decides where file
//! links point (inside the bundle, or beside `results.json` in the out folder),
//! and the template only lays it out.
//!
//! Tera's autoescaping is on for the page, and nothing derived from evidence,
//! `org.json`, `run.json` or results may EVER be marked `| safe`: account names,
//! tags, OU paths and error messages are untrusted input. Only the stylesheet
//! and script embedded from `templates/` are inserted as they are. The page
//! loads nothing: no external file, font, image or request.

mod controls;
mod evidence;
mod links;
#[cfg(test)]
mod tests;
mod view;

use serde::Serialize;
use tera::{Context, Tera};

pub use links::Links;

use super::ReportInput;
use crate::evaluation::{ResultsSource, Verdict};

/// The template's name in Tera; autoescaping is turned on for it.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../../../templates/report.html.tera");
/// The page after the controls' sections: the part of `report.html.tera`
/// after [`CONTROLS_MARKER`], a template of its own.
const TAIL_NAME: &str = "report-tail.html";
/// One control's section, written a control at a time between the page's
/// two parts.
const CONTROL_NAME: &str = "report-control.html";
const CONTROL_TEMPLATE: &str = include_str!("../../../../templates/report-control.html.tera");
/// Where the controls' sections go in `report.html.tera`: the page is
/// rendered in two parts around it, so that no more than one control's
/// section is a value in memory (at 10,000 accounts the sections were
/// ~45 % of the page's view).
const CONTROLS_MARKER: &str = "{# CONTROLS: each control's section, templates/report-control.html.tera, is written here a control at a time #}";
const STYLE: &str = include_str!("../../../../templates/report.css");
const SCRIPT: &str = include_str!("../../../../templates/report.js");

/// Error rendering the report (names the template).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Tera failed to parse or render the template; `detail` is the whole cause chain.
    #[error("report template {template} (templates/report.html.tera): {detail}")]
    Template {
        /// The template's name.
        template: &'static str,
        /// Tera's error and its causes.
        detail: String,
    },
    /// Writing the page failed (a full disk, a closed pipe).
    #[error("cannot write the report: {0}")]
    Write(#[source] std::io::Error),
}

impl From<tera::Error> for ReportError {
    /// Keeps Tera's whole cause chain: its top message alone says only "Failed to render".
    fn from(error: tera::Error) -> Self {
        let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
        let detail = chain.map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
        let template = TEMPLATE_NAME;
        ReportError::Template { template, detail }
    }
}

/// Renders the report as one self-contained HTML page whose evidence and
/// control links are made by `links` ([`Links::bundle`] for the bag's copy).
#[cfg(test)]
pub(crate) fn render_report(input: &ReportInput<'_>, links: &Links) -> Result<String, ReportError> {
    let mut page = Vec::new();
    write_report(input, links, &mut page)?;
    Ok(String::from_utf8(page).expect("Tera writes UTF-8"))
}

/// Writes the page to `out` as Tera renders it (see [`write_reports`]).
#[cfg(test)]
pub(crate) fn write_report(
    input: &ReportInput<'_>,
    links: &Links,
    mut out: impl std::io::Write,
) -> Result<(), ReportError> {
    write_reports(input, &mut [(links, &mut out)])
}

/// Writes each copy of the page (its links, where it goes) as Tera renders
/// it: the page itself is never a value in memory, only its view (which the
/// templates need whole) bar the controls' sections, which are made,
/// written and dropped one at a time. The copies differ only in their links
/// (the bag's and the out folder's) and are written side by side, so each
/// control's items are read back once for all of them.
pub(crate) fn write_reports(
    input: &ReportInput<'_>,
    copies: &mut [(&Links, &mut dyn std::io::Write)],
) -> Result<(), ReportError> {
    let tera = engine()?;
    let index = evidence::Index::new(input.evidence, evidence::LISTED_FILES_MAX);
    let mut pages = Vec::with_capacity(copies.len());
    for (links, out) in copies.iter_mut() {
        let page = view::page_view(input, links);
        let mut page = render_page_part(&tera, TEMPLATE_NAME, page, out)?;
        view::drop_head_only(&mut page);
        pages.push(page);
    }
    let mut exceptions = view::Exceptions::default();
    for c in input.results.controls() {
        for (links, out) in copies.iter_mut() {
            let mut values = serde_json::Map::new();
            values.insert("c".into(), view::control_section(&c, links, &index));
            let context = Context::from_value(serde_json::Value::Object(values))?;
            // The whitespace the template's loop over the controls put around each.
            out.write_all(b"\n ").map_err(ReportError::Write)?;
            tera.render_to(CONTROL_NAME, &context, &mut *out)
                .map_err(written)?;
            out.write_all(b" ").map_err(ReportError::Write)?;
        }
        exceptions.add(&c);
    }
    let last = copies.len().saturating_sub(1);
    for (n, ((links, out), mut page)) in copies.iter_mut().zip(pages).enumerate() {
        // The last copy takes the exceptions; the others, a copy each in turn.
        match n == last {
            true => std::mem::take(&mut exceptions).put_in(&mut page),
            false => exceptions.clone().put_in(&mut page),
        }
        view::put_tail_lists(&mut page, input, links, &index);
        render_page_part(&tera, TAIL_NAME, page, out)?;
    }
    Ok(())
}

/// Renders part `name` of the page from `page` (the view as `r`, with the
/// stylesheet and script), and gives `page` back for the next part. Made as
/// a map and moved in: `json!` and `Context::insert` would copy the view.
fn render_page_part(
    tera: &Tera,
    name: &str,
    page: serde_json::Value,
    out: &mut impl std::io::Write,
) -> Result<serde_json::Value, ReportError> {
    let mut values = serde_json::Map::new();
    values.insert("r".into(), page);
    values.insert("style".into(), STYLE.into());
    values.insert("script".into(), SCRIPT.into());
    let mut context = Context::from_value(serde_json::Value::Object(values))?;
    tera.render_to(name, &context, out).map_err(written)?;
    Ok(context.remove("r").unwrap_or_default())
}

/// Tera's error for a failed write is the write's: kept as
/// [`ReportError::Write`], so it is reported as the file that could not be
/// written, not as a template fault.
fn written(error: tera::Error) -> ReportError {
    match &error.kind {
        tera::ErrorKind::Io(kind) => {
            let source = std::error::Error::source(&error).map(|s| s.to_string());
            ReportError::Write(std::io::Error::new(
                *kind,
                source.unwrap_or_else(|| kind.to_string()),
            ))
        }
        _ => error.into(),
    }
}

/// The one Tera instance: the embedded templates (the page in two parts
/// around [`CONTROLS_MARKER`], and a control's section), every one with
/// autoescaping on.
fn engine() -> Result<Tera, ReportError> {
    let (head, tail) =
        TEMPLATE
            .split_once(CONTROLS_MARKER)
            .ok_or_else(|| ReportError::Template {
                template: TEMPLATE_NAME,
                detail: format!("the marker {CONTROLS_MARKER} is missing"),
            })?;
    let templates = [
        (TEMPLATE_NAME, head),
        (CONTROL_NAME, CONTROL_TEMPLATE),
        (TAIL_NAME, tail),
    ];
    let mut tera = Tera::default();
    tera.autoescape_on(templates.iter().map(|(name, _)| *name).collect());
    tera.set_escape_fn(escape_html);
    tera.register_filter("thousands", thousands_filter);
    tera.add_raw_templates(templates)?;
    Ok(tera)
}

/// `{{ n | thousands }}`: a count with thousands separators (`15,234`).
fn thousands_filter(
    value: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    match value.as_u64() {
        Some(n) => Ok(thousands(n as usize).into()),
        None => Err(tera::Error::msg(format!(
            "thousands: {value} is not a count"
        ))),
    }
}

/// `15234` → `15,234`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Escapes text for HTML content and for double- or single-quoted attribute
/// values: `&`, `<`, `>`, `"` and `'`. Tera's default also escapes `/`, which
/// no HTML context needs and which made every evidence path 5 bytes longer per
/// folder; every attribute in the template is quoted.
pub(crate) fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A verdict as shown: its label and the CSS class that colours it.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
struct Badge {
    label: &'static str,
    class: &'static str,
}

impl From<Verdict> for Badge {
    fn from(status: Verdict) -> Self {
        let class = match status {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotAssessed => "na",
            Verdict::Disabled => "off",
            Verdict::Waived => "waived",
        };
        let label = status.label();
        Badge { label, class }
    }
}
