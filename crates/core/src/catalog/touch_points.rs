//! The files outside the code that must stay in step with the catalog (see
//! "How to add an evidence source" in ARCHITECTURE.md). Each test names the
//! file to fix, so a forgotten step fails here rather than in an audit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{iam_policy::audit_role_policy, operations};

/// A file of the repository, read at test time.
fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The backticked codes after each `` `not_found` `` in a table row.
fn not_found_codes(row: &str) -> BTreeSet<String> {
    row.split("`not_found` (")
        .skip(1)
        .flat_map(|rest| rest.split(')').next())
        .flat_map(|inside| inside.split('`').skip(1).step_by(2))
        .map(String::from)
        .collect()
}

/// `docs/evidence-sources.md` has exactly one row per operation, and the
/// absence codes a row names are those its operation declares.
#[test]
fn evidence_sources_doc_lists_every_operation_and_its_absence_codes() {
    let doc = repo_file("docs/evidence-sources.md");
    let rows: BTreeMap<String, &str> = doc
        .lines()
        .filter_map(|line| {
            let name = line.strip_prefix("| `")?.split('`').next()?;
            name.contains(':').then(|| (name.to_string(), line))
        })
        .collect();
    let mut problems = Vec::new();
    for op in operations() {
        let name = op.source_name();
        match rows.get(&name) {
            None => problems.push(format!("no row for {name}")),
            Some(row) => {
                let declared: BTreeSet<String> =
                    op.not_found.iter().map(|c| c.to_string()).collect();
                if not_found_codes(row) != declared {
                    problems.push(format!(
                        "{name}: the row names not_found codes {:?}, the catalog declares {declared:?}",
                        not_found_codes(row)
                    ));
                }
            }
        }
    }
    for name in rows.keys() {
        if super::find_operation(name).is_none() {
            problems.push(format!("row for {name}, which the catalog does not have"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/evidence-sources.md is out of step with crates/core/src/catalog/:\n{}",
        problems.join("\n")
    );
}

/// The Terraform module ships the generated policy; it must not drift.
#[test]
fn terraform_policy_is_the_generated_one() {
    let path = "deploy/terraform/audit-role/policy.json";
    let shipped: serde_json::Value =
        serde_json::from_str(&repo_file(path)).expect("policy.json is JSON");
    assert_eq!(
        shipped,
        audit_role_policy(),
        "{path} is stale: run `auditpack iam-policy > {path}`"
    );
}

/// The case-file README lists the absence codes a case may use: every code
/// some operation declares, and no other.
#[test]
fn control_cases_readme_lists_every_absence_code() {
    let path = "controls/cases/README.md";
    let readme = repo_file(path);
    let line = readme
        .lines()
        .find(|l| l.contains("$not_found"))
        .unwrap_or_else(|| panic!("{path}: no $not_found row"));
    let listed: BTreeSet<&str> = line
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.ends_with("Error") || w.starts_with("NoSuch") || w.ends_with("Exception"))
        .collect();
    let declared: BTreeSet<&str> = operations()
        .flat_map(|op| op.not_found.iter().copied())
        .collect();
    assert_eq!(
        listed, declared,
        "{path}: the $not_found codes differ from the catalog's"
    );
}

#[test]
fn a_row_s_absence_codes_are_read() {
    assert_eq!(
        not_found_codes("| `x:Y` | all | `{}`; `not_found` (`NoSuchThing`) when absent |"),
        BTreeSet::from(["NoSuchThing".to_string()])
    );
    assert!(not_found_codes("| `x:Y` | all | `{}` |").is_empty());
}
