//! The control catalog as a Markdown table (`auditpack controls list --format
//! markdown`), the table `docs/controls.md` carries. Generated, so the docs
//! cannot drift from the control files; a test compares the two.

use std::collections::BTreeSet;

use crate::evaluation::{AccountSelector, Control, RegionSelector};

/// The table's header row and separator.
const HEADER: &str = "| control | criteria | severity | scope (accounts / regions) | evidence sources | parameters (defaults) | requirements |\n|---|---|---|---|---|---|---|\n";

/// One row per control, in the order given (the loader sorts by id).
pub fn controls_table(controls: &[Control]) -> String {
    let mut out = String::from(HEADER);
    for control in controls {
        out.push_str(&row(control));
        out.push('\n');
    }
    out
}

fn row(c: &Control) -> String {
    let mut sources: BTreeSet<String> = c
        .evidence
        .iter()
        .map(|b| format!("`{}`", b.operation.source_name()))
        .collect();
    // A manual control reads attachments, and has three fixed requirements.
    let requirements = match &c.manual {
        Some(_) => {
            sources.insert("attachments (manual)".into());
            3
        }
        None => c.assertions.len(),
    };
    let params: Vec<String> = c
        .params
        .iter()
        .map(|(name, value)| format!("`{name}` = {}", param_text(value)))
        .collect();
    format!(
        "| `{}` | {} | {} | {} / {} | {} | {} | {} |",
        c.id,
        c.tsc.join(", "),
        c.severity.as_str(),
        accounts_text(c.accounts),
        regions_text(c.regions),
        sources.into_iter().collect::<Vec<_>>().join(", "),
        if params.is_empty() {
            "—".to_string()
        } else {
            params.join(", ")
        },
        requirements
    )
}

fn accounts_text(selector: AccountSelector) -> &'static str {
    match selector {
        AccountSelector::All => "all",
        AccountSelector::Role(role) => role.as_str(),
    }
}

fn regions_text(selector: RegionSelector) -> &'static str {
    match selector {
        RegionSelector::Global => "global",
        RegionSelector::Home => "home",
        RegionSelector::Each => "each",
    }
}

/// A parameter's default as TOML-like text: lists with `, ` between items.
fn param_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(param_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// `docs/controls.md` carries the table generated from `controls/`.
    #[test]
    fn docs_controls_table_is_generated_from_the_control_files() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let controls = crate::evaluation::load_controls(&repo.join("controls"))
            .expect("the shipped controls lint");
        let table = super::controls_table(&controls);
        let doc = std::fs::read_to_string(repo.join("docs/controls.md")).unwrap();
        assert!(
            doc.contains(&table),
            "docs/controls.md's catalog table is stale: replace it with the output of \
             `auditpack controls list --format markdown`:\n{table}"
        );
    }

    #[test]
    fn a_changed_control_changes_its_row() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut controls = crate::evaluation::load_controls(&repo.join("controls")).unwrap();
        let before = super::controls_table(&controls);
        controls[0].assertions.pop();
        assert_ne!(before, super::controls_table(&controls));
    }
}
