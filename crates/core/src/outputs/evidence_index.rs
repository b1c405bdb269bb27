//! The index of every evidence file: what the report's evidence table and the
//! bundle's payload are built from.

use serde::Serialize;

use crate::evidence::read_back::ReadBack;
use crate::evidence::{AnswerStatus, EvidenceDoc, EvidenceStore, StoreError};

/// One evidence file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceIndexEntry {
    /// Path relative to the evidence root, `/`-separated.
    pub path: String,
    /// Account id (from the envelope, or the path when unreadable).
    pub account_id: String,
    /// Region, `None` for global.
    pub region: Option<String>,
    /// Service prefix.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// Qualifier, if any.
    pub qualifier: Option<String>,
    /// `ok`, `not_found`, `error`, or `invalid` for a file that is not an envelope.
    pub status: String,
    /// Error code when not ok.
    pub error_code: Option<String>,
    /// When it was collected.
    pub collected_at: Option<String>,
    /// File size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: String,
    /// How the call was made, as its envelope records it (none for a file
    /// that is not an envelope): what the IPE sheet reconciles. Left out of
    /// the report's data, which shows it per control, not per file.
    #[serde(skip)]
    pub facts: Option<CallFacts>,
}

/// What an envelope says about its call, beyond the answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallFacts {
    /// Request parameters (pagination tokens left out), as JSON text: what
    /// the IPE sheet lists. Kept as text, not a map, because the index holds
    /// one per evidence file for the whole report (837,090 at 10,000
    /// accounts × 4 regions).
    pub parameters: String,
    /// The identity that made the call: one per account, shared by the
    /// account's files rather than copied into each.
    pub caller_arn: std::sync::Arc<str>,
    /// Pages read.
    pub pages: u32,
    /// Whether every page was read.
    pub complete: bool,
    /// Items in the answer's main list.
    pub item_count: u64,
    /// How many AWS request ids were recorded.
    pub request_ids: usize,
}

/// The index of documents read from the store (see [`index_store`]), in
/// their order. A file that is not a
/// valid envelope for its path is listed as `invalid`, with what its path says.
pub fn index_documents(docs: &[EvidenceDoc]) -> Vec<EvidenceIndexEntry> {
    let mut caller: Option<std::sync::Arc<str>> = None;
    docs.iter().map(|doc| describe(doc, &mut caller)).collect()
}

/// `arn`, as the `last` one when they are equal (an account's files, read
/// together, share it), else made anew and remembered.
fn shared(arn: &str, last: &mut Option<std::sync::Arc<str>>) -> std::sync::Arc<str> {
    match last {
        Some(known) if &**known == arn => known.clone(),
        _ => last.insert(arn.into()).clone(),
    }
}

/// How many documents the index reads at a time: enough for every core,
/// few enough that the store is never held whole.
const INDEX_BATCH: usize = 4096;

/// The index of every evidence file of `store`, read a batch at a time.
pub fn index_store(store: &EvidenceStore) -> Result<Vec<EvidenceIndexEntry>, StoreError> {
    let paths = store.evidence_paths()?;
    let mut index = Vec::with_capacity(paths.len());
    store.read_in_batches(&paths, INDEX_BATCH, |docs| {
        index.extend(index_documents(&docs));
        Ok(())
    })?;
    Ok(index)
}

fn describe(doc: &EvidenceDoc, caller: &mut Option<std::sync::Arc<str>>) -> EvidenceIndexEntry {
    let path = doc.path.clone();
    let (size, sha256) = (doc.size, doc.sha256.clone());
    match &doc.envelope {
        Ok(env) => EvidenceIndexEntry {
            path,
            account_id: env.account_id.clone(),
            region: env.region.clone(),
            service: env.call.service.clone(),
            operation: env.call.operation.clone(),
            qualifier: env.call.qualifier.clone(),
            status: match env.status {
                AnswerStatus::Ok => "ok",
                AnswerStatus::NotFound => "not_found",
                AnswerStatus::Error => "error",
            }
            .into(),
            error_code: env.error.as_ref().map(|e| e.code.clone()),
            collected_at: Some(env.collected_at.clone()),
            size,
            sha256,
            facts: Some(CallFacts {
                parameters: serde_json::to_string(&env.call.parameters)
                    .expect("a JSON map serialises"),
                caller_arn: shared(&env.caller_arn, caller),
                pages: env.pagination.pages,
                complete: env.pagination.complete,
                item_count: env.item_count,
                request_ids: env.request_ids.len(),
            }),
        },
        Err(_) => {
            let parts: Vec<&str> = path.split('/').collect();
            EvidenceIndexEntry {
                account_id: parts.first().unwrap_or(&"").to_string(),
                region: parts
                    .get(1)
                    .filter(|r| **r != "global")
                    .map(|r| r.to_string()),
                service: parts.get(2).unwrap_or(&"").to_string(),
                operation: parts.get(3).unwrap_or(&"").to_string(),
                qualifier: None,
                status: "invalid".into(),
                error_code: None,
                collected_at: None,
                size,
                sha256,
                path,
                facts: None,
            }
        }
    }
}

/// The evidence index kept on disk: every entry written once to a temporary
/// file as it is made, read back in order by each output that lists the
/// files, and looked up by path where a result cites one. In memory it keeps
/// ~24 bytes a file (where each entry starts, and a sorted hash of each path),
/// not the ~600 bytes an entry takes as a value: at 10,000 accounts × 4
/// regions (837,090 files) ~20 MB instead of ~500 MB.
///
/// A read of the temporary file that fails is kept, the iteration it broke
/// ends there, and [`EvidenceIndex::check`] returns it: `report` checks after
/// every output that read the index, before anything is published.
pub struct EvidenceIndex {
    file: ReadBack,
    /// Where each entry starts in `file`, and where the last one ends.
    offsets: Vec<u64>,
    /// (hash of the path, entry number), sorted: the lookup by path.
    by_path: Vec<(u64, u32)>,
    /// The files' total size in bytes.
    total_size: u64,
}

impl std::fmt::Debug for EvidenceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EvidenceIndex({} files)", self.len())
    }
}

impl EvidenceIndex {
    /// The index of every evidence file of `store`, read a batch at a time
    /// and written to a temporary file as it goes.
    pub fn of_store(store: &EvidenceStore) -> Result<EvidenceIndex, StoreError> {
        let paths = store.evidence_paths()?;
        let mut writer = IndexWriter::new().map_err(|source| StoreError::Read {
            path: std::env::temp_dir(),
            source,
        })?;
        store.read_in_batches(&paths, INDEX_BATCH, |docs| {
            for entry in index_documents(&docs) {
                writer.push(&entry).map_err(|source| StoreError::Read {
                    path: writer.file.file().path().to_path_buf(),
                    source,
                })?;
            }
            Ok(())
        })?;
        let path = writer.file.file().path().to_path_buf();
        writer
            .finish()
            .map_err(|source| StoreError::Read { path, source })
    }

    /// The index of `entries`, written to a temporary file (tests, and
    /// callers that made the entries themselves).
    pub fn of_entries<'e>(
        entries: impl IntoIterator<Item = &'e EvidenceIndexEntry>,
    ) -> std::io::Result<EvidenceIndex> {
        let mut writer = IndexWriter::new()?;
        for entry in entries {
            writer.push(entry)?;
        }
        writer.finish()
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there is no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files' total size in bytes.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// Every entry, in the index's order (paths sorted), read from disk as
    /// the iteration goes; a failed read ends it (see [`EvidenceIndex::check`]).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EvidenceIndexEntry> + '_ {
        let opened = std::fs::File::open(self.file.file().path()).map(std::io::BufReader::new);
        let mut reader = self.file.kept(opened);
        let len = if reader.is_some() { self.len() } else { 0 };
        Entries {
            len,
            next: move || self.file.kept(decode(reader.as_mut()?)),
        }
    }

    /// The file at `path` and its entry number, if the index has it (each
    /// candidate of its hash is read once, and its path compared).
    pub fn lookup(&self, path: &str) -> Option<(usize, EvidenceIndexEntry)> {
        let hash = path_hash(path);
        let first = self.by_path.partition_point(|(h, _)| *h < hash);
        (self.by_path[first..].iter())
            .take_while(|(h, _)| *h == hash)
            .map(|(_, n)| *n as usize)
            .find_map(|n| self.get(n).filter(|e| e.path == path).map(|e| (n, e)))
    }

    /// The entry number of the file at `path`, if the index has it.
    pub fn position(&self, path: &str) -> Option<usize> {
        self.lookup(path).map(|(n, _)| n)
    }

    /// The file at `path`, if the index has it.
    pub fn find(&self, path: &str) -> Option<EvidenceIndexEntry> {
        self.lookup(path).map(|(_, entry)| entry)
    }

    /// Entry `n`, read from disk (none if the read failed: see [`EvidenceIndex::check`]).
    pub fn get(&self, n: usize) -> Option<EvidenceIndexEntry> {
        let (start, end) = (*self.offsets.get(n)?, *self.offsets.get(n + 1)?);
        let read = (self.file.read(start, end)).and_then(|bytes| decode(&mut bytes.as_slice()));
        self.file.kept(read)
    }

    /// The first read of the temporary file that failed, if any: the outputs
    /// that read the index since are incomplete.
    pub fn check(&self) -> std::io::Result<()> {
        self.file.check()
    }
}

/// An iterator of known length over what `next` yields.
struct Entries<F> {
    len: usize,
    next: F,
}

impl<F: FnMut() -> Option<EvidenceIndexEntry>> Iterator for Entries<F> {
    type Item = EvidenceIndexEntry;

    fn next(&mut self) -> Option<EvidenceIndexEntry> {
        if self.len == 0 {
            return None;
        }
        let entry = (self.next)();
        self.len = if entry.is_some() { self.len - 1 } else { 0 };
        entry
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<F: FnMut() -> Option<EvidenceIndexEntry>> ExactSizeIterator for Entries<F> {}

/// A 64-bit hash of a path, the same in every run (the lookup never
/// depends on it beyond finding candidates: the path itself is compared).
fn path_hash(path: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(path.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Writes entries to the index's temporary file.
struct IndexWriter {
    file: ReadBack,
    out: std::io::BufWriter<std::fs::File>,
    offsets: Vec<u64>,
    by_path: Vec<(u64, u32)>,
    total_size: u64,
    written: u64,
}

impl IndexWriter {
    fn new() -> std::io::Result<IndexWriter> {
        let file = ReadBack::new("auditpack-evidence-index", "the evidence index")?;
        let out = std::io::BufWriter::new(file.file().as_file().try_clone()?);
        Ok(IndexWriter {
            file,
            out,
            offsets: vec![0],
            by_path: Vec::new(),
            total_size: 0,
            written: 0,
        })
    }

    fn push(&mut self, entry: &EvidenceIndexEntry) -> std::io::Result<()> {
        let n = u32::try_from(self.offsets.len() - 1)
            .map_err(|_| std::io::Error::other("more than 4 billion evidence files"))?;
        self.by_path.push((path_hash(&entry.path), n));
        self.total_size += entry.size;
        let bytes = encode(entry);
        std::io::Write::write_all(&mut self.out, &bytes)?;
        self.written += bytes.len() as u64;
        self.offsets.push(self.written);
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<EvidenceIndex> {
        self.out.into_inner().map_err(|e| e.into_error())?;
        self.by_path.sort_unstable();
        self.offsets.shrink_to_fit();
        Ok(EvidenceIndex {
            file: self.file,
            offsets: self.offsets,
            by_path: self.by_path,
            total_size: self.total_size,
        })
    }
}

/// An entry as bytes: each text length-prefixed, each optional part flagged.
fn encode(e: &EvidenceIndexEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let text = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    let optional = |out: &mut Vec<u8>, s: &Option<String>| match s {
        Some(s) => {
            out.push(1);
            text(out, s);
        }
        None => out.push(0),
    };
    for s in [
        &e.path,
        &e.account_id,
        &e.service,
        &e.operation,
        &e.status,
        &e.sha256,
    ] {
        text(&mut out, s);
    }
    for s in [&e.region, &e.qualifier, &e.error_code, &e.collected_at] {
        optional(&mut out, s);
    }
    out.extend_from_slice(&e.size.to_le_bytes());
    match &e.facts {
        Some(f) => {
            out.push(1);
            text(&mut out, &f.parameters);
            text(&mut out, &f.caller_arn);
            out.extend_from_slice(&f.pages.to_le_bytes());
            out.push(u8::from(f.complete));
            out.extend_from_slice(&f.item_count.to_le_bytes());
            out.extend_from_slice(&(f.request_ids as u64).to_le_bytes());
        }
        None => out.push(0),
    }
    out
}

/// Reads back one entry [`encode`] wrote.
fn decode(input: &mut impl std::io::Read) -> std::io::Result<EvidenceIndexEntry> {
    fn bytes<const N: usize>(input: &mut impl std::io::Read) -> std::io::Result<[u8; N]> {
        let mut b = [0; N];
        input.read_exact(&mut b)?;
        Ok(b)
    }
    fn text(input: &mut impl std::io::Read) -> std::io::Result<String> {
        let len = u32::from_le_bytes(bytes(input)?) as usize;
        let mut s = vec![0; len];
        input.read_exact(&mut s)?;
        String::from_utf8(s).map_err(std::io::Error::other)
    }
    fn optional(input: &mut impl std::io::Read) -> std::io::Result<Option<String>> {
        match bytes::<1>(input)? {
            [0] => Ok(None),
            _ => text(input).map(Some),
        }
    }
    let [path, account_id, service, operation, status, sha256] = [
        text(input)?,
        text(input)?,
        text(input)?,
        text(input)?,
        text(input)?,
        text(input)?,
    ];
    let [region, qualifier, error_code, collected_at] = [
        optional(input)?,
        optional(input)?,
        optional(input)?,
        optional(input)?,
    ];
    let size = u64::from_le_bytes(bytes(input)?);
    let facts = match bytes::<1>(input)? {
        [0] => None,
        _ => Some(CallFacts {
            parameters: text(input)?,
            caller_arn: text(input)?.into(),
            pages: u32::from_le_bytes(bytes(input)?),
            complete: bytes::<1>(input)? != [0],
            item_count: u64::from_le_bytes(bytes(input)?),
            request_ids: u64::from_le_bytes(bytes(input)?) as usize,
        }),
    };
    Ok(EvidenceIndexEntry {
        path,
        account_id,
        region,
        service,
        operation,
        qualifier,
        status,
        error_code,
        collected_at,
        size,
        sha256,
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, facts: bool) -> EvidenceIndexEntry {
        EvidenceIndexEntry {
            path: path.into(),
            account_id: "111111111111".into(),
            region: facts.then(|| "eu-west-1".into()),
            service: "s3".into(),
            operation: "ListBuckets".into(),
            qualifier: facts.then(|| "bucket ü \"x\"".into()),
            status: if facts { "ok" } else { "invalid" }.into(),
            error_code: (!facts).then(|| "AccessDenied".into()),
            collected_at: facts.then(|| "2026-11-20T09:12:00Z".into()),
            size: 1234,
            sha256: "ab".repeat(32),
            facts: facts.then(|| CallFacts {
                parameters: r#"{"Bucket":"a\nb"}"#.into(),
                caller_arn: "arn:aws:sts::111111111111:assumed-role/audit/x".into(),
                pages: 3,
                complete: false,
                item_count: u64::MAX,
                request_ids: 2,
            }),
        }
    }

    /// Every entry reads back as written, in order; each is found by its
    /// path and a path the index does not hold is not found.
    #[test]
    fn entries_read_back_as_written_and_are_found_by_path() {
        let entries: Vec<EvidenceIndexEntry> = (0..300)
            .map(|n| {
                entry(
                    &format!("111111111111/global/s3/ListBuckets-{n:03}.json"),
                    n % 3 != 0,
                )
            })
            .collect();
        let index = EvidenceIndex::of_entries(&entries).unwrap();
        assert_eq!(index.len(), 300);
        assert_eq!(index.total_size(), 300 * 1234);
        assert_eq!(index.iter().collect::<Vec<_>>(), entries);
        for (n, e) in entries.iter().enumerate() {
            assert_eq!(index.position(&e.path), Some(n));
            assert_eq!(index.find(&e.path).as_ref(), Some(e));
        }
        assert_eq!(index.position("111111111111/global/s3/other.json"), None);
        assert_eq!(index.get(300), None);
        index.check().unwrap();
        let empty = EvidenceIndex::of_entries(&[]).unwrap();
        assert!(empty.is_empty() && empty.iter().next().is_none());
    }

    /// A temporary file that can no longer be read is an error `check`
    /// returns (once), not an index that quietly looks empty.
    #[test]
    fn a_failed_read_back_is_reported_by_check() {
        let index = EvidenceIndex::of_entries(&[entry("a.json", true)]).unwrap();
        std::fs::remove_file(index.file.file().path()).unwrap();
        assert_eq!(index.iter().count(), 0);
        let error = index.check().unwrap_err();
        assert!(error.to_string().contains("evidence index"), "{error}");
        index.check().unwrap();
    }
}
