//! The document's repeated parts as types: an observation and a finding for
//! every scope item, a back-matter resource for every evidence file.
//!
//! Built as `serde_json::Value`s, these were most of the document's time
//! (each member an `IndexMap` insert, each value its own allocation: OSCAL
//! took 39 s at 10,000 accounts × 4 regions); as structs they serialize
//! straight to the writer. Members are declared in the order the document
//! has always written them, and optional ones are left out as before, so the
//! bytes are the same (a test compares them with `Value`s built as before).

use serde::Serialize;

use super::NS;
use crate::evaluation::Verdict;

/// An auditpack property: single line, trimmed (OSCAL's string type), `none`
/// when empty.
#[derive(Debug, Serialize)]
pub(super) struct Prop {
    name: &'static str,
    ns: &'static str,
    value: String,
}

/// See [`Prop`].
pub(super) fn prop(name: &'static str, value: &str) -> Prop {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let value = if value.is_empty() {
        "none".to_string()
    } else {
        value
    };
    Prop {
        name,
        ns: NS,
        value,
    }
}

/// OSCAL's status of a verdict, and why when it is not a plain pass or fail.
#[derive(Debug, Serialize)]
pub(super) struct Status {
    state: &'static str,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

/// See [`Status`].
pub(super) fn status(verdict: Verdict, why: Option<&str>) -> Status {
    let (state, reason) = match verdict {
        Verdict::Pass => ("satisfied", "pass"),
        Verdict::Fail => ("not-satisfied", "fail"),
        Verdict::NotAssessed | Verdict::Waived | Verdict::Disabled => ("not-satisfied", "other"),
    };
    let note = match verdict {
        Verdict::NotAssessed => Some("NOT ASSESSED: the evidence was missing or its collection failed; not a pass."),
        Verdict::Waived => Some("WAIVED: the evidence gave FAIL or NOT ASSESSED and an unexpired waiver accepts it; the objective is not shown satisfied."),
        Verdict::Disabled => Some("DISABLED: turned off in auditpack.toml with a written reason; not tested."),
        _ => None,
    };
    let remarks = note.map(|note| match why.filter(|w| !w.trim().is_empty()) {
        Some(why) => format!("{note}\n\n{why}"),
        None => note.to_string(),
    });
    Status {
        state,
        reason,
        remarks,
    }
}

/// What one scope item showed, with the evidence it read.
#[derive(Debug, Serialize)]
pub(super) struct Observation {
    pub(super) uuid: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) props: [Prop; 4],
    pub(super) methods: [&'static str; 1],
    pub(super) types: [&'static str; 1],
    pub(super) subjects: [Subject; 1],
    pub(super) collected: String,
    #[serde(rename = "relevant-evidence", skip_serializing_if = "Vec::is_empty")]
    pub(super) relevant_evidence: Vec<RelevantEvidence>,
}

/// The account an observation is of.
#[derive(Debug, Serialize)]
pub(super) struct Subject {
    #[serde(rename = "subject-uuid")]
    pub(super) subject_uuid: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) title: String,
}

/// An evidence file an observation read.
#[derive(Debug, Serialize)]
pub(super) struct RelevantEvidence {
    pub(super) href: String,
    pub(super) description: String,
}

/// A finding: of one scope item, or of a control across its population.
#[derive(Debug, Serialize)]
pub(super) struct Finding<'a> {
    pub(super) uuid: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) props: [Prop; 3],
    pub(super) target: Target<'a>,
    #[serde(rename = "related-observations", skip_serializing_if = "Vec::is_empty")]
    pub(super) related_observations: Vec<Related>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) remarks: Option<String>,
}

/// The control objective a finding is about.
#[derive(Debug, Serialize)]
pub(super) struct Target<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(rename = "target-id")]
    pub(super) target_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<&'a str>,
    pub(super) status: Status,
}

/// An observation a finding relates to.
#[derive(Debug, Serialize)]
pub(super) struct Related {
    #[serde(rename = "observation-uuid")]
    pub(super) observation_uuid: String,
}

/// A back-matter resource: the plan, a control file, an attachment or an
/// evidence file.
#[derive(Debug, Serialize)]
pub(super) struct Resource {
    pub(super) uuid: String,
    pub(super) title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) props: Vec<Prop>,
    pub(super) rlinks: [Rlink; 1],
}

/// Where a resource is, and its hash when known.
#[derive(Debug, Serialize)]
pub(super) struct Rlink {
    pub(super) href: String,
    #[serde(rename = "media-type", skip_serializing_if = "Option::is_none")]
    pub(super) media_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) hashes: Vec<Hash>,
}

/// A SHA-256 of a resource.
#[derive(Debug, Serialize)]
pub(super) struct Hash {
    algorithm: &'static str,
    value: String,
}

/// See [`Hash`].
pub(super) fn sha256(value: &str) -> Vec<Hash> {
    vec![Hash {
        algorithm: "SHA-256",
        value: value.to_string(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The bytes of `part`, and of `value` (a `Value` as the document built
    /// its parts before they were types, members in the same order).
    fn same_bytes(part: impl Serialize, value: Value) {
        let typed = serde_json::to_string(&part).unwrap();
        assert_eq!(typed, serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn parts_serialize_as_the_values_they_replace() {
        same_bytes(
            prop("account", "  a \n b "),
            json!({ "name": "account", "ns": NS, "value": "a b" }),
        );
        same_bytes(
            prop("region", " "),
            json!({ "name": "region", "ns": NS, "value": "none" }),
        );
        same_bytes(
            status(Verdict::Fail, Some("why")),
            json!({ "state": "not-satisfied", "reason": "fail" }),
        );
        let mut waived = json!({ "state": "not-satisfied", "reason": "other" });
        waived["remarks"] = "WAIVED: the evidence gave FAIL or NOT ASSESSED and an unexpired waiver accepts it; the objective is not shown satisfied.\n\nwhy".into();
        same_bytes(status(Verdict::Waived, Some("why")), waived);
        let finding = |description: Option<&'static str>, related: Vec<Related>, remarks| Finding {
            uuid: "u".into(),
            title: "t".into(),
            description: "d".into(),
            props: [prop("a", "1"), prop("b", "2"), prop("c", "3")],
            target: Target {
                kind: "objective-id",
                target_id: "c.id",
                description,
                status: status(Verdict::Pass, None),
            },
            related_observations: related,
            remarks,
        };
        let props = json!([
            { "name": "a", "ns": NS, "value": "1" },
            { "name": "b", "ns": NS, "value": "2" },
            { "name": "c", "ns": NS, "value": "3" }
        ]);
        let mut control = json!({
            "uuid": "u", "title": "t", "description": "d", "props": props,
            "target": { "type": "objective-id", "target-id": "c.id", "description": "objective",
                        "status": { "state": "satisfied", "reason": "pass" } },
        });
        same_bytes(
            finding(Some("objective"), Vec::new(), None),
            control.clone(),
        );
        control["related-observations"] = json!([{ "observation-uuid": "o" }]);
        control["remarks"] = "fix".into();
        let related = vec![Related {
            observation_uuid: "o".into(),
        }];
        same_bytes(
            finding(Some("objective"), related, Some("fix".into())),
            control,
        );
        let item = json!({
            "uuid": "u", "title": "t", "description": "d", "props": props,
            "target": { "type": "objective-id", "target-id": "c.id",
                        "status": { "state": "satisfied", "reason": "pass" } },
            "related-observations": [{ "observation-uuid": "o" }]
        });
        let related = vec![Related {
            observation_uuid: "o".into(),
        }];
        same_bytes(finding(None, related, None), item);
    }

    #[test]
    fn observations_and_resources_serialize_as_the_values_they_replace() {
        let observation = |relevant_evidence| Observation {
            uuid: "u".into(),
            title: "t".into(),
            description: "d".into(),
            props: [
                prop("a", "1"),
                prop("b", "2"),
                prop("c", "3"),
                prop("d", "4"),
            ],
            methods: ["TEST"],
            types: ["control-objective"],
            subjects: [Subject {
                subject_uuid: "s".into(),
                kind: "inventory-item",
                title: "n (1)".into(),
            }],
            collected: "2026-11-27T00:00:00Z".into(),
            relevant_evidence,
        };
        let mut value = json!({
            "uuid": "u", "title": "t", "description": "d",
            "props": [
                { "name": "a", "ns": NS, "value": "1" }, { "name": "b", "ns": NS, "value": "2" },
                { "name": "c", "ns": NS, "value": "3" }, { "name": "d", "ns": NS, "value": "4" }
            ],
            "methods": ["TEST"], "types": ["control-objective"],
            "subjects": [{ "subject-uuid": "s", "type": "inventory-item", "title": "n (1)" }],
            "collected": "2026-11-27T00:00:00Z",
        });
        same_bytes(observation(Vec::new()), value.clone());
        value["relevant-evidence"] = json!([{ "href": "#e", "description": "p (SHA-256 h)" }]);
        let evidence = vec![RelevantEvidence {
            href: "#e".into(),
            description: "p (SHA-256 h)".into(),
        }];
        same_bytes(observation(evidence), value);
        let resource = |description, props, media_type, hashes| Resource {
            uuid: "u".into(),
            title: "t".into(),
            description,
            props,
            rlinks: [Rlink {
                href: "h".into(),
                media_type,
                hashes,
            }],
        };
        same_bytes(
            resource(Some("d".into()), Vec::new(), None, Vec::new()),
            json!({ "uuid": "u", "title": "t", "description": "d", "rlinks": [{ "href": "h" }] }),
        );
        let mut rlink = json!({ "href": "h", "media-type": "application/toml" });
        same_bytes(
            resource(None, Vec::new(), Some("application/toml"), Vec::new()),
            json!({ "uuid": "u", "title": "t", "rlinks": [rlink.clone()] }),
        );
        rlink["hashes"] = json!([{ "algorithm": "SHA-256", "value": "x" }]);
        same_bytes(
            resource(None, Vec::new(), Some("application/toml"), sha256("x")),
            json!({ "uuid": "u", "title": "t", "rlinks": [rlink] }),
        );
        same_bytes(
            resource(
                Some("d".into()),
                vec![prop("sha256", "x")],
                Some("application/json"),
                sha256("x"),
            ),
            json!({
                "uuid": "u", "title": "t", "description": "d",
                "props": [{ "name": "sha256", "ns": NS, "value": "x" }],
                "rlinks": [{ "href": "h", "media-type": "application/json",
                             "hashes": [{ "algorithm": "SHA-256", "value": "x" }] }]
            }),
        );
    }
}
