//! `auditpack diff` as text (the default, for people) and as JSON (the
//! [`BundleDiff`] fields, for tools).

use std::collections::BTreeSet;

use serde_json::Value;

use super::diff::{AccountChange, BundleDiff, ChangeKind};
use crate::evaluation::Verdict;

fn status(s: Option<Verdict>) -> &'static str {
    s.map(Verdict::label).unwrap_or("—")
}

/// The diff for people (the default output).
pub fn render_text(d: &BundleDiff) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "old: {} (period {}, collected {})\nnew: {} (period {}, collected {})\n",
        d.old.bundle,
        d.old.period,
        d.old.collection_window,
        d.new.bundle,
        d.new.period,
        d.new.collection_window
    ));
    if d.is_empty() {
        t.push_str("\nno changes\n");
        return t;
    }
    let section = |t: &mut String, title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            t.push_str(&format!("\n{title} ({}):\n", lines.len()));
            for line in lines {
                t.push_str(&format!("  {line}\n"));
            }
        }
    };
    let account = |a: &AccountChange| format!("{} {}", a.account_id, a.name);
    section(
        &mut t,
        "accounts added",
        d.accounts_added.iter().map(account).collect(),
    );
    section(
        &mut t,
        "accounts removed",
        d.accounts_removed.iter().map(account).collect(),
    );
    section(
        &mut t,
        "controls",
        d.controls
            .iter()
            .map(|c| format!("{}: {} → {}", c.control, status(c.old), status(c.new)))
            .collect(),
    );
    let kinds: BTreeSet<ChangeKind> = d.items.iter().map(|i| i.kind).collect();
    for kind in kinds {
        section(
            &mut t,
            kind.label(),
            d.items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| {
                    let mut line = format!(
                        "{} {} ({}) {}: {} → {}",
                        i.control,
                        i.account_id,
                        i.account_name,
                        i.region.as_deref().unwrap_or("global"),
                        status(i.old),
                        status(i.new)
                    );
                    if !i.message.is_empty() && kind != ChangeKind::Fixed {
                        line.push_str(&format!(" — {}", i.message.replace('\n', "; ")));
                    }
                    line
                })
                .collect(),
        );
    }
    let value = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "(unset)".into())
    };
    section(
        &mut t,
        "parameters",
        d.parameters
            .iter()
            .map(|p| {
                format!(
                    "{} {}: {} → {}",
                    p.control,
                    p.name,
                    value(&p.old),
                    value(&p.new)
                )
            })
            .collect(),
    );
    section(
        &mut t,
        "definitions",
        d.definitions
            .iter()
            .map(|c| format!("{}: {}", c.file, c.what))
            .collect(),
    );
    t
}

/// The diff as JSON (the [`BundleDiff`] fields).
pub fn render_json(d: &BundleDiff) -> String {
    let mut text = serde_json::to_string_pretty(d).expect("diff serialises");
    text.push('\n');
    text
}
