//! `auditpack diff --format html`: one self-contained page (inline CSS, no
//! scripts, no external files). Labels and CSS classes are decided here; the
//! template only lays them out, with Tera's autoescaping on, because account
//! names, messages and parameter values come from the evidence.

use std::collections::BTreeSet;

use serde::Serialize;

use super::diff::{BundleDiff, ChangeKind};
use crate::evaluation::Verdict;

const TEMPLATE: &str = include_str!("diff.html");

/// Why the diff page could not be rendered: a bug in the page or its
/// template, never in the bundles (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum DiffHtmlError {
    /// The page's data could not be handed to the template engine.
    #[error("{0}")]
    Context(#[source] tera::Error),
    /// The template failed to render.
    #[error("rendering the diff page (src/custody/diff.html): {0}")]
    Render(#[source] tera::Error),
}

/// A verdict as the diff page shows it: its label and CSS class.
#[derive(Serialize)]
struct VerdictCell {
    label: &'static str,
    class: &'static str,
}

fn verdict(s: Option<Verdict>) -> VerdictCell {
    match s {
        None => VerdictCell {
            label: "—",
            class: "none",
        },
        Some(s) => VerdictCell {
            label: s.label(),
            class: match s {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::NotAssessed => "NOT_ASSESSED",
                Verdict::Disabled => "DISABLED",
                Verdict::Waived => "WAIVED",
            },
        },
    }
}

#[derive(Serialize)]
struct ControlRow {
    control: String,
    old: VerdictCell,
    new: VerdictCell,
}

#[derive(Serialize)]
struct ItemRow {
    control: String,
    account: String,
    region: String,
    old: VerdictCell,
    new: VerdictCell,
    message: String,
}

#[derive(Serialize)]
struct Group {
    label: &'static str,
    items: Vec<ItemRow>,
}

#[derive(Serialize)]
struct ParameterRow {
    control: String,
    name: String,
    old: String,
    new: String,
}

#[derive(Serialize)]
struct Page<'a> {
    empty: bool,
    old: &'a super::diff::Side,
    new: &'a super::diff::Side,
    accounts_added: &'a [super::diff::AccountChange],
    accounts_removed: &'a [super::diff::AccountChange],
    controls: Vec<ControlRow>,
    item_groups: Vec<Group>,
    parameters: Vec<ParameterRow>,
    definitions: &'a [super::diff::DefinitionChange],
}

/// Renders the diff as HTML.
pub fn render_html(d: &BundleDiff) -> Result<String, DiffHtmlError> {
    let kinds: BTreeSet<ChangeKind> = d.items.iter().map(|i| i.kind).collect();
    let value = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "(unset)".into())
    };
    let page = Page {
        empty: d.is_empty(),
        old: &d.old,
        new: &d.new,
        accounts_added: &d.accounts_added,
        accounts_removed: &d.accounts_removed,
        controls: d
            .controls
            .iter()
            .map(|c| ControlRow {
                control: c.control.clone(),
                old: verdict(c.old),
                new: verdict(c.new),
            })
            .collect(),
        item_groups: kinds
            .into_iter()
            .map(|kind| Group {
                label: kind.label(),
                items: d
                    .items
                    .iter()
                    .filter(|i| i.kind == kind)
                    .map(|i| ItemRow {
                        control: i.control.clone(),
                        account: format!("{} {}", i.account_id, i.account_name),
                        region: i.region.clone().unwrap_or_else(|| "global".into()),
                        old: verdict(i.old),
                        new: verdict(i.new),
                        message: i.message.clone(),
                    })
                    .collect(),
            })
            .collect(),
        parameters: d
            .parameters
            .iter()
            .map(|p| ParameterRow {
                control: p.control.clone(),
                name: p.name.clone(),
                old: value(&p.old),
                new: value(&p.new),
            })
            .collect(),
        definitions: &d.definitions,
    };
    let context = tera::Context::from_serialize(&page).map_err(DiffHtmlError::Context)?;
    tera::Tera::one_off(TEMPLATE, &context, true).map_err(DiffHtmlError::Render)
}
