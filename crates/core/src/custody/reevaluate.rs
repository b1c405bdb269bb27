//! Re-evaluation: proof that a bundle's results follow from its evidence.
//!
//! The bag carries every input of the evaluation (`data/evidence/`,
//! `data/org.json`, `data/run.json`, `data/controls/`, and `data/auditpack.toml`
//! and `data/waivers.toml` when used). They are copied out of the verified bag
//! into a private temporary folder (each file re-checked against the manifest
//! as it is copied), evaluated with the same code as `auditpack report`, and
//! the outcome is compared with the bag's `results.json`. Evaluation is
//! deterministic (dates come from run.json), so any difference means the
//! results were not produced from this evidence by these controls: a
//! hand-edited `results.json` whose manifest was recomputed is caught here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::evaluation::{ControlResult, ControlSet, Results};
use crate::report::{evaluate_inputs, ReportRequest};

/// What re-evaluation found.
#[derive(Debug, Clone)]
pub struct Reevaluation {
    /// Controls re-evaluated.
    pub controls: usize,
    /// Scope items re-evaluated.
    pub items: usize,
    /// Each difference between the bag's results.json and the re-evaluation,
    /// naming control, account and region.
    pub differences: Vec<String>,
    /// Set when the bag was made by another auditpack version (its results
    /// may legitimately differ if the engine changed).
    pub version_note: Option<String>,
}

/// Why re-evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReevaluateError {
    /// Reading or copying the bag failed.
    #[error("{0}")]
    Bag(String),
    /// The bag's own inputs do not evaluate (a broken control file, …).
    #[error("the bundle's inputs cannot be evaluated: {0}")]
    Inputs(#[from] crate::report::PipelineError),
}

/// Re-evaluates the bag at `bag` (zip or folder), whose payload manifest is
/// `manifest` and whose results.json bytes are `results_json`.
pub(crate) fn reevaluate(
    bag: &Path,
    manifest: &BTreeMap<String, String>,
    results_json: &[u8],
) -> Result<Reevaluation, ReevaluateError> {
    let recorded = crate::outputs::results_json::parse_results(results_json)
        .map_err(|e| ReevaluateError::Bag(format!("data/results.json: unreadable ({e})")))?;
    let work = tempfile::Builder::new()
        .prefix("auditpack-reevaluate-")
        .tempdir()
        .map_err(|e| ReevaluateError::Bag(format!("cannot create a temporary folder: {e}")))?;
    let root = work.path();
    // The waivers file keeps the name results.json records (`waivers.toml:12`),
    // since that name is part of the results.
    let waivers_name = recorded
        .waivers
        .first()
        .and_then(|w| w.source.rsplit_once(':'))
        .map(|(file, _)| file.to_string())
        .filter(|f| !f.is_empty() && !f.contains(['/', '\\']) && f != "..")
        .unwrap_or_else(|| "waivers.toml".to_string());
    let target = |rel: &str| -> Option<PathBuf> {
        let data = rel.strip_prefix("data/")?;
        if let Some(evidence) = data.strip_prefix("evidence/") {
            return Some(root.join("evidence").join(evidence));
        }
        if let Some(control) = data.strip_prefix("controls/") {
            return Some(root.join("controls").join(control));
        }
        match data {
            "org.json" | "run.json" => Some(root.join("evidence").join(data)),
            "auditpack.toml" => Some(root.join("auditpack.toml")),
            "waivers.toml" => Some(root.join(&waivers_name)),
            _ => None,
        }
    };
    crate::custody::bag_check::copy_payload(bag, manifest, &target)
        .map_err(|e| ReevaluateError::Bag(e.to_string()))?;
    let present = |p: PathBuf| p.is_file().then_some(p);
    let request = ReportRequest {
        evidence: root.join("evidence"),
        out: root.join("out"),
        controls: ControlSet::only(&root.join("controls")),
        config: present(root.join("auditpack.toml")),
        waivers: present(root.join(&waivers_name)),
        // Only the verdicts are compared; summary.md is not rewritten.
        fail_on: crate::evaluation::Severity::Low,
    };
    let evaluated = evaluate_inputs(&request)?;
    let fresh = evaluated.results;
    let version_note = (fresh.tool != recorded.tool).then(|| {
        format!(
            "the bundle was evaluated by {} {}, this is {} {}; differences may come from the engine",
            recorded.tool.name, recorded.tool.version, fresh.tool.name, fresh.tool.version
        )
    });
    Ok(Reevaluation {
        controls: fresh.controls.len(),
        items: fresh.controls.iter().map(|c| c.results.len()).sum(),
        differences: compare(&recorded, &fresh),
        version_note,
    })
}

/// Every difference between the recorded and the re-evaluated results, named
/// by control, account and region (the tool version is left out: it is
/// reported separately).
pub(crate) fn compare(recorded: &Results, fresh: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let top = |r: &Results| {
        let mut v = serde_json::to_value(r).expect("results serialise");
        if let Value::Object(map) = &mut v {
            map.remove("controls");
            map.remove("tool");
        }
        v
    };
    diff_values("results.json", &top(recorded), &top(fresh), &mut out);
    let by_id = |r: &Results| -> BTreeMap<String, ControlResult> {
        r.controls
            .iter()
            .map(|c| (c.id.clone(), c.clone()))
            .collect()
    };
    let (old, new) = (by_id(recorded), by_id(fresh));
    for id in old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (old.get(id), new.get(id)) {
            (Some(_), None) => out.push(format!(
                "{id}: in results.json, but the bundle's controls have no such control"
            )),
            (None, Some(_)) => out.push(format!(
                "{id}: evaluated from the bundle's controls, but missing from results.json"
            )),
            (Some(a), Some(b)) => compare_control(a, b, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn compare_control(a: &ControlResult, b: &ControlResult, out: &mut Vec<String>) {
    if a.status != b.status {
        out.push(format!(
            "{}: results.json says {}, re-evaluation gives {}",
            a.id,
            a.status.label(),
            b.status.label()
        ));
    }
    let fields = |c: &ControlResult| {
        let mut v = serde_json::to_value(c).expect("control serialises");
        if let Value::Object(map) = &mut v {
            map.remove("results");
            map.remove("status");
            // Where the definition came from at report time; re-evaluation
            // always reads the bundle's copy (whose hash is compared).
            map.remove("origin");
        }
        v
    };
    diff_values(&a.id, &fields(a), &fields(b), out);
    let key = |r: &crate::evaluation::ItemResult| {
        format!(
            "{} {}",
            r.account_id,
            r.region.as_deref().unwrap_or("global")
        )
    };
    let items = |c: &ControlResult| -> BTreeMap<String, Value> {
        c.results
            .iter()
            .map(|r| (key(r), serde_json::to_value(r).expect("item serialises")))
            .collect()
    };
    let (old, new) = (items(a), items(b));
    for k in old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let name = format!("{} {k}", a.id);
        match (old.get(k), new.get(k)) {
            (Some(_), None) => out.push(format!(
                "{name}: in results.json, but not in the re-evaluated population"
            )),
            (None, Some(_)) => out.push(format!(
                "{name}: re-evaluated, but missing from results.json"
            )),
            (Some(x), Some(y)) if x["status"] != y["status"] => out.push(format!(
                "{name}: results.json says {}, re-evaluation gives {}",
                label(&x["status"]),
                label(&y["status"])
            )),
            (Some(x), Some(y)) => diff_values(&name, x, y, out),
            (None, None) => {}
        }
    }
}

fn label(status: &Value) -> String {
    status.as_str().unwrap_or("?").replace('_', " ")
}

/// Names each differing leaf as `prefix: path` with both values (shortened).
fn diff_values(prefix: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    fn walk(path: &str, a: &Value, b: &Value, leaves: &mut Vec<(String, String, String)>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let null = Value::Null;
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(
                        &p,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        leaves,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}[{i}]"), p, q, leaves);
                }
            }
            _ if a != b => leaves.push((path.to_string(), short(a), short(b))),
            _ => {}
        }
    }
    let mut leaves = Vec::new();
    walk("", a, b, &mut leaves);
    for (path, x, y) in leaves {
        out.push(format!(
            "{prefix}: {path} is {x} in results.json, re-evaluation gives {y}"
        ));
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_control_account_and_region_that_differ() {
        let item = |status: &str| {
            serde_json::json!({
                "account_id": "111111111111", "account_name": "m", "region": "eu-west-1",
                "status": status, "message": "", "assertions": [], "evidence": []
            })
        };
        let results = |status: &str| -> Results {
            serde_json::from_value(serde_json::json!({
                "schema_version": 1,
                "tool": {"name": "auditpack", "version": "0.1.0"},
                "organization_id": "o-x", "management_account_id": "111111111111",
                "period": "2026-Q4", "generated_at": "t",
                "collection_window": {"start": "s", "end": "t"},
                "home_region": "us-east-1", "regions": ["eu-west-1"],
                "summary": {"controls": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0},
                            "items": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0}},
                "controls": [{
                    "id": "config.recording", "title": "t", "tsc": [], "severity": "high",
                    "status": status, "message": null, "objective": "", "procedure": "",
                    "scope_accounts": "all", "scope_regions": "each", "params": {},
                    "assertions": [], "file": "config.recording.toml", "results": [item(status)]
                }]
            }))
            .unwrap()
        };
        assert!(compare(&results("FAIL"), &results("FAIL")).is_empty());
        let diffs = compare(&results("PASS"), &results("FAIL"));
        assert_eq!(
            diffs,
            [
                "config.recording: results.json says PASS, re-evaluation gives FAIL",
                "config.recording 111111111111 eu-west-1: results.json says PASS, re-evaluation gives FAIL"
            ]
        );
    }
}
