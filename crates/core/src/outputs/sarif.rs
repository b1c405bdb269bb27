//! `results.sarif`: SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).
//!
//! Mapping: one rule per control (criteria as tags, the test procedure as
//! help text, severity as level and GitHub's `security-severity`); one result
//! per FAIL or NOT_ASSESSED item, located at the control file and, logically,
//! at the account and region. NOT_ASSESSED is a result too, because a gap must
//! show where engineers look (fail closed); a WAIVED item is a result with an
//! external suppression carrying the waiver, so code scanning shows it as
//! dismissed with its justification. Types come from `serde-sarif`, which is
//! generated from the SARIF schema itself.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultKind, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};
use sha2::{Digest, Sha256};

use crate::evaluation::{ControlResult, ItemResult, ResultsSource, Severity, Verdict};

/// Where the SARIF 2.1.0 schema is published (the `$schema` of the log).
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders `results` as a SARIF 2.1.0 log, in memory (see [`write_sarif`]).
#[cfg(test)]
pub(crate) fn sarif_json(results: &impl ResultsSource) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_sarif(results, &mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// The `results` member of the run as `serde_json` writes it when empty: the
/// log is written around it, its findings streamed into it.
const EMPTY_RESULTS: &[u8] = br#""results":[]"#;

/// Writes `results` as a SARIF 2.1.0 log (compact JSON: it is read by code
/// scanning tools, and indentation was a third of its bytes) to `out`, a
/// finding at a time: the log is serialised with no finding, and each
/// control's findings are written into its empty `results` array, so the
/// bytes are those of the whole log without its model of every finding
/// (~900 MB at 10,000 accounts × 4 regions, with JUnit's and SARIF's models
/// together). The member can only appear once as written: a string holding
/// it has its quotes escaped.
pub(crate) fn write_sarif(
    source: &impl ResultsSource,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    let results = source.head();
    let driver = ToolComponent::builder()
        .name("auditpack")
        .version(results.tool.version.clone())
        .semantic_version(results.tool.version.clone())
        .rules(results.controls.iter().map(rule).collect::<Vec<_>>())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(Vec::<SarifResult>::new())
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let frame = serde_json::to_vec(&log)?;
    let at = (frame.windows(EMPTY_RESULTS.len()))
        .position(|w| w == EMPTY_RESULTS)
        .ok_or_else(|| std::io::Error::other("the SARIF log has no results member"))?;
    let (before, after) = frame.split_at(at + EMPTY_RESULTS.len() - 1);
    out.write_all(before)?;
    let mut first = true;
    for control in source.controls() {
        for finding in (control.results.iter()).filter_map(|item| finding(&control, item)) {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut out, &finding)?;
        }
    }
    out.write_all(after)?;
    out.write_all(b"\n")
}

fn rule(control: &ControlResult) -> ReportingDescriptor {
    let mut tags: Vec<String> = control.tsc.clone();
    tags.push("soc2".into());
    tags.push("compliance".into());
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_string(),
        serde_json::json!(security_severity(control.severity)),
    );
    let mut help = format!(
        "{}\n\nTest procedure: {}\n\nTrust Services Criteria: {}. Severity: {}.",
        control.objective,
        control.procedure,
        control.tsc.join(", "),
        control.severity.as_str()
    );
    // Code-scanning UIs show a rule's help beside each alert: the fix belongs there.
    if !control.remediation.is_empty() {
        help.push_str(&format!("\n\nRemediation: {}", control.remediation));
    }
    ReportingDescriptor::builder()
        .id(control.id.clone())
        .name(control.title.clone())
        .short_description(text(&control.title))
        .full_description(text(&control.objective))
        .help(text(&help))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!(level(control.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(extra)
                .build(),
        )
        .build()
}

fn finding(control: &ControlResult, item: &ItemResult) -> Option<SarifResult> {
    let verdict = match (item.status, &item.waiver) {
        (Verdict::Fail | Verdict::NotAssessed, _) => item.status,
        (Verdict::Waived, Some(w)) => w.original_status,
        _ => return None,
    };
    let place = item.place();
    let message = format!(
        "{} {} in account {} ({}){}: {}",
        control.id,
        verdict.label(),
        item.account_id,
        item.account_name,
        item.region
            .as_ref()
            .map(|r| format!(", region {r}"))
            .unwrap_or_default(),
        item.message
    );
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(format!("controls/{}", control.file))
                        .build(),
                )
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .logical_locations(vec![LogicalLocation::builder()
            .fully_qualified_name(place.clone())
            .kind("resource")
            .build()])
        .build();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        "auditpackItem/v1".to_string(),
        hex::encode(Sha256::digest(format!("{}|{place}", control.id).as_bytes())),
    );
    let mut result = SarifResult::builder()
        .rule_id(control.id.clone())
        .kind(ResultKind::Fail)
        .level(if verdict == Verdict::Fail {
            result_level(control.severity)
        } else {
            ResultLevel::Error
        })
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .build();
    if let Some(w) = &item.waiver {
        result.suppressions = Some(vec![Suppression::builder()
            .kind(serde_json::json!("external"))
            .status(serde_json::json!("accepted"))
            .justification(format!(
                "Waived by {} ({}, until {}): {}",
                w.approver, w.ticket, w.expires, w.reason
            ))
            .build()]);
    }
    Some(result)
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
    }
}

fn result_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium | Severity::Low => ResultLevel::Warning,
    }
}

/// GitHub's `security-severity` (0.0–10.0, shown as critical/high/medium/low).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The samples' SARIF against the OASIS 2.1.0 schema, with the jsonschema
/// crate: offline, in every `cargo test` (the Python check in tests/gate.rs
/// needs the emulator's venv).
#[cfg(test)]
mod schema_tests {
    use serde_json::Value;

    use super::sarif_json;
    use crate::outputs::test_samples::{repo, samples};

    #[test]
    fn the_samples_sarif_is_valid_2_1_0_and_carries_the_remediation() {
        let e = samples();
        let doc: Value = serde_json::from_slice(&sarif_json(&e.results)).unwrap();
        let path = repo().join("tests/fixtures/sarif-schema-2.1.0.json");
        let mut schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        // The published schema's `language` patterns have a stray `]`
        // (`…{2}]?$`), which Python's validator tolerates and this crate's
        // regex check refuses while compiling the schema. auditpack never
        // writes `language`; the patterns are corrected here, not in the file.
        let fixed = correct_language_patterns(&mut schema);
        assert!(fixed >= 2, "the erratum is still there ({fixed} patterns)");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .expect("the SARIF schema compiles");
        let errors: Vec<String> = (validator.iter_errors(&doc))
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        let mut broken = doc.clone();
        broken["version"] = "2.0.0".into();
        assert!(
            !validator.is_valid(&broken),
            "the schema is not a rubber stamp"
        );
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        for c in e
            .results
            .controls
            .iter()
            .filter(|c| !c.remediation.is_empty())
        {
            let rule = rules.iter().find(|r| r["id"] == c.id.as_str()).unwrap();
            let help = rule["help"]["text"].as_str().unwrap();
            assert!(help.contains("Remediation: "), "{}", c.id);
        }
    }

    /// Replaces the schema's erroneous `language` pattern wherever it is.
    fn correct_language_patterns(v: &mut Value) -> usize {
        const WRONG: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
        match v {
            Value::String(s) if s == WRONG => {
                *s = "^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$".into();
                1
            }
            Value::Object(map) => map.values_mut().map(correct_language_patterns).sum(),
            Value::Array(items) => items.iter_mut().map(correct_language_patterns).sum(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;
    use crate::evaluation::Results;
    use crate::outputs::test_samples::samples;

    /// The whole log as `serde-sarif` writes it from one model.
    fn whole(results: &Results) -> Vec<u8> {
        let driver = ToolComponent::builder()
            .name("auditpack")
            .version(results.tool.version.clone())
            .semantic_version(results.tool.version.clone())
            .rules(results.controls.iter().map(rule).collect::<Vec<_>>())
            .build();
        let findings: Vec<SarifResult> = (results.controls.iter())
            .flat_map(|c| c.results.iter().filter_map(move |i| finding(c, i)))
            .collect();
        let run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(findings)
            .build();
        let log = Sarif::builder()
            .schema(SCHEMA)
            .version(serde_json::json!("2.1.0"))
            .runs(vec![run])
            .build();
        let mut bytes = serde_json::to_vec(&log).unwrap();
        bytes.push(b'\n');
        bytes
    }

    /// Written a finding at a time, the log is byte for byte the one written
    /// from a model of the whole log: with findings, with a control title
    /// that spells the member the findings are written into, and with none.
    #[test]
    fn streamed_sarif_is_the_whole_log_byte_for_byte() {
        let mut results = samples().results;
        let written = sarif_json(&results);
        assert_eq!(written, whole(&results));
        let doc: serde_json::Value = serde_json::from_slice(&written).unwrap();
        assert!(doc["runs"][0]["results"].as_array().unwrap().len() >= 2);
        results.controls[0].title = r#"x","results":[],"y":"#.into();
        results.controls[0].results[0].account_name = r#""results":[]"#.into();
        assert_eq!(sarif_json(&results), whole(&results));
        for c in &mut results.controls {
            for i in &mut c.results {
                i.status = Verdict::Pass;
            }
        }
        let none = sarif_json(&results);
        assert_eq!(none, whole(&results));
        let doc: serde_json::Value = serde_json::from_slice(&none).unwrap();
        assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    }
}
