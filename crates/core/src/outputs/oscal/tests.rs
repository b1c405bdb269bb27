//! The samples' OSCAL document: valid against NIST's published 1.1.2
//! Assessment Results schema (vendored in tests/fixtures/), the same bytes
//! for the same evidence, every evidence link resolving to a hashed resource,
//! and NOT ASSESSED never satisfied.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use crate::outputs::results_json::render_results;
use crate::outputs::test_samples::{input, repo, samples, Evaluated};

fn document(e: &Evaluated) -> (Vec<u8>, Value) {
    let bytes = oscal_assessment_results(&input(e), &render_results(&e.results));
    let value = serde_json::from_slice(&bytes).expect("the document is JSON");
    (bytes, value)
}

/// Every error of `doc` against NIST's schema, one per line.
fn schema_errors(doc: &Value) -> Vec<String> {
    let path = repo().join("tests/fixtures/oscal_assessment-results_schema-1.1.2.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("NIST's schema compiles");
    (validator.iter_errors(doc))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_samples_document_is_valid_oscal_1_1_2() {
    let e = samples();
    let (_, doc) = document(&e);
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "{} error(s):\n{}",
        errors.len(),
        errors[..errors.len().min(20)].join("\n")
    );
    let ar = &doc["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], OSCAL_VERSION);
    // The schema is not a rubber stamp: a document missing a required field fails.
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("reviewed-controls");
    assert!(!schema_errors(&broken).is_empty());
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        "not-assessed".into();
    assert!(
        !schema_errors(&broken).is_empty(),
        "OSCAL has no not-assessed state"
    );
}

#[test]
fn the_same_evidence_gives_the_same_document_and_other_evidence_other_uuids() {
    let e = samples();
    let (a, doc) = document(&e);
    let (b, _) = document(&e);
    assert!(a == b, "two renders differ");
    // Every UUID is unique in the document.
    let text = String::from_utf8(a.clone()).unwrap();
    let mut uuids = Vec::new();
    collect_uuids(&doc, &mut uuids);
    let unique: BTreeSet<&String> = uuids.iter().collect();
    assert_eq!(unique.len(), uuids.len(), "a UUID is defined twice");
    assert!(uuids.len() > 500, "{} UUIDs", uuids.len());
    // One evidence file read differently: every UUID changes.
    let mut other = samples();
    other.evidence[0].sha256 = "00".repeat(32);
    other.refresh();
    let (c, _) = document(&other);
    let first = &uuids[0];
    assert!(
        text.contains(first.as_str()) && !String::from_utf8(c).unwrap().contains(first.as_str())
    );
}

/// The values of every `uuid` key (definitions, not references).
fn collect_uuids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("uuid", Value::String(s)) => out.push(s.clone()),
                    _ => collect_uuids(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_uuids(x, out)),
        _ => {}
    }
}

#[test]
fn observations_link_evidence_by_hash_and_verdicts_map_fail_closed() {
    let e = samples();
    let (_, doc) = document(&e);
    let ar = &doc["assessment-results"];
    let resources: BTreeMap<String, &Value> =
        (ar["back-matter"]["resources"].as_array().unwrap().iter())
            .map(|r| (r["uuid"].as_str().unwrap().to_string(), r))
            .collect();
    // The evidence index, and the attachments (with their metadata files).
    let index: BTreeMap<&str, &str> = (e.evidence.iter())
        .map(|x| (x.path.as_str(), x.sha256.as_str()))
        .chain(e.results.attachments.iter().flat_map(|a| {
            [
                (a.file.as_str(), a.sha256.as_str()),
                (a.metadata_file.as_str(), a.metadata_sha256.as_str()),
            ]
        }))
        .collect();
    let result = &ar["results"][0];
    let observations = result["observations"].as_array().unwrap();
    let items: usize = e.results.controls.iter().map(|c| c.results.len()).sum();
    assert_eq!(observations.len(), items, "one observation per scope item");
    let mut linked = 0;
    for o in observations {
        for ev in o["relevant-evidence"].as_array().into_iter().flatten() {
            let href = ev["href"].as_str().unwrap();
            let resource = resources[href.strip_prefix('#').unwrap()];
            let rlink = &resource["rlinks"][0];
            let path = rlink["href"]
                .as_str()
                .unwrap()
                .strip_prefix("evidence/")
                .unwrap();
            assert_eq!(rlink["hashes"][0]["value"], index[path], "{path}");
            linked += 1;
        }
    }
    assert!(linked > 500, "{linked} evidence links");
    // Findings: one per control and one per item; only PASS is satisfied.
    let findings = result["findings"].as_array().unwrap();
    assert_eq!(findings.len(), items + e.results.controls.len());
    let status_of = |f: &Value| {
        (f["props"].as_array().unwrap().iter())
            .find(|p| p["name"] == "auditpack-status")
            .map(|p| p["value"].as_str().unwrap().to_string())
            .unwrap()
    };
    let mut seen = BTreeSet::new();
    for f in findings {
        let (verdict, state, reason) = (
            status_of(f),
            &f["target"]["status"]["state"],
            &f["target"]["status"]["reason"],
        );
        match verdict.as_str() {
            "PASS" => assert_eq!(
                (state, reason),
                (&Value::from("satisfied"), &Value::from("pass"))
            ),
            "FAIL" => assert_eq!(
                (state, reason),
                (&Value::from("not-satisfied"), &Value::from("fail"))
            ),
            _ => {
                assert_eq!(
                    (state, reason),
                    (&Value::from("not-satisfied"), &Value::from("other"))
                );
                let remarks = f["target"]["status"]["remarks"].as_str().unwrap();
                assert!(remarks.starts_with(&verdict.replace('_', " ")), "{remarks}");
            }
        }
        seen.insert(verdict);
    }
    for v in ["PASS", "FAIL", "NOT_ASSESSED"] {
        assert!(seen.contains(v), "the samples show {v}");
    }
}
