//! Reading the evidence store. Every document is read once, hashed as it is read
//! (the hash is what results and manifests cite), and cached for the controls that
//! share it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::read_ahead::ReadAhead;
use super::{Envelope, EvidenceKey, RunInfo};

/// Errors reading the store itself (not a single broken document: those become
/// unusable evidence, so one bad file makes its controls NOT_ASSESSED instead of
/// losing the whole run).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The evidence folder is missing or not a folder.
    #[error("evidence folder {path} does not exist or is not a folder")]
    NotAFolder {
        /// The folder given.
        path: PathBuf,
    },
    /// A file that must exist could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link inside the evidence folder. The folder is a closed
    /// world: everything evaluated must be what the bundle holds and hashes,
    /// and a link could point outside it (a forged file evaluated, never
    /// bundled). Refused rather than followed.
    #[error("{path} is a symbolic link; an evidence folder must hold its files itself (copy the file in, or collect again)")]
    SymbolicLink {
        /// The link.
        path: PathBuf,
    },
    /// A file or folder name that is not UTF-8: evidence paths are UTF-8 text
    /// everywhere they are written (manifests, results, the report), so such a
    /// file could be neither named nor bundled faithfully.
    #[error("{} has a name that is not UTF-8; evidence file and folder names must be UTF-8 (rename it, or collect again)", path.display())]
    NotUtf8Name {
        /// The file or folder (its name shown with replacement characters).
        path: PathBuf,
    },
    /// `run.json` or `org.json` is not valid.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        message: String,
    },
}

/// Why one evidence file is not a valid envelope for its path. Not fatal: the
/// document is kept (and hashed, and listed as `invalid` in the index), and
/// the controls that read it are NOT_ASSESSED with this reason.
#[derive(Debug, thiserror::Error)]
pub enum InvalidDocument {
    /// The bytes are not an envelope (not JSON, or a field missing or mistyped).
    #[error("line {line} column {column}: {source}")]
    Parse {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The envelope is of a schema version this auditpack does not read: its
    /// fields may mean something else, so it is never read as version 1.
    #[error(
        "schema_version {found}; this auditpack reads version {}",
        super::SCHEMA_VERSION
    )]
    UnsupportedVersion {
        /// The version the file declares.
        found: u32,
    },
    /// The envelope names another account, region or operation than its
    /// path: the path is what controls look up, so a mismatch would let the
    /// evidence of one account stand in for another's.
    #[error("the envelope describes {described} but is stored at {stored}")]
    Misplaced {
        /// The path the envelope's own fields give.
        described: String,
        /// Where the file is.
        stored: String,
    },
}

/// One evidence file as read: where it is, what it hashes to, and what it says.
#[derive(Debug)]
pub struct EvidenceDoc {
    /// Path relative to the evidence root, `/`-separated.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// The envelope, or why the file is not a valid envelope for its path.
    pub envelope: Result<Envelope, InvalidDocument>,
}

impl EvidenceDoc {
    /// Why this document cannot support a verdict, or `None` when it can.
    pub(crate) fn unusable_reason(&self) -> Option<String> {
        match &self.envelope {
            Ok(env) => env.unusable_reason(),
            Err(problem) => Some(format!(
                "evidence file {} is not valid: {problem}",
                self.path
            )),
        }
    }
}

/// Read access to one evidence folder.
#[derive(Debug)]
pub struct EvidenceStore {
    root: PathBuf,
    cache: Mutex<HashMap<String, Option<Arc<EvidenceDoc>>>>,
    /// Tells the kernel which files the next reads want (see `read_ahead`).
    read_ahead: ReadAhead,
    /// Every evidence file's path as [`EvidenceStore::open`] listed them,
    /// until [`EvidenceStore::evidence_paths`] takes them.
    listing: Mutex<Option<Vec<String>>>,
}

impl EvidenceStore {
    /// Opens an evidence folder (it must exist and hold no symbolic link).
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        if !root.is_dir() {
            return Err(StoreError::NotAFolder {
                path: root.to_path_buf(),
            });
        }
        let listing = list_evidence(root)?;
        Ok(Self {
            root: root.to_path_buf(),
            cache: Mutex::new(HashMap::new()),
            read_ahead: ReadAhead::default(),
            listing: Mutex::new(Some(listing)),
        })
    }

    /// Reads and validates `run.json`.
    pub(crate) fn run_info(&self) -> Result<RunInfo, StoreError> {
        read_json_file(&self.root.join("run.json"))
    }

    /// The document for `key`, or `None` when it was never collected.
    pub(crate) fn get(&self, key: &EvidenceKey) -> Option<Arc<EvidenceDoc>> {
        self.load(&key.relative_path())
    }

    /// [`EvidenceStore::get`] without keeping the document when it is read
    /// from disk: for the run-wide maps over every account (`account =
    /// "all"`), which keep the value they need, not 10,000 accounts' parsed
    /// documents until the first pass ends.
    pub(crate) fn peek(&self, key: &EvidenceKey) -> Option<Arc<EvidenceDoc>> {
        let rel_path = key.relative_path();
        if let Some(hit) = self.cached(&rel_path) {
            return hit;
        }
        self.read_from_disk(&rel_path)
    }

    /// Every qualified document of one operation in one account and region
    /// (e.g. `GetObjectLockConfiguration` for each bucket), sorted by path.
    pub(crate) fn list_qualified(&self, key: &EvidenceKey) -> Vec<Arc<EvidenceDoc>> {
        let dir = key.service_dir();
        let prefix = format!("{}.", key.operation);
        let Ok(entries) = std::fs::read_dir(self.root.join(&dir)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.starts_with(&prefix) && name.ends_with(".json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| self.load(&format!("{dir}/{name}")))
            .collect()
    }

    /// Every evidence file's path (not `run.json`/`org.json`, not the
    /// attachments), in the order the evidence index lists them: the
    /// listing [`EvidenceStore::open`] made the first time (the folder is
    /// listed once for both), the folder listed again after that.
    pub(crate) fn evidence_paths(&self) -> Result<Vec<String>, StoreError> {
        let listed = self
            .listing
            .lock()
            .expect("evidence listing poisoned")
            .take();
        match listed {
            Some(paths) => Ok(paths),
            None => list_evidence(&self.root),
        }
    }

    /// Reads the documents at `paths` on every core, in their order, without
    /// keeping them: the evidence index reads every file once, a batch at a
    /// time, and evaluation reads what its controls bind, an account pass at
    /// a time, so neither holds the whole store.
    pub(crate) fn read_documents(&self, paths: &[String]) -> Result<Vec<EvidenceDoc>, StoreError> {
        paths
            .par_iter()
            .map(|rel_path| {
                let path = self.root.join(rel_path);
                let bytes =
                    std::fs::read(&path).map_err(|source| StoreError::Read { path, source })?;
                Ok(read_document(rel_path, &bytes))
            })
            .collect()
    }

    /// Starts reading `rel_paths` in the background (the next batch of the
    /// index), for the reads that follow.
    fn read_ahead_paths(&self, rel_paths: &[String]) {
        let files = rel_paths.iter().map(|p| self.root.join(p)).collect();
        self.read_ahead.files(files);
    }

    /// Starts reading the documents of `keys` in the background (what
    /// planning reads one account after another).
    pub(crate) fn read_ahead_keys(&self, keys: impl Iterator<Item = EvidenceKey>) {
        let files = keys.map(|k| self.root.join(k.relative_path())).collect();
        self.read_ahead.files(files);
    }

    /// Starts reading every file of `accounts` in the background (the next
    /// account pass of evaluation).
    pub(crate) fn read_ahead_accounts(&self, accounts: &[&str]) {
        let folders = accounts.iter().map(|a| self.root.join(a)).collect();
        self.read_ahead.folders(folders);
    }

    /// Reads the documents at `paths` a `batch` at a time, in order, and
    /// hands each batch to `each`; while one batch is read and handed over,
    /// the next is read ahead.
    pub(crate) fn read_in_batches(
        &self,
        paths: &[String],
        batch: usize,
        mut each: impl FnMut(Vec<EvidenceDoc>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let batches: Vec<&[String]> = paths.chunks(batch.max(1)).collect();
        if let Some(first) = batches.first() {
            self.read_ahead_paths(first);
        }
        for (n, paths) in batches.iter().enumerate() {
            if let Some(next) = batches.get(n + 1) {
                self.read_ahead_paths(next);
            }
            each(self.read_documents(paths)?)?;
        }
        Ok(())
    }

    /// Drops every document kept for the controls (`report` evaluates the
    /// accounts a pass at a time and drops what each pass read; a document
    /// needed again is read from disk again).
    pub(crate) fn forget_every_document(&self) {
        self.cache.lock().expect("evidence cache poisoned").clear();
    }

    /// The paths of the documents kept (for tests of what evaluation drops).
    #[cfg(test)]
    pub(crate) fn cached_documents(&self) -> Vec<String> {
        let cache = self.cache.lock().expect("evidence cache poisoned");
        let mut paths: Vec<String> = cache.keys().cloned().collect();
        paths.sort();
        paths
    }

    /// The attachments beside the evidence (`attachments/`), and every
    /// problem with them (see `super::attachments`).
    pub fn attachments(
        &self,
    ) -> (
        Vec<super::attachments::Attachment>,
        Vec<super::attachments::AttachmentError>,
    ) {
        super::attachments::read_attachments(&self.root)
    }

    fn load(&self, rel_path: &str) -> Option<Arc<EvidenceDoc>> {
        if let Some(hit) = self.cached(rel_path) {
            return hit;
        }
        let doc = self.read_from_disk(rel_path);
        self.cache
            .lock()
            .expect("evidence cache poisoned")
            .insert(rel_path.to_string(), doc.clone());
        doc
    }

    /// The kept document (or kept absence) at `rel_path`, if any.
    fn cached(&self, rel_path: &str) -> Option<Option<Arc<EvidenceDoc>>> {
        let cache = self.cache.lock().expect("evidence cache poisoned");
        cache.get(rel_path).cloned()
    }

    fn read_from_disk(&self, rel_path: &str) -> Option<Arc<EvidenceDoc>> {
        std::fs::read(self.root.join(rel_path))
            .ok()
            .map(|bytes| Arc::new(read_document(rel_path, &bytes)))
    }
}

/// A document from its bytes: hashed, parsed, and checked against its path.
fn read_document(rel_path: &str, bytes: &[u8]) -> EvidenceDoc {
    let envelope = parse_envelope(bytes).and_then(|env| check_location(env, rel_path));
    EvidenceDoc {
        path: rel_path.to_string(),
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        envelope,
    }
}

/// `path` below `root`, `/`-separated (the form evidence paths take everywhere).
pub(super) fn relative_slash_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .expect("walkdir stays under root")
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// SHA-256 of some bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The envelope in `bytes`, or where and why it does not parse.
fn parse_envelope(bytes: &[u8]) -> Result<Envelope, InvalidDocument> {
    let envelope =
        serde_json::from_slice::<Envelope>(bytes).map_err(|source| InvalidDocument::Parse {
            line: source.line(),
            column: source.column(),
            source,
        })?;
    if envelope.schema_version != super::SCHEMA_VERSION {
        return Err(InvalidDocument::UnsupportedVersion {
            found: envelope.schema_version,
        });
    }
    Ok(envelope)
}

/// An envelope stored under another account's or operation's path is rejected:
/// the path is what controls look up, so a mismatch would let evidence of one
/// account stand in for another.
fn check_location(env: Envelope, rel_path: &str) -> Result<Envelope, InvalidDocument> {
    let expected = EvidenceKey {
        account_id: env.account_id.clone(),
        region: super::RegionDir::from_region(env.region.as_deref()),
        service: env.call.service.clone(),
        operation: env.call.operation.clone(),
        qualifier: env.call.qualifier.clone(),
    };
    let described = expected.relative_path();
    if described != rel_path {
        return Err(InvalidDocument::Misplaced {
            described,
            stored: rel_path.to_string(),
        });
    }
    Ok(env)
}

/// Threads that list the evidence folders, side by side. A folder not in
/// the kernel's caches is a wait on the disk, and the walk is mostly that:
/// at 10,000 accounts × 4 regions (~500,000 folders, 837,088 files) one
/// thread listed them in 46 s. Each thread holds a path list of its own
/// folder at a time, nothing more.
const LISTING_THREADS: usize = 8;

/// Every evidence file's path below `root` in path order (not the files at
/// its top, `run.json` and `org.json`, nor the attachments), failing on the
/// first symbolic link below `root` (files and folders alike; `root` itself
/// may be a link to the folder the user named) and on the first name that
/// is not UTF-8 (said as such, not as a missing file), in path order. The
/// top's folders (one an account) are listed side by side.
fn list_evidence(root: &Path) -> Result<Vec<String>, StoreError> {
    let top = WalkDir::new(root)
        .min_depth(1)
        .max_depth(1)
        .sort_by_file_name();
    let top: Vec<walkdir::DirEntry> = top
        .into_iter()
        .map(|entry| checked(root, entry))
        .collect::<Result<_, _>>()?;
    let folders: Vec<&walkdir::DirEntry> = top.iter().filter(|e| e.file_type().is_dir()).collect();
    let list = || -> Vec<Result<Vec<String>, StoreError>> {
        folders
            .par_iter()
            .map(|folder| list_folder(root, folder))
            .collect()
    };
    let listed = match rayon::ThreadPoolBuilder::new()
        .num_threads(LISTING_THREADS)
        .build()
    {
        Ok(pool) => pool.install(list),
        Err(_) => list(),
    };
    let mut paths = Vec::new();
    for folder in listed {
        paths.extend(folder?);
    }
    Ok(paths)
}

/// The evidence files below one of the top's folders, in path order (none
/// for the attachments' folder, whose files are still checked).
fn list_folder(root: &Path, folder: &walkdir::DirEntry) -> Result<Vec<String>, StoreError> {
    let attachments = folder.file_name() == super::attachments::ATTACHMENTS_DIR;
    let mut paths = Vec::new();
    for entry in WalkDir::new(folder.path()).min_depth(1).sort_by_file_name() {
        let entry = checked(root, entry)?;
        if entry.file_type().is_file() && !attachments {
            paths.push(relative_slash_path(root, entry.path()));
        }
    }
    Ok(paths)
}

/// `entry` of the walk below `root`, unless the walk failed there or it is a
/// symbolic link or has a name that is not UTF-8.
fn checked(
    root: &Path,
    entry: walkdir::Result<walkdir::DirEntry>,
) -> Result<walkdir::DirEntry, StoreError> {
    let entry = entry.map_err(|e| StoreError::Read {
        path: e.path().unwrap_or(root).to_path_buf(),
        source: e
            .into_io_error()
            .unwrap_or_else(|| std::io::Error::other("walk failed")),
    })?;
    if entry.path_is_symlink() {
        return Err(StoreError::SymbolicLink {
            path: entry.path().to_path_buf(),
        });
    }
    if entry.file_name().to_str().is_none() {
        return Err(StoreError::NotUtf8Name {
            path: entry.path().to_path_buf(),
        });
    }
    Ok(entry)
}

/// Reads a JSON file into `T`, naming file, line and column on error.
pub fn read_json_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::RegionDir;

    /// `peek` reads a document without keeping it (the run-wide maps over
    /// every account would otherwise keep 10,000 accounts' documents until
    /// a pass ends), and gives the kept one when there is one.
    #[test]
    fn peek_reads_without_keeping_and_get_keeps() {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let store = EvidenceStore::open(&repo.join("evidence-samples")).unwrap();
        let key = EvidenceKey {
            account_id: "025569892925".into(),
            region: RegionDir::Global,
            service: "iam".into(),
            operation: "GetAccountPasswordPolicy".into(),
            qualifier: None,
        };
        let peeked = store.peek(&key).expect("the samples have the file");
        assert_eq!(peeked.path, key.relative_path());
        assert!(store.cached_documents().is_empty(), "peek kept a document");
        let kept = store.get(&key).expect("the same file");
        assert_eq!(store.cached_documents(), vec![key.relative_path()]);
        assert!(
            Arc::ptr_eq(&kept, &store.peek(&key).unwrap()),
            "peek gives the kept copy"
        );
        assert_eq!(kept.sha256, peeked.sha256);
    }

    /// The listing, made a top folder at a time side by side, is every
    /// evidence file in path order (not the top's files, not the
    /// attachments), the same when listed again; a link is refused naming
    /// it, at the top or a folder deep down.
    #[test]
    fn the_listing_is_every_evidence_file_in_path_order_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "run.json",
            "org.json",
            "b/global/iam/X.json",
            "a/eu-west-1/s3/Z.json",
            "a/eu-west-1/s3/Y.json",
            "a/global/iam/A.json",
            "attachments/policy.pdf",
            "c/x.json",
        ];
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"{}").unwrap();
        }
        let store = EvidenceStore::open(root).unwrap();
        let expected = [
            "a/eu-west-1/s3/Y.json",
            "a/eu-west-1/s3/Z.json",
            "a/global/iam/A.json",
            "b/global/iam/X.json",
            "c/x.json",
        ];
        assert_eq!(store.evidence_paths().unwrap(), expected);
        assert_eq!(store.evidence_paths().unwrap(), expected, "listed again");

        let top_link = root.join("zz.json");
        std::os::unix::fs::symlink(root.join("run.json"), &top_link).unwrap();
        let refused = EvidenceStore::open(root).unwrap_err();
        assert!(matches!(&refused, StoreError::SymbolicLink { path } if *path == top_link));
        std::fs::remove_file(&top_link).unwrap();

        let deep_link = root.join("b/global/linked");
        std::os::unix::fs::symlink(root.join("a"), &deep_link).unwrap();
        let refused = EvidenceStore::open(root).unwrap_err();
        assert!(matches!(&refused, StoreError::SymbolicLink { path } if *path == deep_link));
    }
}
