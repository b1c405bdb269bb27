//! Binding evidence to the names a control reads: one document, or every
//! document of a `qualifier = "*"` binding as a map, each read the same way
//! (the answer for `ok`, an empty object for `not_found`), and refused with
//! the reason when it cannot support a verdict.

use super::*;

/// One evidence binding's value, or why it is unavailable, with the files it cites.
pub(super) struct Bound {
    pub(super) value: Result<Value, Unavailable>,
    pub(super) evidence: Vec<EvidenceRef>,
}

/// Why an evidence binding has no value. The text is the NOT_ASSESSED reason
/// every expression reading the binding reports (results.json and the report
/// quote it).
#[derive(Debug, Clone, thiserror::Error)]
pub(super) enum Unavailable {
    /// No file at the path the binding looks up: the call was not made.
    #[error("evidence {path} was not collected")]
    NotCollected {
        /// The evidence path looked up.
        path: String,
    },
    /// The document cannot support a verdict (an invalid file, a failed
    /// call, incomplete pagination); the reason says which call.
    #[error("{}", .document.reason)]
    Unusable {
        /// The document and why it cannot be used.
        document: UnusableDoc,
    },
    /// Some documents of a `qualifier = "*"` binding cannot be used: the whole
    /// map is withheld, so an iteration over it cannot skip a failed resource.
    #[error("{}", join(.documents))]
    SomeUnusable {
        /// Every unusable document, in path order.
        documents: Vec<UnusableDoc>,
    },
}

/// One document a binding cannot use, and why: `reason (path)`, so the
/// reader knows which of many resources failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason} ({path})")]
pub(super) struct UnusableDoc {
    /// The document's evidence path.
    pub(super) path: String,
    /// Why it cannot be used (from [`EvidenceDoc::unusable_reason`]).
    pub(super) reason: String,
}

/// The documents' messages, `; `-joined.
pub(super) fn join(documents: &[UnusableDoc]) -> String {
    let messages: Vec<String> = documents.iter().map(ToString::to_string).collect();
    messages.join("; ")
}

impl Evaluator<'_> {
    /// The binding for `key`, loaded once per run.
    pub(super) fn bound_evidence(&self, key: &EvidenceKey, qualifier: &QualifierRef) -> Arc<Bound> {
        let cache_key = match qualifier {
            QualifierRef::None => key.relative_path(),
            QualifierRef::All => format!("{}/{}.*", key.service_dir(), key.operation),
            QualifierRef::ScopeAccount => key.relative_path(),
        };
        if let Some(hit) = self.bound_cache().get(&cache_key) {
            return hit.clone();
        }
        let loaded = Arc::new(match qualifier {
            QualifierRef::None => self.load_single(key),
            QualifierRef::All => self.load_all(key),
            QualifierRef::ScopeAccount => self.load_one_as_map(key),
        });
        self.bound_cache()
            .entry(cache_key)
            .or_insert(loaded)
            .clone()
    }

    pub(super) fn bound_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Bound>>> {
        self.bound.lock().expect("evidence binding cache poisoned")
    }

    pub(super) fn load_single(&self, key: &EvidenceKey) -> Bound {
        let Some(doc) = self.store.get(key) else {
            return Bound {
                value: Err(Unavailable::NotCollected {
                    path: key.relative_path(),
                }),
                evidence: Vec::new(),
            };
        };
        Bound {
            value: self
                .usable_json(&doc)
                .map(evidence_to_cel)
                .map_err(|document| Unavailable::Unusable { document }),
            evidence: vec![evidence_ref(&doc)],
        }
    }

    /// Binds every qualified document as a map qualifier → data. If any of them
    /// is unusable the whole map is, so an iteration over it cannot skip a
    /// resource whose evidence failed.
    pub(super) fn load_all(&self, key: &EvidenceKey) -> Bound {
        let mut map = serde_json::Map::new();
        let mut problems = Vec::new();
        let mut evidence = Vec::new();
        for doc in self.store.list_qualified(key) {
            evidence.push(evidence_ref(&doc));
            let qualifier = doc
                .envelope
                .as_ref()
                .ok()
                .and_then(|e| e.call.qualifier.clone())
                .unwrap_or_default();
            match self.usable_json(&doc) {
                Ok(data) => {
                    map.insert(qualifier, data.clone());
                }
                Err(problem) => problems.push(problem),
            }
        }
        let value = if problems.is_empty() {
            Ok(evidence_to_cel(&Json::Object(map)))
        } else {
            Err(Unavailable::SomeUnusable {
                documents: problems,
            })
        };
        Bound { value, evidence }
    }
}

impl Evaluator<'_> {
    /// One qualified document (`key.qualifier`) bound as the one-entry map
    /// qualifier → data that a `qualifier = "*"` map would hold for it.
    pub(super) fn load_one_as_map(&self, key: &EvidenceKey) -> Bound {
        let Some(doc) = self.store.get(key) else {
            return Bound {
                value: Err(Unavailable::NotCollected {
                    path: key.relative_path(),
                }),
                evidence: Vec::new(),
            };
        };
        let qualifier = key.qualifier.clone().unwrap_or_default();
        Bound {
            value: self
                .usable_json(&doc)
                .map(|data| {
                    let mut map = serde_json::Map::new();
                    map.insert(qualifier, data.clone());
                    evidence_to_cel(&Json::Object(map))
                })
                .map_err(|document| Unavailable::Unusable { document }),
            evidence: vec![evidence_ref(&doc)],
        }
    }
}

pub(super) fn evidence_ref(doc: &EvidenceDoc) -> EvidenceRef {
    EvidenceRef {
        path: doc.path.clone(),
        sha256: doc.sha256.clone(),
    }
}

/// The empty object a `not_found` answer stands for.
pub(super) static ABSENT: std::sync::LazyLock<Json> =
    std::sync::LazyLock::new(|| Json::Object(Default::default()));

impl Evaluator<'_> {
    /// The data a control sees, the same wherever a document is read (alone or
    /// as one resource of a `qualifier = "*"` map): the answer for `ok`, an
    /// empty object for `not_found` (so `has(x.Field)` is false and the control
    /// can FAIL on the absence, whatever data the file carries). A document
    /// that cannot support a verdict (failed call, incomplete pagination,
    /// invalid file, collected outside the run's window) is an [`UnusableDoc`].
    pub(super) fn usable_json<'d>(&self, doc: &'d EvidenceDoc) -> Result<&'d Json, UnusableDoc> {
        let unusable = |reason: String| UnusableDoc {
            path: doc.path.clone(),
            reason,
        };
        if let Some(reason) = doc.unusable_reason() {
            return Err(unusable(reason));
        }
        let env = doc.envelope.as_ref().map_err(|e| unusable(e.to_string()))?;
        if let Some(reason) = outside_window(&env.collected_at, self.run) {
            return Err(unusable(reason));
        }
        Ok(match env.status {
            crate::evidence::AnswerStatus::NotFound => &ABSENT,
            _ => &env.data,
        })
    }
}

/// Why evidence collected at `collected_at` does not belong to `run`: outside
/// its collection window (a file from another run, copied in), or no readable
/// time. `None` when it belongs.
pub(super) fn outside_window(collected_at: &str, run: &RunInfo) -> Option<String> {
    let time = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let (Some(at), Some(start), Some(end)) = (
        time(collected_at),
        time(&run.started_at),
        time(&run.finished_at),
    ) else {
        return Some(format!(
            "collected_at '{collected_at}' or the run's window ({} to {}) is not an RFC 3339 time",
            run.started_at, run.finished_at
        ));
    };
    (at < start || at > end).then(|| {
        format!(
            "collected at {collected_at}, outside the run's collection window ({} to {}): not evidence of this run",
            run.started_at, run.finished_at
        )
    })
}
