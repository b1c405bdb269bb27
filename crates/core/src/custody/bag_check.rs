//! `auditpack verify`: recomputes every hash of a bundle (a zip, or an unzipped
//! bag folder) and names each changed, missing or extra file.
//!
//! Checking hashes never extracts anything to disk: entries are hashed as they
//! are read, and an entry whose name could escape the bag (`../`, absolute
//! paths, backslashes) is itself a finding. A file that is not a bag gets a
//! clear error, not a panic. Only re-evaluation copies files out
//! ([`copy_payload`]): manifest-listed files with safe names, into a folder it
//! owns, re-checking each hash as it copies.
//!
//! The signature files in `signature/` (see `crate::custody`) are listed in no
//! manifest, since they sign the tag manifest; they are expected by name, and
//! any other unlisted file is still reported as extra.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::limits::{Allowance, BadCap, BagLimits, Exceeded};
use super::zip_file::Inflate;
use crate::outputs::bagit::{decode_manifest_path, BAGIT_TXT, MANIFEST, TAG_MANIFEST};

/// Files whose bytes are kept in memory while reading (small, needed afterwards
/// by signature, coverage, freshness and diff checks), and `data/results.json`
/// when `results` (the largest: 70 MB at 1,000 accounts × 4 regions; a plain
/// `verify` only hashes it).
fn keep_bytes(path: &str, results: bool) -> bool {
    (results && path == "data/results.json")
        || !path.starts_with("data/")
        || path.starts_with("data/controls/")
        || matches!(
            path,
            "data/org.json"
                | "data/run.json"
                | "data/coverage.json"
                | "data/auditpack.toml"
                | "data/waivers.toml"
                | "data/period.json"
        )
}

/// One file of a bag as read.
#[derive(Debug, Clone)]
pub struct BagEntry {
    /// SHA-256, as bytes: hex only when shown (a bundle holds tens of
    /// thousands of files, and a hex string each was an allocation each).
    pub sha256: [u8; 32],
    /// Size in bytes.
    pub size: u64,
    /// The bytes, for tag files and `data/results.json`.
    pub bytes: Option<Vec<u8>>,
}

/// A bag's files, keyed by their path inside the bag (`data/…`, `bagit.txt`).
#[derive(Debug, Clone)]
pub struct BagContents {
    /// The bag's top folder name (zip) or folder name (directory).
    pub name: String,
    /// Every regular file.
    pub entries: BTreeMap<String, BagEntry>,
    /// Entries refused without being read: unsafe names, symbolic links,
    /// duplicated names.
    pub refused: Vec<Problem>,
    /// SHA-256 of the zip file itself, taken while reading it (`None` for a
    /// folder bag).
    pub zip_sha256: Option<String>,
}

/// Why a path could not be read as a bag at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Unreadable file or folder.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Readable, but not an auditpack bundle.
    #[error("{path} is not an auditpack bundle: {reason}")]
    NotABundle {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An entry (or the bundle as a whole) is larger than a cap allows
    /// (see `super::limits`): refused before it is read in full.
    #[error("{path}: entry '{entry}' is {exceeded}")]
    TooLarge {
        /// The bundle.
        path: PathBuf,
        /// The entry that crossed the cap (the bundle itself for the entry count).
        entry: String,
        /// The cap.
        exceeded: Exceeded,
    },
    /// A cap's environment variable is not a number.
    #[error(transparent)]
    BadCap(#[from] BadCap),
}

/// A finding: the bag does not match its manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file's hash differs from its manifest line.
    Changed {
        /// The manifest that lists it.
        manifest: String,
        /// Path in the bag.
        path: String,
        /// From the manifest.
        expected: String,
        /// Recomputed.
        actual: String,
    },
    /// Listed in a manifest, absent from the bag.
    Missing {
        /// The manifest that lists it.
        manifest: String,
        /// Path in the bag.
        path: String,
    },
    /// Present in the bag, listed in no manifest.
    Extra(String),
    /// An entry name that could escape the bag folder.
    UnsafeEntry(String),
    /// A symbolic link (a zip entry whose Unix mode says so, or a link in a
    /// bag folder): a bag holds regular files only, and `unzip` would create
    /// the link, pointing anywhere.
    Symlink(String),
    /// A name the zip holds more than once: which copy a tool reads differs
    /// (this reader, `unzip`, a file manager), so neither is trusted.
    DuplicateEntry(String),
    /// A manifest line that cannot be read.
    MalformedManifest {
        /// The manifest.
        manifest: String,
        /// 1-based line.
        line: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Changed {
                manifest,
                path,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "changed: {path} ({manifest} says {expected}, the file hashes to {actual})"
                )
            }
            Problem::Missing { manifest, path } => write!(
                f,
                "missing: {path} (listed in {manifest}, absent from the bundle)"
            ),
            Problem::Extra(path) => {
                write!(f, "extra: {path} (in the bundle, listed in no manifest)")
            }
            Problem::UnsafeEntry(name) => write!(
                f,
                "unsafe entry: {name} (a name that could escape the bag folder)"
            ),
            Problem::Symlink(name) => write!(
                f,
                "symbolic link: {name} (a bag holds regular files only; extracting it would create a link)"
            ),
            Problem::DuplicateEntry(name) => write!(
                f,
                "duplicate entry: {name} (the zip holds this name more than once; tools disagree on which copy they read)"
            ),
            Problem::MalformedManifest { manifest, line } => {
                write!(f, "malformed: {manifest} line {line}")
            }
        }
    }
}

/// The outcome of verifying a bag.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The bag.
    pub contents: BagContents,
    /// Payload files listed in the manifest.
    pub payload_files: usize,
    /// The payload manifest's lines (path → SHA-256); malformed lines are
    /// left out (and are problems).
    pub payload: BTreeMap<String, String>,
    /// Every mismatch; empty means the bag is intact.
    pub problems: Vec<Problem>,
}

impl BagEntry {
    /// The SHA-256 as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// True when the SHA-256 is `hex` (lowercase), compared without allocating.
    fn has_sha256(&self, hex: &str) -> bool {
        let mut ours = [0u8; 64];
        hex::encode_to_slice(self.sha256, &mut ours).is_ok() && ours == hex.as_bytes()
    }
}

impl Verification {
    /// True when every hash matches and nothing is missing or extra.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads and checks a bundle zip or an unzipped bag folder.
pub fn verify_path(path: &Path) -> Result<Verification, VerifyError> {
    let contents = read_bag(path)?;
    Ok(check(contents))
}

/// Reads a bag from a zip or a folder, hashing every file, within the caps
/// of `super::limits` (defaults, or their environment variables).
pub(crate) fn read_bag(path: &Path) -> Result<BagContents, VerifyError> {
    read_bag_keeping(path, true)
}

/// [`read_bag`], keeping `data/results.json`'s bytes only when `results`.
pub(crate) fn read_bag_keeping(path: &Path, results: bool) -> Result<BagContents, VerifyError> {
    let mut allowance = Allowance::new(BagLimits::from_env()?);
    let contents = if path.is_dir() {
        read_dir_bag(path, &mut allowance, results)?
    } else {
        read_zip_bag(path, &mut allowance, results)?
    };
    if !contents.entries.contains_key(BAGIT_TXT) {
        return Err(VerifyError::NotABundle {
            path: path.to_path_buf(),
            reason: "it has no bagit.txt".into(),
        });
    }
    if !contents.entries.contains_key(MANIFEST) {
        return Err(VerifyError::NotABundle {
            path: path.to_path_buf(),
            reason: format!("it has no {MANIFEST}"),
        });
    }
    Ok(contents)
}

fn read_zip_bag(
    path: &Path,
    allowance: &mut Allowance,
    results: bool,
) -> Result<BagContents, VerifyError> {
    let not_bundle = |reason: String| VerifyError::NotABundle {
        path: path.to_path_buf(),
        reason,
    };
    let too_large = |entry: &str, exceeded| VerifyError::TooLarge {
        path: path.to_path_buf(),
        entry: entry.to_string(),
        exceeded,
    };
    let mut archive = super::zip_file::open_zip(path)
        .map_err(|source| VerifyError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .map_err(|e| not_bundle(format!("not a readable zip ({e})")))?;
    allowance
        .check_count(archive.len() as u64)
        .map_err(|e| too_large("(the whole zip)", e))?;
    let mut refused = duplicated_names(path, &archive)?;
    let mut top: Option<String> = None;
    // Collected, then built into the map in one pass (names are unique here:
    // the zip crate keeps one record per name, see `duplicated_names`).
    let mut entries = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index_raw(i)
            .map_err(|e| not_bundle(format!("entry {i} is unreadable ({e})")))?;
        let name = entry
            .name()
            .map_err(|e| not_bundle(format!("entry {i} has an unreadable name ({e})")))?
            .to_string();
        if entry.is_dir() {
            continue;
        }
        // The zip crate's own check parses every name as a Windows path
        // (8 % of verifying a bundle of 84,000 files); `is_safe_name` refuses
        // everything it would except drive prefixes, which need a colon.
        if !is_safe_name(&name) || (name.contains(':') && entry.enclosed_name().is_none()) {
            refused.push(Problem::UnsafeEntry(name));
            continue;
        }
        if entry.is_symlink() {
            refused.push(Problem::Symlink(name));
            continue;
        }
        let Some((first, rest)) = name.split_once('/') else {
            return Err(not_bundle(format!(
                "entry '{name}' is not inside the bag's top folder"
            )));
        };
        match &top {
            None => top = Some(first.to_string()),
            Some(t) if t != first => {
                return Err(not_bundle(format!(
                    "entries are in more than one top folder ('{t}', '{first}')"
                )));
            }
            _ => {}
        }
        if entry.encrypted() {
            return Err(not_bundle(format!("entry '{name}' is encrypted")));
        }
        let keep = keep_bytes(rest, results);
        // No more than the size the zip declares (and one byte to tell), as
        // the zip crate's own reader stops there: a stream that inflates to
        // other than its declared size is corrupt.
        let declared = entry.size();
        let read = match entry.compression() {
            zip::CompressionMethod::Stored => read_entry(
                &mut (&mut entry).take(declared + 1),
                keep,
                declared,
                allowance,
            ),
            zip::CompressionMethod::Deflated => INFLATE.with_borrow_mut(|(state, input)| {
                let inflate = Inflate::new(&mut entry, state, input);
                read_entry(&mut inflate.take(declared + 1), keep, declared, allowance)
            }),
            other => {
                return Err(not_bundle(format!(
                    "entry '{name}' is compressed with {other}, not deflate"
                )))
            }
        }
        .map_err(|e| match e {
            EntryError::TooLarge(exceeded) => too_large(&name, exceeded),
            EntryError::Io(e) => not_bundle(format!("entry '{name}' is corrupt ({e})")),
        })?;
        if read.size != declared {
            return Err(not_bundle(format!(
                "entry '{name}' is corrupt (its data is not the {declared} bytes the zip declares)"
            )));
        }
        entries.push((rest.to_string(), read));
    }
    let entries = BTreeMap::from_iter(entries);
    let name = top.ok_or_else(|| not_bundle("the zip is empty".into()))?;
    let zip_sha256 = archive
        .into_inner()
        .finish_sha256()
        .map_err(|source| VerifyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(BagContents {
        name,
        entries,
        refused,
        zip_sha256: Some(zip_sha256),
    })
}

/// The names a zip holds more than once, each as a [`Problem::DuplicateEntry`].
///
/// The zip crate keeps one central-directory record per name and only says
/// that some name was repeated; the local headers, read in order as `unzip`
/// does, tell which. Nothing is decompressed: dropping a streamed entry skips
/// its compressed bytes, so this costs one pass over the file.
fn duplicated_names(
    path: &Path,
    archive: &zip::ZipArchive<super::zip_file::SeekBuffer<std::fs::File>>,
) -> Result<Vec<Problem>, VerifyError> {
    if !archive.has_duplicate_names() {
        return Ok(Vec::new());
    }
    let file = std::fs::File::open(path).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = std::io::BufReader::new(file);
    let mut seen = std::collections::BTreeSet::new();
    let mut repeated = std::collections::BTreeSet::new();
    // An unreadable local header ends the listing; the problem still stands.
    while let Ok(Some(entry)) = zip::read::read_zipfile_from_stream(&mut reader) {
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if !seen.insert(name.clone()) {
            repeated.insert(name);
        }
    }
    if repeated.is_empty() {
        repeated.insert("(a name the local headers do not show)".to_string());
    }
    Ok(repeated.into_iter().map(Problem::DuplicateEntry).collect())
}

/// Rejects names that are absolute, contain `..` components or backslashes.
fn is_safe_name(name: &str) -> bool {
    !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && name.split('/').all(|part| part != ".." && part != ".")
}

fn read_dir_bag(
    root: &Path,
    allowance: &mut Allowance,
    results: bool,
) -> Result<BagContents, VerifyError> {
    let io = |path: &Path, source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries = BTreeMap::new();
    let mut refused = Vec::new();
    let mut count = 0u64;
    for entry in WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| io(root, std::io::Error::other(e)))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under root");
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type().is_dir() {
            continue;
        }
        count += 1;
        allowance
            .check_count(count)
            .map_err(|exceeded| VerifyError::TooLarge {
                path: root.to_path_buf(),
                entry: rel.clone(),
                exceeded,
            })?;
        if entry.file_type().is_symlink() {
            refused.push(Problem::Symlink(rel));
            continue;
        }
        if !entry.file_type().is_file() {
            refused.push(Problem::UnsafeEntry(rel));
            continue;
        }
        let mut file = std::fs::File::open(entry.path()).map_err(|e| io(entry.path(), e))?;
        let keep = keep_bytes(&rel, results);
        let expected = file.metadata().map_or(0, |m| m.len());
        let read = read_entry(&mut file, keep, expected, allowance).map_err(|e| match e {
            EntryError::TooLarge(exceeded) => VerifyError::TooLarge {
                path: root.to_path_buf(),
                entry: rel.clone(),
                exceeded,
            },
            EntryError::Io(e) => io(entry.path(), e),
        })?;
        entries.insert(rel, read);
    }
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BagContents {
        name,
        entries,
        refused,
        zip_sha256: None,
    })
}

/// The most allocated ahead for an entry's kept bytes (see [`read_entry`]).
const PREALLOCATE_AT_MOST: u64 = 256 * 1024 * 1024;

/// Why one entry could not be read.
enum EntryError {
    Io(std::io::Error),
    TooLarge(Exceeded),
}

/// Hashes one entry (keeping its bytes when `keep`), reading at most one byte
/// more than the caps leave: the byte that tells it is too large. `expected`
/// is the size the zip or file system declares: kept bytes are allocated
/// once at that size (within the caps), not grown by doubling.
fn read_entry(
    reader: &mut impl Read,
    keep: bool,
    expected: u64,
    allowance: &mut Allowance,
) -> Result<BagEntry, EntryError> {
    let (left, exceeded) = allowance.next_entry(keep);
    // Capped: a hostile zip may declare any size; past this the bytes grow
    // as they come, within the caps above.
    let capacity = usize::try_from(expected.min(left).min(PREALLOCATE_AT_MOST)).unwrap_or(0);
    let read = hash_reader(&mut reader.take(left.saturating_add(1)), keep, capacity)
        .map_err(EntryError::Io)?;
    if read.size > left {
        return Err(EntryError::TooLarge(exceeded));
    }
    allowance.spend(read.size, keep);
    Ok(read)
}

thread_local! {
    /// One read buffer per thread, reused for every entry: a bundle has tens
    /// of thousands of small files, and a fresh 64 KiB buffer for each was
    /// gigabytes of zeroing per bundle.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 64 * 1024]);
}

thread_local! {
    /// One raw-deflate decompressor and its input buffer per thread, reset
    /// for each entry (see [`Inflate`]).
    static INFLATE: std::cell::RefCell<(flate2::Decompress, Vec<u8>)> =
        std::cell::RefCell::new((flate2::Decompress::new(false), vec![0u8; 64 * 1024]));
}

fn hash_reader(reader: &mut impl Read, keep: bool, capacity: usize) -> std::io::Result<BagEntry> {
    READ_BUFFER.with_borrow_mut(|buf| hash_reader_with(reader, keep, capacity, buf))
}

fn hash_reader_with(
    reader: &mut impl Read,
    keep: bool,
    capacity: usize,
    buf: &mut [u8],
) -> std::io::Result<BagEntry> {
    let mut hasher = Sha256::new();
    let mut kept = keep.then(|| Vec::with_capacity(capacity));
    let mut size = 0u64;
    loop {
        let n = reader.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
        size += n as u64;
    }
    Ok(BagEntry {
        sha256: hasher.finalize().into(),
        size,
        bytes: kept,
    })
}

/// Compares a bag's files with both manifests.
pub(crate) fn check(contents: BagContents) -> Verification {
    let mut problems: Vec<Problem> = contents.refused.clone();
    let payload = parse_manifest(&contents, MANIFEST, &mut problems);
    let tags = if contents.entries.contains_key(TAG_MANIFEST) {
        parse_manifest(&contents, TAG_MANIFEST, &mut problems)
    } else {
        problems.push(Problem::Missing {
            manifest: "the bag layout".into(),
            path: TAG_MANIFEST.into(),
        });
        BTreeMap::new()
    };
    // Payload lines first, then tag-manifest lines, then extra files, as
    // before; the payload manifest and the bag's files are both sorted by
    // path, so they are compared in one pass, not by a lookup each (tens of
    // thousands of long paths sharing their first fifty bytes).
    let mut changed = Vec::new();
    let mut extra = Vec::new();
    let unlisted = |path: &String| {
        !(tags.contains_key(path)
            || path == TAG_MANIFEST
            || crate::custody::SIGNATURE_FILES.contains(&path.as_str()))
    };
    let mut files = contents.entries.iter().peekable();
    for (path, expected) in &payload {
        while let Some((before, _)) = files.next_if(|(p, _)| *p < path) {
            if unlisted(before) {
                extra.push(Problem::Extra(before.clone()));
            }
        }
        let entry = files.next_if(|(p, _)| *p == path).map(|(_, e)| e);
        changed.extend(compare_line(MANIFEST, path, expected, entry));
    }
    for (path, _) in files {
        if unlisted(path) {
            extra.push(Problem::Extra(path.clone()));
        }
    }
    for (path, expected) in &tags {
        changed.extend(compare_line(
            TAG_MANIFEST,
            path,
            expected,
            contents.entries.get(path),
        ));
    }
    problems.extend(changed);
    problems.extend(extra);
    Verification {
        payload_files: payload.len(),
        payload,
        problems,
        contents,
    }
}

/// One manifest line against the file it names: missing, changed or fine.
fn compare_line(
    manifest: &str,
    path: &str,
    expected: &str,
    entry: Option<&BagEntry>,
) -> Option<Problem> {
    match entry {
        None => Some(Problem::Missing {
            manifest: manifest.into(),
            path: path.into(),
        }),
        Some(entry) if !entry.has_sha256(expected) => Some(Problem::Changed {
            manifest: manifest.into(),
            path: path.into(),
            expected: expected.into(),
            actual: entry.sha256_hex(),
        }),
        Some(_) => None,
    }
}

/// Copies the payload files that `target` maps to a destination out of a bag
/// (zip or folder), checking each against `manifest` while copying, so what is
/// copied is exactly what was verified. Returns how many files were copied.
pub(crate) fn copy_payload(
    bag: &Path,
    manifest: &BTreeMap<String, String>,
    target: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<usize, VerifyError> {
    let mut copied = 0;
    // The copy was verified under the total cap; a stream that grows past
    // it while being copied stops there, and then fails its hash.
    let cap = BagLimits::from_env()?.total_bytes.saturating_add(1);
    let mut copy_one = |rel: &str, reader: &mut dyn Read| -> Result<(), VerifyError> {
        let mut reader = reader.take(cap);
        let Some(dest) = target(rel).filter(|_| is_safe_name(rel)) else {
            return Ok(());
        };
        let Some(expected) = manifest.get(rel) else {
            return Ok(());
        };
        let io = |source| VerifyError::Io {
            path: dest.clone(),
            source,
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = std::fs::File::create(&dest).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            std::io::Write::write_all(&mut file, &buf[..n]).map_err(io)?;
        }
        if &hex::encode(hasher.finalize()) != expected {
            return Err(VerifyError::NotABundle {
                path: bag.to_path_buf(),
                reason: format!("{rel} changed while it was being read"),
            });
        }
        copied += 1;
        Ok(())
    };
    let io = |source| VerifyError::Io {
        path: bag.to_path_buf(),
        source,
    };
    if bag.is_dir() {
        for rel in manifest.keys() {
            if !is_safe_name(rel) || target(rel).is_none() {
                continue;
            }
            let mut file = std::fs::File::open(bag.join(rel)).map_err(io)?;
            copy_one(rel, &mut file)?;
        }
    } else {
        let mut archive =
            super::zip_file::open_zip(bag)
                .map_err(io)?
                .map_err(|e| VerifyError::NotABundle {
                    path: bag.to_path_buf(),
                    reason: format!("not a readable zip ({e})"),
                })?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|e| VerifyError::NotABundle {
                path: bag.to_path_buf(),
                reason: format!("entry {i} is unreadable ({e})"),
            })?;
            let name = entry.name().unwrap_or_default().to_string();
            if entry.is_dir() {
                continue;
            }
            if let Some((_, rest)) = name.split_once('/') {
                let rest = rest.to_string();
                copy_one(&rest, &mut entry)?;
            }
        }
    }
    Ok(copied)
}

/// Parses `<sha256>  <path>` lines (one or more spaces, optional `*` binary
/// marker), the path percent-decoded as RFC 8493 encodes it (`%0A`, `%0D`, `%25`).
fn parse_manifest(
    contents: &BagContents,
    manifest: &str,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, String> {
    let text = contents
        .entries
        .get(manifest)
        .and_then(|e| e.bytes.as_deref())
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    // Collected, then built into the map in one pass: manifests are written
    // sorted, and a repeated path keeps its last line, as inserting would.
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once(char::is_whitespace)
            .and_then(|(hash, path)| {
                let path = path.trim_start().trim_start_matches('*');
                let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
                (hash_ok && !path.is_empty())
                    .then(|| (decode_manifest_path(path), hash.to_ascii_lowercase()))
            });
        match parsed {
            Some(line) => lines.push(line),
            None => problems.push(Problem::MalformedManifest {
                manifest: manifest.into(),
                line: i + 1,
            }),
        }
    }
    BTreeMap::from_iter(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "a\\b", "a/./b"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert!(is_safe_name(
            "bag/data/evidence/1/global/s3/ListBuckets.json"
        ));
    }

    fn file(bytes: &[u8]) -> BagEntry {
        BagEntry {
            sha256: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
            bytes: Some(bytes.to_vec()),
        }
    }

    /// The payload manifest and the files are compared in one sorted pass:
    /// extras before, between and after the listed paths, a missing path and
    /// a changed one are each found, in the order the checks always gave
    /// (payload lines, tag-manifest lines, then extra files).
    #[test]
    fn every_mismatch_is_found_wherever_it_falls_in_the_sorted_listing() {
        let hex = |b: &[u8]| hex::encode(Sha256::digest(b));
        let manifest = format!(
            "{}  data/b\n{}  data/d\n{}  data/f\n",
            hex(b"b"),
            hex(b"d"),
            hex(b"f")
        );
        let tags = format!(
            "{}  bagit.txt\n{}  manifest-sha256.txt\n{}  bag-info.txt\n",
            hex(b"BagIt"),
            hex(manifest.as_bytes()),
            hex(b"info")
        );
        let mut entries = BTreeMap::new();
        for (path, bytes) in [
            ("bagit.txt", b"BagIt".as_slice()),
            ("data/a", b"extra before"),
            ("data/b", b"b"),
            ("data/c", b"extra between"),
            ("data/f", b"changed"),
            ("data/g", b"extra after"),
            (MANIFEST, manifest.as_bytes()),
            (TAG_MANIFEST, tags.as_bytes()),
        ] {
            entries.insert(path.to_string(), file(bytes));
        }
        let verification = check(BagContents {
            name: "bag".into(),
            entries,
            refused: Vec::new(),
            zip_sha256: None,
        });
        let shown: Vec<String> = verification
            .problems
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "missing: data/d (listed in manifest-sha256.txt, absent from the bundle)"
                    .to_string(),
                format!(
                    "changed: data/f (manifest-sha256.txt says {}, the file hashes to {})",
                    hex(b"f"),
                    hex(b"changed")
                ),
                "missing: bag-info.txt (listed in tagmanifest-sha256.txt, absent from the bundle)"
                    .to_string(),
                "extra: data/a (in the bundle, listed in no manifest)".to_string(),
                "extra: data/c (in the bundle, listed in no manifest)".to_string(),
                "extra: data/g (in the bundle, listed in no manifest)".to_string(),
            ]
        );
        assert_eq!(verification.payload_files, 3);
    }

    #[test]
    fn a_manifest_hash_in_capitals_matches_and_a_repeated_line_keeps_the_last() {
        let upper = hex::encode_upper(Sha256::digest(b"x"));
        let manifest = format!("{}  data/x\n{upper}  data/x\n", "0".repeat(64));
        let mut entries = BTreeMap::new();
        entries.insert("data/x".to_string(), file(b"x"));
        entries.insert(MANIFEST.to_string(), file(manifest.as_bytes()));
        let contents = BagContents {
            name: "bag".into(),
            entries,
            refused: Vec::new(),
            zip_sha256: None,
        };
        let mut problems = Vec::new();
        let payload = parse_manifest(&contents, MANIFEST, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(payload.len(), 1);
        assert!(contents.entries["data/x"].has_sha256(&payload["data/x"]));
    }
}
