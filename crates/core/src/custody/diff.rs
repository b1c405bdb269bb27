//! `auditpack diff OLD NEW`: what changed between two verified bundles
//! (typically last quarter's and this quarter's): accounts added and removed,
//! control and item verdicts that changed (new failures, fixes, new gaps),
//! parameters, and control definitions or settings files that changed.
//!
//! Pure: it compares two [`BundleFacts`] read from verified bags and returns a
//! serialisable [`BundleDiff`]; rendering (text, JSON, HTML) is separate.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::evaluation::{Results, Verdict};
use crate::org::Org;

/// What diff reads from one verified bundle.
#[derive(Debug, Clone)]
pub struct BundleFacts {
    /// The path as given.
    pub bundle: String,
    /// The verdicts.
    pub results: Results,
    /// The organization as collected.
    pub org: Org,
    /// Payload manifest: path inside the bag → SHA-256.
    pub manifest: BTreeMap<String, String>,
    /// Valid signatures, `kind fingerprint (signer)`.
    pub signed_by: Vec<String>,
}

/// One side of a diff, for the header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The path as given.
    pub bundle: String,
    /// Audit period.
    pub period: String,
    /// `start/end`.
    pub collection_window: String,
    /// Signatures found valid.
    pub signed_by: Vec<String>,
}

/// An account by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountChange {
    /// Id.
    pub account_id: String,
    /// Name.
    pub name: String,
}

/// A control whose overall verdict changed, or that appeared or disappeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlChange {
    /// Control id.
    pub control: String,
    /// Before (`None`: not in the old bundle).
    pub old: Option<Verdict>,
    /// After (`None`: not in the new bundle).
    pub new: Option<Verdict>,
}

/// How an item's verdict moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Now FAIL, was not.
    NewFailure,
    /// Now NOT ASSESSED, was not.
    NewlyNotAssessed,
    /// Now WAIVED, was not.
    NewlyWaived,
    /// Was FAIL, NOT ASSESSED or WAIVED; now PASS.
    Fixed,
    /// Any other move (e.g. to DISABLED).
    Other,
    /// In scope only in the new bundle.
    Added,
    /// In scope only in the old bundle.
    Removed,
}

impl ChangeKind {
    fn of(old: Option<Verdict>, new: Option<Verdict>) -> ChangeKind {
        match (old, new) {
            (None, _) => ChangeKind::Added,
            (_, None) => ChangeKind::Removed,
            (_, Some(Verdict::Fail)) => ChangeKind::NewFailure,
            (_, Some(Verdict::NotAssessed)) => ChangeKind::NewlyNotAssessed,
            (_, Some(Verdict::Waived)) => ChangeKind::NewlyWaived,
            (Some(Verdict::Fail | Verdict::NotAssessed | Verdict::Waived), Some(Verdict::Pass)) => {
                ChangeKind::Fixed
            }
            _ => ChangeKind::Other,
        }
    }

    /// Heading for people.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ChangeKind::NewFailure => "new failures",
            ChangeKind::NewlyNotAssessed => "newly not assessed",
            ChangeKind::NewlyWaived => "newly waived",
            ChangeKind::Fixed => "fixed",
            ChangeKind::Other => "other changes",
            ChangeKind::Added => "new in scope",
            ChangeKind::Removed => "no longer in scope",
        }
    }
}

/// One control × account (× region) whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    /// How it moved.
    pub kind: ChangeKind,
    /// Control id.
    pub control: String,
    /// Account id.
    pub account_id: String,
    /// Account name.
    pub account_name: String,
    /// Region, `None` for global.
    pub region: Option<String>,
    /// Before.
    pub old: Option<Verdict>,
    /// After.
    pub new: Option<Verdict>,
    /// The new bundle's message (what fails now), or the old one when removed.
    pub message: String,
}

/// A control parameter whose value changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterChange {
    /// Control id.
    pub control: String,
    /// Parameter name.
    pub name: String,
    /// Before (`None`: not set).
    pub old: Option<Value>,
    /// After.
    pub new: Option<Value>,
}

/// A control definition, or a settings file, that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionChange {
    /// The file inside the bag (`data/controls/x.toml`, `data/auditpack.toml`).
    pub file: String,
    /// What changed, in words.
    pub what: String,
}

/// Everything that changed, old → new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleDiff {
    /// The older bundle.
    pub old: Side,
    /// The newer bundle.
    pub new: Side,
    /// Active accounts only in the new bundle.
    pub accounts_added: Vec<AccountChange>,
    /// Active accounts only in the old bundle.
    pub accounts_removed: Vec<AccountChange>,
    /// Controls whose overall verdict changed (or that were added or removed).
    pub controls: Vec<ControlChange>,
    /// Items whose verdict changed, grouped by kind.
    pub items: Vec<ItemChange>,
    /// Parameters that changed.
    pub parameters: Vec<ParameterChange>,
    /// Control files and settings that changed.
    pub definitions: Vec<DefinitionChange>,
}

impl BundleDiff {
    /// True when nothing listed changed.
    pub(crate) fn is_empty(&self) -> bool {
        self.accounts_added.is_empty()
            && self.accounts_removed.is_empty()
            && self.controls.is_empty()
            && self.items.is_empty()
            && self.parameters.is_empty()
            && self.definitions.is_empty()
    }
}

/// Compares two bundles.
pub fn diff(old: &BundleFacts, new: &BundleFacts) -> BundleDiff {
    let side = |f: &BundleFacts| Side {
        bundle: f.bundle.clone(),
        period: f.results.period.clone(),
        collection_window: format!(
            "{}/{}",
            f.results.collection_window.start, f.results.collection_window.end
        ),
        signed_by: f.signed_by.clone(),
    };
    let accounts = |org: &Org| -> BTreeMap<String, String> {
        org.active_accounts()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect()
    };
    let (old_accounts, new_accounts) = (accounts(&old.org), accounts(&new.org));
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<AccountChange> {
        a.iter()
            .filter(|(id, _)| !b.contains_key(*id))
            .map(|(id, name)| AccountChange {
                account_id: id.clone(),
                name: name.clone(),
            })
            .collect()
    };
    let mut result = BundleDiff {
        old: side(old),
        new: side(new),
        accounts_added: only(&new_accounts, &old_accounts),
        accounts_removed: only(&old_accounts, &new_accounts),
        controls: Vec::new(),
        items: Vec::new(),
        parameters: Vec::new(),
        definitions: Vec::new(),
    };
    let controls = |r: &Results| {
        r.controls
            .iter()
            .map(|c| (c.id.clone(), c.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (old_controls, new_controls) = (controls(&old.results), controls(&new.results));
    let ids: BTreeSet<&String> = old_controls.keys().chain(new_controls.keys()).collect();
    for id in ids {
        let (a, b) = (old_controls.get(id), new_controls.get(id));
        let (sa, sb) = (a.map(|c| c.status), b.map(|c| c.status));
        if sa != sb {
            result.controls.push(ControlChange {
                control: id.clone(),
                old: sa,
                new: sb,
            });
        }
        item_changes(id, a, b, &mut result.items);
        if let (Some(a), Some(b)) = (a, b) {
            let names: BTreeSet<&String> = a.params.keys().chain(b.params.keys()).collect();
            for name in names {
                let (x, y) = (a.params.get(name), b.params.get(name));
                if x != y {
                    result.parameters.push(ParameterChange {
                        control: id.clone(),
                        name: name.clone(),
                        old: x.cloned(),
                        new: y.cloned(),
                    });
                }
            }
            definition_changes(a, b, old, new, &mut result.definitions);
        }
    }
    for file in ["data/auditpack.toml", "data/waivers.toml"] {
        match (old.manifest.get(file), new.manifest.get(file)) {
            (Some(x), Some(y)) if x != y => result.definitions.push(DefinitionChange {
                file: file.into(),
                what: "changed".into(),
            }),
            (None, Some(_)) => result.definitions.push(DefinitionChange {
                file: file.into(),
                what: "added".into(),
            }),
            (Some(_), None) => result.definitions.push(DefinitionChange {
                file: file.into(),
                what: "removed".into(),
            }),
            _ => {}
        }
    }
    result.items.sort_by(|a, b| {
        (a.kind, &a.control, &a.account_id, &a.region).cmp(&(
            b.kind,
            &b.control,
            &b.account_id,
            &b.region,
        ))
    });
    result
}

fn item_changes(
    id: &str,
    a: Option<&crate::evaluation::ControlResult>,
    b: Option<&crate::evaluation::ControlResult>,
    out: &mut Vec<ItemChange>,
) {
    type Key = (String, Option<String>);
    let items =
        |c: Option<&crate::evaluation::ControlResult>| -> BTreeMap<Key, (Verdict, String, String)> {
            c.map(|c| {
                c.results
                    .iter()
                    .map(|r| {
                        (
                            (r.account_id.clone(), r.region.clone()),
                            (r.status, r.account_name.clone(), r.message.clone()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
    let (old, new) = (items(a), items(b));
    let keys: BTreeSet<&Key> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (x, y) = (old.get(key), new.get(key));
        let (sx, sy) = (x.map(|v| v.0), y.map(|v| v.0));
        if sx == sy {
            continue;
        }
        let (name, message) = y
            .or(x)
            .map(|v| (v.1.clone(), v.2.clone()))
            .unwrap_or_default();
        out.push(ItemChange {
            kind: ChangeKind::of(sx, sy),
            control: id.to_string(),
            account_id: key.0.clone(),
            account_name: name,
            region: key.1.clone(),
            old: sx,
            new: sy,
            message,
        });
    }
}

fn definition_changes(
    a: &crate::evaluation::ControlResult,
    b: &crate::evaluation::ControlResult,
    old: &BundleFacts,
    new: &BundleFacts,
    out: &mut Vec<DefinitionChange>,
) {
    let (fa, fb) = (
        format!("data/controls/{}", a.file),
        format!("data/controls/{}", b.file),
    );
    if old.manifest.get(&fa) == new.manifest.get(&fb) {
        return;
    }
    let mut what = Vec::new();
    let tests = |c: &crate::evaluation::ControlResult| -> BTreeMap<String, String> {
        c.assertions
            .iter()
            .map(|x| (x.id.clone(), x.expect.clone()))
            .collect()
    };
    let (ta, tb) = (tests(a), tests(b));
    for id in ta.keys().chain(tb.keys()).collect::<BTreeSet<_>>() {
        match (ta.get(id), tb.get(id)) {
            (Some(x), Some(y)) if x != y => {
                what.push(format!("requirement {id}: test `{x}` → `{y}`"))
            }
            (None, Some(_)) => what.push(format!("requirement {id} added")),
            (Some(_), None) => what.push(format!("requirement {id} removed")),
            _ => {}
        }
    }
    for (field, x, y) in [
        ("scope_accounts", &a.scope_accounts, &b.scope_accounts),
        ("scope_regions", &a.scope_regions, &b.scope_regions),
        ("title", &a.title, &b.title),
    ] {
        if x != y {
            what.push(format!("{field}: {x} → {y}"));
        }
    }
    if a.severity != b.severity {
        what.push(format!("severity: {:?} → {:?}", a.severity, b.severity));
    }
    if what.is_empty() {
        what.push("the control file changed (wording, defaults or comments)".into());
    }
    out.push(DefinitionChange {
        file: fb,
        what: format!("{}: {}", b.id, what.join("; ")),
    });
}

pub use super::diff_html::{render_html, DiffHtmlError};
pub use super::diff_text::{render_json, render_text};

/// Why two bundles cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Not a readable bundle (exit 2).
    #[error(transparent)]
    Unreadable(#[from] crate::custody::bag_check::VerifyError),
    /// The bundle does not verify (exit 1): comparing it would compare unproven data.
    #[error("{bundle} does not verify; refusing to compare it:\n{problems}")]
    NotVerified {
        /// The bundle.
        bundle: String,
        /// Its problems, one per line.
        problems: String,
    },
    /// A bundle file diff needs is unreadable (exit 2).
    #[error("{bundle}: {message}")]
    Content {
        /// The bundle.
        bundle: String,
        /// What is wrong.
        message: String,
    },
}

/// Verifies a bundle (hashes, signatures against `trust`, coverage) and reads
/// what diff compares.
pub fn read_facts(
    path: &std::path::Path,
    trust: &super::signature::Trust,
) -> Result<BundleFacts, DiffError> {
    let options = super::check::VerifyOptions {
        trust: trust.clone(),
        max_age_days: None,
        now: chrono::Utc::now(),
        reevaluate: false,
        keep_results: true,
    };
    let bundle = path.display().to_string();
    let report = super::check::verify_bundle(path, &options)?;
    if !report.is_ok() {
        let problems = report
            .verification
            .problems
            .iter()
            .map(|p| p.to_string())
            .chain(report.problems.iter().cloned())
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(DiffError::NotVerified { bundle, problems });
    }
    let entries = &report.verification.contents.entries;
    let bytes = |name: &str| {
        entries
            .bytes(name)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| DiffError::Content {
                bundle: bundle.clone(),
                message: format!("{name} is missing"),
            })
    };
    let results = crate::outputs::results_json::parse_results(&bytes("data/results.json")?)
        .map_err(|e| DiffError::Content {
            bundle: bundle.clone(),
            message: format!("data/results.json: {e}"),
        })?;
    let org: Org =
        serde_json::from_slice(&bytes("data/org.json")?).map_err(|e| DiffError::Content {
            bundle: bundle.clone(),
            message: format!("data/org.json: {e}"),
        })?;
    let signed_by = report
        .signatures
        .signatures
        .iter()
        .map(|s| format!("{} {} ({})", s.kind, s.fingerprint, s.signer))
        .collect();
    Ok(BundleFacts {
        manifest: report.verification.payload(),
        bundle,
        results,
        org,
        signed_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_kinds() {
        use Verdict::*;
        assert_eq!(
            ChangeKind::of(Some(Pass), Some(Fail)),
            ChangeKind::NewFailure
        );
        assert_eq!(ChangeKind::of(Some(Fail), Some(Pass)), ChangeKind::Fixed);
        assert_eq!(
            ChangeKind::of(Some(NotAssessed), Some(Pass)),
            ChangeKind::Fixed
        );
        assert_eq!(
            ChangeKind::of(Some(Pass), Some(NotAssessed)),
            ChangeKind::NewlyNotAssessed
        );
        assert_eq!(
            ChangeKind::of(Some(Fail), Some(Waived)),
            ChangeKind::NewlyWaived
        );
        assert_eq!(ChangeKind::of(None, Some(Pass)), ChangeKind::Added);
        assert_eq!(ChangeKind::of(Some(Pass), None), ChangeKind::Removed);
        assert_eq!(
            ChangeKind::of(Some(Pass), Some(Disabled)),
            ChangeKind::Other
        );
    }
}
