//! `oscal-assessment-results.json`: the results as an OSCAL 1.1.2 Assessment
//! Results document, for GRC platforms that import OSCAL.
//!
//! Mapping (docs/workpapers.md says the same for readers):
//!
//! * one `result` for the run (start and end: the collection window), its
//!   `reviewed-controls` the Trust Services Criteria the controls cite;
//! * the active accounts are `inventory-items` of the result, so each
//!   observation names its subject;
//! * one `observation` per scope item (control × account × region): method
//!   TEST, the item's message, and `relevant-evidence` pointing at every
//!   evidence file it read, each a back-matter `resource` carrying the file's
//!   path in the bag and its SHA-256;
//! * one `finding` per control (the control's verdict) and one per scope
//!   item, targeting the control (`objective-id`), linked to the observations;
//! * **verdicts**: OSCAL's objective status has only `satisfied` and
//!   `not-satisfied` (with a `reason`: `pass`, `fail`, `other`). PASS is
//!   satisfied/pass, FAIL not-satisfied/fail. NOT ASSESSED, WAIVED and
//!   DISABLED are **not-satisfied/other**, with the exact verdict in the
//!   `auditpack-status` property and the reason in `remarks`: an importer
//!   that reads only `state` must never count a control nobody could assess
//!   as satisfied (fail closed, as the gate does).
//!
//! UUIDs are derived, not random: each is SHA-256 of the bundle's content
//! (results.json and the evidence index) and of what it names (`finding
//! iam.root-protection 111111111111 us-east-1`), shaped as an RFC 4122
//! version 4 ("pseudo-random") UUID, the form OSCAL's schema accepts. The same
//! evidence gives the same document, byte for byte; other evidence, other
//! UUIDs. Nothing here decides a verdict.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write as _;

use super::ReportInput;
use crate::evaluation::ResultsSource;
use crate::evaluation::{ControlResult, ItemResult, Verdict};

mod parts;
use parts::{
    prop, sha256, status, Finding, Observation, Related, RelevantEvidence, Resource, Rlink,
    Subject, Target,
};

/// The OSCAL version the document declares and the tests validate against.
pub(crate) const OSCAL_VERSION: &str = "1.1.2";
/// The namespace of auditpack's own properties (OSCAL requires one for
/// properties it does not define).
const NS: &str = "urn:auditpack:oscal";

/// Makes the document's UUIDs from the bundle's content.
struct Uuids {
    seed: [u8; 32],
}

impl Uuids {
    /// `results_json` has hashed the `results.json` bytes, and goes on with
    /// the evidence index.
    fn new(input: &ReportInput<'_>, results_json: Sha256) -> Uuids {
        let mut h = results_json;
        for e in input.evidence.iter() {
            h.update(e.path.as_bytes());
            h.update(b"\0");
            h.update(e.sha256.as_bytes());
            h.update(b"\n");
        }
        Uuids {
            seed: h.finalize().into(),
        }
    }

    /// The UUID of `name` (a version 4 layout over SHA-256 of seed and name).
    fn of(&self, name: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(name.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let x = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &x[..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..]
        )
    }
}

/// `account/region` of an item, as the report writes it.
fn place(item: &ItemResult) -> String {
    match &item.region {
        Some(region) => format!("{} {region}", item.account_id),
        None => item.account_id.clone(),
    }
}

/// `oscal-assessment-results.json` of the run, in memory (see [`write_oscal`]).
#[cfg(test)]
pub(crate) fn oscal_assessment_results(input: &ReportInput<'_>, results_json: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_oscal(input, Sha256::new_with_prefix(results_json), &mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

/// A JSON array written element by element as its iterator makes them, so
/// that the document's observations, findings and resources (hundreds of
/// thousands at thousands of accounts) are never all in memory at once.
struct Streamed<F>(F);

impl<F, I> Serialize for Streamed<F>
where
    F: Fn() -> I,
    I: Iterator<Item: Serialize>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// The run's `result`: its fixed members, then the streamed observations and
/// findings (each left out when it would be empty, as OSCAL requires).
struct ResultObject<O, F> {
    head: serde_json::Map<String, Value>,
    observations: Option<O>,
    findings: Option<F>,
}

impl<O: Serialize, F: Serialize> Serialize for ResultObject<O, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.head {
            map.serialize_entry(key, value)?;
        }
        if let Some(observations) = &self.observations {
            map.serialize_entry("observations", observations)?;
        }
        if let Some(findings) = &self.findings {
            map.serialize_entry("findings", findings)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Document<R, B> {
    #[serde(rename = "assessment-results")]
    assessment_results: AssessmentResults<R, B>,
}

#[derive(Serialize)]
struct AssessmentResults<R, B> {
    uuid: String,
    metadata: Value,
    #[serde(rename = "import-ap")]
    import_ap: Value,
    results: [R; 1],
    #[serde(rename = "back-matter")]
    back_matter: BackMatter<B>,
}

#[derive(Serialize)]
struct BackMatter<B> {
    resources: B,
}

/// Writes `oscal-assessment-results.json` of the run to `out`, one
/// observation, finding and resource at a time; `results_json` has hashed
/// the `results.json` bytes written beside it (part of the UUIDs' seed), so
/// that they need not be kept in memory.
///
/// Compact, not pretty: the document is for tools (GRC platforms, OSCAL
/// validators), and indentation was a third of it (90 of 242 MB at 1,000
/// accounts × 4 regions), bytes every `verify` and `period` inflates and
/// hashes again. `jq .` pretty-prints it for people.
pub(crate) fn write_oscal(
    input: &ReportInput<'_>,
    results_json: Sha256,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let ids = Uuids::new(input, results_json);
    let results = input.results.head();
    let evidence_uuid = |path: &str| ids.of(&format!("evidence {path}"));
    let account_uuid = |id: &str| ids.of(&format!("account {id}"));
    let observation_uuid = |c: &ControlResult, item: &ItemResult| {
        ids.of(&format!("observation {} {}", c.id, place(item)))
    };
    // When an item's evidence was collected: its latest file (each file's own
    // time is in the file and the evidence index, looked up on disk), else
    // the run's end.
    let collected = |item: &ItemResult| -> String {
        (item.evidence.iter())
            .filter_map(|e| input.evidence.find(&e.path)?.collected_at)
            .max()
            .unwrap_or_else(|| input.run.finished_at.clone())
    };

    let mut criteria: Vec<&str> = results
        .controls
        .iter()
        .flat_map(|c| c.tsc.iter().map(String::as_str))
        .collect();
    criteria.sort_by_key(|c| crate::evaluation::criterion_order(c));
    criteria.dedup();

    // Each control's items are read in turn from the results' file, a piece
    // at a time, and its observations and findings made as they are written
    // (a control's items at 10,000 accounts × 4 regions are 40,000).
    let (observation_uuid, collected) = (&observation_uuid, &collected);
    let (evidence_uuid, account_uuid) = (&evidence_uuid, &account_uuid);
    let stored = input.results;
    let controls = &results.controls;
    let observations = Streamed(|| {
        (controls.iter().enumerate()).flat_map(move |(n, c)| {
            stored.made_per_item(n, move |item: &ItemResult| {
                let obs = observation_uuid(c, item);
                let made = observation(c, item, obs, collected(item), evidence_uuid, account_uuid);
                [made]
            })
        })
    });
    let ids = &ids;
    let findings = Streamed(|| {
        (controls.iter().enumerate()).flat_map(move |(n, c)| {
            // The control's own finding, after its items', relates them all.
            let related = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let items = {
                let related = std::rc::Rc::clone(&related);
                stored.made_per_item(n, move |item: &ItemResult| {
                    let obs = observation_uuid(c, item);
                    related.borrow_mut().push(Related {
                        observation_uuid: obs.clone(),
                    });
                    [item_finding(c, item, ids, obs)]
                })
            };
            let control = std::iter::once_with(move || control_finding(c, ids, related.take()));
            items.chain(control)
        })
    });

    let inventory: Vec<Value> = (input.org.active_accounts())
        .map(|a| {
            json!({
                "uuid": account_uuid(&a.id),
                "description": format!("AWS account {} ({})", a.id, a.name),
                "props": [
                    { "name": "asset-id", "value": a.id },
                    { "name": "asset-type", "value": "other" },
                    prop("account-name", &a.name),
                    prop("ou-path", &a.ou_path),
                    prop("role", &a.role.map(|r| r.to_string()).unwrap_or_else(|| "unassigned".into())),
                ]
            })
        })
        .collect();

    let plan = ids.of("assessment plan");
    let resources = Streamed(|| {
        let plan_resource = Resource {
            uuid: plan.clone(),
            title: "Assessment plan: the control files evaluated".into(),
            description: Some("auditpack has no separate assessment plan: the control files (data/controls/ in the bundle, each with its objective, procedure and exact CEL tests) and auditpack.toml, when given, are the plan.".into()),
            props: Vec::new(),
            rlinks: [Rlink { href: "controls/".into(), media_type: None, hashes: Vec::new() }],
        };
        let control_files = results.controls.iter().map(|c| Resource {
            uuid: ids.of(&format!("control file {}", c.id)),
            title: format!("Control file of {}", c.id),
            description: None,
            props: Vec::new(),
            rlinks: [Rlink {
                href: format!("controls/{}", c.file),
                media_type: Some("application/toml"),
                hashes: c.file_sha256.as_deref().map(sha256).unwrap_or_default(),
            }],
        });
        // Attachments (evidence no API gives) and their metadata files.
        let attachments = results.attachments.iter().flat_map(|a| {
            [
                (&a.file, &a.sha256, a.description.clone()),
                (
                    &a.metadata_file,
                    &a.metadata_sha256,
                    format!("Metadata of {}", a.file),
                ),
            ]
            .into_iter()
            .map(|(path, sha, what)| Resource {
                uuid: evidence_uuid(path),
                title: path.clone(),
                description: Some(what),
                props: vec![
                    prop("owner", &a.owner),
                    prop("date", &a.date),
                    prop("reviewed-by", &a.reviewed_by),
                ],
                rlinks: [Rlink {
                    href: format!("evidence/{path}"),
                    media_type: None,
                    hashes: sha256(sha),
                }],
            })
        });
        let evidence = input.evidence.iter().map(|e| Resource {
            uuid: evidence_uuid(&e.path),
            description: Some(format!(
                "{}:{} in {} ({}), answer {}",
                e.service,
                e.operation,
                e.account_id,
                e.region.as_deref().unwrap_or("global"),
                e.status
            )),
            props: vec![prop("sha256", &e.sha256)],
            rlinks: [Rlink {
                href: format!("evidence/{}", e.path),
                media_type: Some("application/json"),
                hashes: sha256(&e.sha256),
            }],
            title: e.path,
        });
        std::iter::once(plan_resource)
            .chain(control_files)
            .chain(attachments)
            .chain(evidence)
    });

    let run = input.run;
    let mut head = json!({
        "uuid": ids.of("result"),
        "title": format!("SOC 2 evidence of {} for {}", results.organization_id, results.period),
        "description": format!(
            "Every control of the package evaluated over the evidence collected from AWS Organization {} (management account {}) between {} and {}. Verdicts: PASS, FAIL, NOT ASSESSED, WAIVED, DISABLED; only PASS is satisfied.",
            results.organization_id, results.management_account_id, run.started_at, run.finished_at
        ),
        "start": run.started_at,
        "end": run.finished_at,
        "props": [
            prop("audit-period", &results.period),
            prop("collected-by", &run.caller_arn),
        ],
        "local-definitions": { "inventory-items": inventory },
        "reviewed-controls": {
            "description": "The Trust Services Criteria (2017, revised points of focus 2022) the controls cite.",
            "control-selections": [{
                "include-controls": criteria.iter().map(|c| json!({ "control-id": c })).collect::<Vec<_>>()
            }]
        },
    });
    if let Some(d) = &results.period_dates {
        head["props"]
            .as_array_mut()
            .expect("props")
            .push(json!(prop(
                "audit-period-dates",
                &format!("{}/{}", d.start, d.end),
            )));
    }
    if inventory_is_empty(&head) {
        head.as_object_mut()
            .expect("result")
            .remove("local-definitions");
    }
    let Value::Object(head) = head else {
        unreachable!("json! of an object is an object")
    };
    let result = ResultObject {
        head,
        // Counted without reading the items (`head` has none).
        observations: (0..results.controls.len())
            .any(|n| input.results.item_count(n) > 0)
            .then_some(observations),
        findings: (!results.controls.is_empty()).then_some(findings),
    };

    let document = Document {
        assessment_results: AssessmentResults {
            uuid: ids.of("assessment-results"),
            metadata: json!({
                "title": format!("SOC 2 evidence package — {} — {}", results.organization_id, results.period),
                "last-modified": results.generated_at,
                "version": input.bundle_name,
                "oscal-version": OSCAL_VERSION,
                "props": [prop("tool", &format!("{} {}", results.tool.name, results.tool.version))],
                "remarks": "Written by auditpack from results.json. Paths in back-matter are relative to the bag's data/ folder. Only PASS maps to satisfied: NOT ASSESSED, WAIVED and DISABLED are not-satisfied with reason other and their verdict in the auditpack-status property."
            }),
            import_ap: json!({
                "href": format!("#{plan}"),
                "remarks": "The control files are the plan (see the back-matter resource)."
            }),
            results: [result],
            back_matter: BackMatter { resources },
        },
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer(&mut out, &document)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn inventory_is_empty(result: &Value) -> bool {
    result["local-definitions"]["inventory-items"]
        .as_array()
        .is_none_or(|a| a.is_empty())
}

/// What one scope item showed, with the evidence it read.
fn observation(
    c: &ControlResult,
    item: &ItemResult,
    uuid: String,
    collected: String,
    evidence_uuid: &dyn Fn(&str) -> String,
    account_uuid: &dyn Fn(&str) -> String,
) -> Observation {
    let description = match item.message.trim() {
        "" => format!("{}: every requirement met in {}.", c.id, place(item)),
        message => message.to_string(),
    };
    Observation {
        uuid,
        title: format!("{} in {}", c.id, place(item)),
        description,
        props: [
            prop("control", &c.id),
            prop("account", &item.account_id),
            prop("region", item.region.as_deref().unwrap_or("global")),
            prop("auditpack-status", &verdict_name(item.status)),
        ],
        methods: ["TEST"],
        types: ["control-objective"],
        subjects: [Subject {
            subject_uuid: account_uuid(&item.account_id),
            kind: "inventory-item",
            title: format!("{} ({})", item.account_name, item.account_id),
        }],
        collected,
        relevant_evidence: (item.evidence.iter())
            .map(|e| RelevantEvidence {
                href: format!("#{}", evidence_uuid(&e.path)),
                description: format!("{} (SHA-256 {})", e.path, e.sha256),
            })
            .collect(),
    }
}

/// A verdict as results.json writes it (`NOT_ASSESSED`).
fn verdict_name(verdict: Verdict) -> String {
    serde_json::to_value(verdict)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The finding of one scope item.
fn item_finding<'c>(
    c: &'c ControlResult,
    item: &ItemResult,
    ids: &Uuids,
    obs: String,
) -> Finding<'c> {
    let why = match &item.waiver {
        Some(w) => format!(
            "Before the waiver: {}. Waived until {} by {} ({}): {}",
            w.original_status.label(),
            w.expires,
            w.approver,
            w.ticket,
            w.reason
        ),
        None => item.message.clone(),
    };
    Finding {
        uuid: ids.of(&format!("finding {} {}", c.id, place(item))),
        title: format!("{} in {}: {}", c.id, place(item), item.status.label()),
        description: format!("{} — {} ({}).", c.title, item.account_name, place(item)),
        props: [
            prop("auditpack-status", &verdict_name(item.status)),
            prop("account", &item.account_id),
            prop("region", item.region.as_deref().unwrap_or("global")),
        ],
        target: Target {
            kind: "objective-id",
            target_id: &c.id,
            description: None,
            status: status(item.status, Some(&why)),
        },
        related_observations: vec![Related {
            observation_uuid: obs,
        }],
        remarks: None,
    }
}

/// The finding of a control across its population.
fn control_finding<'c>(c: &'c ControlResult, ids: &Uuids, related: Vec<Related>) -> Finding<'c> {
    Finding {
        uuid: ids.of(&format!("finding {}", c.id)),
        title: format!("{}: {}", c.id, c.status.label()),
        description: format!(
            "{} Criteria: {}. Severity: {}.",
            c.title,
            c.tsc.join(", "),
            c.severity.as_str()
        ),
        props: [
            prop("auditpack-status", &verdict_name(c.status)),
            prop("criteria", &c.tsc.join(" ")),
            prop("severity", c.severity.as_str()),
        ],
        target: Target {
            kind: "objective-id",
            target_id: &c.id,
            description: Some(&c.objective),
            status: status(c.status, c.message.as_deref()),
        },
        related_observations: related,
        remarks: (!c.remediation.is_empty() && c.status == Verdict::Fail)
            .then(|| format!("Remediation: {}", c.remediation)),
    }
}

#[cfg(test)]
mod tests;
