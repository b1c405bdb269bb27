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
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::limits::{Allowance, BadCap, BagLimits, Exceeded};
use super::zip_directory::{self, CentralDirectory, ZipReadError};
use super::zip_file::{Inflate, SeekBuffer};
pub use crate::outputs::bag_files::{BagEntry, BagFiles};
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

/// A bag's files, keyed by their path inside the bag (`data/…`, `bagit.txt`).
#[derive(Debug, Clone)]
pub struct BagContents {
    /// The bag's top folder name (zip) or folder name (directory).
    pub name: String,
    /// Every regular file, with the bytes of the kept ones.
    pub entries: BagFiles,
    /// The payload manifest as the zip stores it, deflated, when it was read
    /// from a zip: its text is inflated again as its lines are read (~120 MB
    /// of text at 10,000 accounts × 4 regions, ~55 MB deflated). `None`
    /// when its text is kept plain in `entries` (a folder, or a zip that
    /// stores it).
    pub deflated_manifest: Option<Vec<u8>>,
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
    /// Every mismatch; empty means the bag is intact.
    pub problems: Vec<Problem>,
}

impl Verification {
    /// The payload manifest's lines (path → SHA-256; malformed lines left
    /// out, a repeated path keeping its last line), parsed from its kept
    /// text when asked: a map of them beside the bag's files was ~160 MB of
    /// `verify` at 10,000 accounts × 4 regions, and only re-evaluation,
    /// `diff` and period packages look paths up in it.
    pub fn payload(&self) -> BTreeMap<String, String> {
        BTreeMap::from_iter(manifest_lines(manifest_reader(&self.contents, MANIFEST)).flatten())
    }

    /// The paths the payload manifest lists, in its order, read from its
    /// text as they are asked for.
    pub fn payload_paths(&self) -> impl Iterator<Item = String> + '_ {
        manifest_lines(manifest_reader(&self.contents, MANIFEST))
            .flatten()
            .map(|(path, _)| path)
    }

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
    let zip_error = |what: String| zip_read_error(path, what);
    let (mut directory, mut data) =
        open_zip_reading(path).map_err(zip_error("not a readable zip".into()))?;
    allowance
        .check_count(directory.declared_entries())
        .map_err(|e| too_large("(the whole zip)", e))?;
    let mut refused = Vec::new();
    let mut top: Option<String> = None;
    // Within the cap on entries checked above (and only reserved: pages a
    // zip that declares more than it holds never fills are never touched).
    let declared = usize::try_from(directory.declared_entries()).unwrap_or(0);
    let mut entries = BagFiles::with_capacity(declared);
    let mut deflated_manifest = None;
    let mut index = 0u64;
    while let Some(entry) = directory
        .next_entry()
        .map_err(zip_error(format!("entry {index} is unreadable")))?
    {
        index += 1;
        let name = &entry.name;
        if entry.is_dir() {
            continue;
        }
        if !is_safe_name(name) || has_drive_prefix(name) {
            refused.push(Problem::UnsafeEntry(name.clone()));
            continue;
        }
        if entry.is_symlink() {
            refused.push(Problem::Symlink(name.clone()));
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
        if entry.encrypted {
            return Err(not_bundle(format!("entry '{name}' is encrypted")));
        }
        let keep = keep_bytes(rest, results);
        let raw = zip_directory::entry_data(&mut data, &entry, directory.start())
            .map_err(zip_error(format!("entry '{name}' is corrupt")))?;
        // No more than the size the zip declares (and one byte to tell): a
        // stream that inflates to other than its declared size is corrupt.
        let declared = entry.size;
        // The payload manifest is kept as stored, deflated, when that is the
        // smaller (see `BagContents::deflated_manifest`); its text is still
        // inflated, hashed and capped as a kept file's is.
        let keep_deflated = rest == MANIFEST
            && entry.method == DEFLATED
            && entry.compressed_size <= declared.min(PREALLOCATE_AT_MOST);
        let keep = match keep_deflated {
            true => Keep::HashOnlyCappedAsKept,
            false => Keep::capped(keep),
        };
        let mut raw = Copying::new(raw, keep_deflated.then_some(entry.compressed_size));
        let read = with_entry_reader(entry.method, &mut raw, |reader| {
            read_entry(
                &mut reader.take(declared.saturating_add(1)),
                keep,
                declared,
                allowance,
            )
        })
        .ok_or_else(|| {
            not_bundle(format!(
                "entry '{name}' is compressed with method {}, not deflate",
                entry.method
            ))
        })?
        .map_err(|e| match e {
            EntryError::TooLarge(exceeded) => too_large(name, exceeded),
            EntryError::Io(e) => not_bundle(format!("entry '{name}' is corrupt ({e})")),
        })?;
        // A manifest that comes twice: the last copy is the one kept.
        if rest == MANIFEST {
            deflated_manifest = raw.copy;
        }
        let (read, bytes) = read;
        if read.size != declared {
            return Err(not_bundle(format!(
                "entry '{name}' is corrupt (its data is not the {declared} bytes the zip declares)"
            )));
        }
        entries.insert(rest, read, bytes);
    }
    let name = top.ok_or_else(|| not_bundle("the zip is empty".into()))?;
    // A name the zip holds more than once: which copy a tool reads differs
    // (this reader keeps the last, as the zip crate did), so it is a problem
    // whichever copy is genuine. Named whole, as the zip holds them, and
    // listed first.
    let duplicated = (entries.finish().into_iter())
        .map(|rest| Problem::DuplicateEntry(format!("{name}/{rest}")));
    refused.splice(0..0, duplicated);
    let zip_sha256 = data.finish_sha256().map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(BagContents {
        name,
        entries,
        deflated_manifest,
        refused,
        zip_sha256: Some(zip_sha256),
    })
}

/// What a failure to read the zip at `path` is: its I/O error, or not a
/// bundle because of `what` (and why the zip is malformed).
fn zip_read_error(path: &Path, what: String) -> impl Fn(ZipReadError) -> VerifyError + '_ {
    move |e| match e {
        ZipReadError::Io(source) => VerifyError::Io {
            path: path.to_path_buf(),
            source,
        },
        ZipReadError::Malformed(why) => VerifyError::NotABundle {
            path: path.to_path_buf(),
            reason: format!("{what} ({why})"),
        },
    }
}

/// Zip compression methods: stored, deflate.
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

/// A zip's central directory, and a buffered reader of its entries' data
/// (two handles: the directory is at the end of the file, the data before
/// it, and each is read in order).
fn open_zip_reading(
    path: &Path,
) -> Result<(CentralDirectory<std::fs::File>, SeekBuffer<std::fs::File>), ZipReadError> {
    let directory = CentralDirectory::open(std::fs::File::open(path)?)?;
    let data = SeekBuffer::new(std::fs::File::open(path)?)?;
    Ok((directory, data))
}

/// The first entry of the zip at `path` whose name `wanted` picks, its first
/// `at_most` bytes, unverified; found by reading the central directory a
/// record at a time (the zip crate's archive holds every record: 134 MB at
/// 837,000 entries, before `verify` had begun). None when the zip cannot be
/// read or has no such entry.
pub(crate) fn read_zip_entry(
    path: &Path,
    wanted: impl Fn(&str) -> bool,
    at_most: u64,
) -> Option<Vec<u8>> {
    let (mut directory, mut data) = open_zip_reading(path).ok()?;
    let entry = loop {
        let entry = directory.next_entry().ok()??;
        if !entry.is_dir() && wanted(&entry.name) {
            break entry;
        }
    };
    let raw = zip_directory::entry_data(&mut data, &entry, directory.start()).ok()?;
    let mut bytes = Vec::new();
    with_entry_reader(entry.method, raw, |reader| {
        reader.take(at_most).read_to_end(&mut bytes)
    })?
    .ok()?;
    Some(bytes)
}

/// A Windows drive prefix (`C:…`), which `unzip` and the zip crate would
/// take for an absolute path on Windows.
fn has_drive_prefix(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic()
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
    let mut entries = BagFiles::new();
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
        let read = read_entry(&mut file, Keep::capped(keep), expected, allowance);
        let (read, bytes) = read.map_err(|e| match e {
            EntryError::TooLarge(exceeded) => VerifyError::TooLarge {
                path: root.to_path_buf(),
                entry: rel.clone(),
                exceeded,
            },
            EntryError::Io(e) => io(entry.path(), e),
        })?;
        entries.insert(&rel, read, bytes);
    }
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BagContents {
        name,
        entries,
        deflated_manifest: None,
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
    keep: Keep,
    expected: u64,
    allowance: &mut Allowance,
) -> Result<(BagEntry, Option<Vec<u8>>), EntryError> {
    let capped_as_kept = keep != Keep::HashOnly;
    let (left, exceeded) = allowance.next_entry(capped_as_kept);
    // Capped: a hostile zip may declare any size; past this the bytes grow
    // as they come, within the caps above.
    let capacity = usize::try_from(expected.min(left).min(PREALLOCATE_AT_MOST)).unwrap_or(0);
    let hold = keep == Keep::Bytes;
    let read = hash_reader(&mut reader.take(left.saturating_add(1)), hold, capacity)
        .map_err(EntryError::Io)?;
    if read.0.size > left {
        return Err(EntryError::TooLarge(exceeded));
    }
    allowance.spend(read.0.size, capped_as_kept);
    Ok(read)
}

/// What [`read_entry`] keeps of an entry besides its hash and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Nothing: a payload file.
    HashOnly,
    /// Its bytes, within the caps of kept files.
    Bytes,
    /// Nothing, but within the caps of kept files: the payload manifest,
    /// whose deflated bytes the caller keeps instead.
    HashOnlyCappedAsKept,
}

impl Keep {
    fn capped(keep: bool) -> Keep {
        match keep {
            true => Keep::Bytes,
            false => Keep::HashOnly,
        }
    }
}

/// A reader that keeps a copy of what it reads when asked to (the payload
/// manifest's deflated bytes: `expected` is the size the zip declares).
struct Copying<R> {
    source: R,
    copy: Option<Vec<u8>>,
}

impl<R: Read> Copying<R> {
    fn new(source: R, expected: Option<u64>) -> Copying<R> {
        let copy = expected.map(|expected| {
            Vec::with_capacity(usize::try_from(expected.min(PREALLOCATE_AT_MOST)).unwrap_or(0))
        });
        Copying { source, copy }
    }
}

impl<R: Read> Read for Copying<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.source.read(buf)?;
        if let Some(copy) = &mut self.copy {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// Runs `read` on an entry's data: `raw` (its bytes as the zip stores them)
/// as it is, or inflated; `None` for a method other than store or deflate.
fn with_entry_reader<R: Read, T>(
    method: u16,
    mut raw: R,
    read: impl FnOnce(&mut dyn Read) -> T,
) -> Option<T> {
    match method {
        STORED => Some(read(&mut raw)),
        DEFLATED => Some(
            INFLATE.with_borrow_mut(|(state, input)| read(&mut Inflate::new(raw, state, input))),
        ),
        _ => None,
    }
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

fn hash_reader(
    reader: &mut impl Read,
    keep: bool,
    capacity: usize,
) -> std::io::Result<(BagEntry, Option<Vec<u8>>)> {
    READ_BUFFER.with_borrow_mut(|buf| hash_reader_with(reader, keep, capacity, buf))
}

fn hash_reader_with(
    reader: &mut impl Read,
    keep: bool,
    capacity: usize,
    buf: &mut [u8],
) -> std::io::Result<(BagEntry, Option<Vec<u8>>)> {
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
    let entry = BagEntry {
        sha256: hasher.finalize().into(),
        size,
    };
    Ok((entry, kept))
}

/// Compares a bag's files with both manifests.
pub(crate) fn check(contents: BagContents) -> Verification {
    let mut problems: Vec<Problem> = contents.refused.clone();
    let mut tag_problems = Vec::new();
    let tags = if contents.entries.contains_key(TAG_MANIFEST) {
        parse_manifest(&contents, TAG_MANIFEST, &mut tag_problems)
    } else {
        tag_problems.push(Problem::Missing {
            manifest: "the bag layout".into(),
            path: TAG_MANIFEST.into(),
        });
        BTreeMap::new()
    };
    // Payload lines first, then tag-manifest lines, then extra files. A
    // manifest as auditpack writes it lists each path once, in order, like
    // the bag's files: the two are compared in one pass over its text, with
    // no map of it made. Any other manifest is read into a map first (a
    // repeated path keeping its last line), then compared the same way.
    let in_order = manifest_lines(manifest_reader(&contents, MANIFEST))
        .flatten()
        .map(|(path, _)| path)
        .is_sorted_by(|a, b| a < b);
    let lines = well_formed_lines(
        manifest_reader(&contents, MANIFEST),
        MANIFEST,
        &mut problems,
    );
    let (payload_files, mut changed, mut extra) = if in_order {
        compare_payload(&contents, &tags, lines)
    } else {
        compare_payload(&contents, &tags, BTreeMap::from_iter(lines).into_iter())
    };
    problems.append(&mut tag_problems);
    for (path, expected) in &tags {
        changed.extend(compare_line(
            TAG_MANIFEST,
            path,
            expected,
            contents.entries.get(path),
        ));
    }
    problems.append(&mut changed);
    problems.append(&mut extra);
    Verification {
        payload_files,
        problems,
        contents,
    }
}

/// Compares the payload manifest's `lines` (sorted by path, each path once)
/// with the bag's files, sorted too, in one pass: returns how many lines
/// there were, the missing and changed files, and the files no manifest
/// lists (the tag manifest's, and the signature files, are listed).
fn compare_payload(
    contents: &BagContents,
    tags: &BTreeMap<String, String>,
    lines: impl Iterator<Item = (String, String)>,
) -> (usize, Vec<Problem>, Vec<Problem>) {
    let mut changed = Vec::new();
    let mut extra = Vec::new();
    let unlisted = |path: &str| {
        !(tags.contains_key(path)
            || path == TAG_MANIFEST
            || crate::custody::SIGNATURE_FILES.contains(&path))
    };
    let mut files = contents.entries.iter().peekable();
    let mut count = 0;
    for (path, expected) in lines {
        count += 1;
        while let Some((before, _)) = files.next_if(|(p, _)| *p < path) {
            if unlisted(&before) {
                extra.push(Problem::Extra(before));
            }
        }
        let entry = files.next_if(|(p, _)| *p == path).map(|(_, e)| e);
        changed.extend(compare_line(MANIFEST, &path, &expected, entry));
    }
    for (path, _) in files {
        if unlisted(&path) {
            extra.push(Problem::Extra(path));
        }
    }
    (count, changed, extra)
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
        let malformed = |what: String| zip_read_error(bag, what);
        let (mut directory, mut data) =
            open_zip_reading(bag).map_err(malformed("not a readable zip".into()))?;
        while let Some(entry) = directory
            .next_entry()
            .map_err(malformed("an entry is unreadable".into()))?
        {
            let Some((_, rest)) = entry.name.split_once('/') else {
                continue;
            };
            if entry.is_dir() || target(rest).is_none() || !manifest.contains_key(rest) {
                continue;
            }
            let raw = zip_directory::entry_data(&mut data, &entry, directory.start())
                .map_err(malformed(format!("entry '{}' is corrupt", entry.name)))?;
            with_entry_reader(entry.method, raw, |reader| copy_one(rest, reader)).ok_or_else(
                || VerifyError::NotABundle {
                    path: bag.to_path_buf(),
                    reason: format!(
                        "entry '{}' is compressed with method {}, not deflate",
                        entry.name, entry.method
                    ),
                },
            )??;
        }
    }
    Ok(copied)
}

/// The text of a kept manifest, read as it is asked for (empty when the bag
/// has none): inflated again from its deflated bytes, or its bytes as kept.
fn manifest_reader<'c>(contents: &'c BagContents, manifest: &str) -> Box<dyn BufRead + 'c> {
    match (manifest == MANIFEST)
        .then_some(contents.deflated_manifest.as_deref())
        .flatten()
    {
        Some(deflated) => Box::new(std::io::BufReader::new(
            flate2::bufread::DeflateDecoder::new(deflated),
        )),
        None => Box::new(contents.entries.bytes(manifest).unwrap_or_default()),
    }
}

/// Parses `<sha256>  <path>` lines (one or more spaces, optional `*` binary
/// marker), the path percent-decoded as RFC 8493 encodes it (`%0A`, `%0D`,
/// `%25`), the hash in lowercase; a line that is neither that nor blank is
/// its 1-based number. Lines end as [`str::lines`] ends them (`\n`, or
/// `\r\n`); bytes that are not UTF-8 read as U+FFFD.
fn manifest_lines<'r>(
    reader: impl BufRead + 'r,
) -> impl Iterator<Item = Result<(String, String), usize>> + 'r {
    text_lines(reader).enumerate().filter_map(|(i, line)| {
        if line.trim().is_empty() {
            return None;
        }
        let parsed = line
            .split_once(char::is_whitespace)
            .and_then(|(hash, path)| {
                let path = path.trim_start().trim_start_matches('*');
                let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
                (hash_ok && !path.is_empty())
                    .then(|| (decode_manifest_path(path), hash.to_ascii_lowercase()))
            });
        Some(parsed.ok_or(i + 1))
    })
}

/// The lines of `reader`'s text, as [`str::lines`] gives them. A read that
/// fails ends the text: the same bytes were read whole, and hashed, before.
fn text_lines(mut reader: impl BufRead) -> impl Iterator<Item = String> {
    let mut line = Vec::new();
    std::iter::from_fn(move || {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).ok()?;
        if read == 0 {
            return None;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Some(String::from_utf8_lossy(&line).into_owned())
    })
}

/// A manifest's lines as a map (a repeated path keeps its last line), its
/// malformed lines added to `problems`.
fn parse_manifest(
    contents: &BagContents,
    manifest: &str,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, String> {
    let lines = well_formed_lines(manifest_reader(contents, manifest), manifest, problems);
    BTreeMap::from_iter(lines)
}

/// The well-formed lines of `manifest`'s `text`, each other line added to
/// `problems` as it is passed.
fn well_formed_lines<'a>(
    text: impl BufRead + 'a,
    manifest: &'a str,
    problems: &'a mut Vec<Problem>,
) -> impl Iterator<Item = (String, String)> + 'a {
    manifest_lines(text).filter_map(move |line| {
        line.map_err(|line| {
            problems.push(Problem::MalformedManifest {
                manifest: manifest.into(),
                line,
            })
        })
        .ok()
    })
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

    fn file(bytes: &[u8]) -> (BagEntry, Option<Vec<u8>>) {
        let entry = BagEntry {
            sha256: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
        };
        (entry, Some(bytes.to_vec()))
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
        let entries = BagFiles::from_iter(
            [
                ("bagit.txt", b"BagIt".as_slice()),
                ("data/a", b"extra before"),
                ("data/b", b"b"),
                ("data/c", b"extra between"),
                ("data/f", b"changed"),
                ("data/g", b"extra after"),
                (MANIFEST, manifest.as_bytes()),
                (TAG_MANIFEST, tags.as_bytes()),
            ]
            .map(|(path, bytes)| (path, file(bytes))),
        );
        let verification = check(BagContents {
            name: "bag".into(),
            entries,
            deflated_manifest: None,
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

    /// A zip holding the payload manifest twice, one copy deflated (kept
    /// as stored, inflated again when read) and one stored (kept as text):
    /// whichever comes last is the manifest compared, as for any other
    /// repeated name, and the repeat is a problem.
    #[test]
    fn a_repeated_manifest_is_read_from_its_last_copy_deflated_or_stored() {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let hex = |b: &[u8]| hex::encode(Sha256::digest(b));
        // Repeated lines (the last of a path counts), so that deflate shrinks them.
        let genuine = format!("{}  data/x\n", hex(b"x")).repeat(20);
        let forged = format!("{}  data/x\n", hex(b"y")).repeat(20);
        let deflated = SimpleFileOptions::default();
        let stored = deflated.compression_method(zip::CompressionMethod::Stored);
        for (first, second, last_deflated) in [(deflated, stored, false), (stored, deflated, true)]
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let files = [
                (
                    "bag/bagit.txt",
                    b"BagIt-Version: 1.0\n".as_slice(),
                    deflated,
                ),
                ("bag/data/x", b"x", deflated),
                ("bag/manifest-sha256.txt", genuine.as_bytes(), first),
                // Renamed to the manifest's name below (zip writers refuse a repeat).
                ("bag/manifest-sha256.tXt", forged.as_bytes(), second),
            ];
            for (name, bytes, options) in files {
                zip.start_file(name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
            let mut bytes = zip.finish().unwrap().into_inner();
            let from = b"bag/manifest-sha256.tXt";
            while let Some(at) = bytes.windows(from.len()).position(|w| w == from) {
                bytes[at..at + from.len()].copy_from_slice(b"bag/manifest-sha256.txt");
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("bag.zip");
            std::fs::write(&path, bytes).unwrap();
            let verification = verify_path(&path).unwrap();
            let shown: Vec<String> = (verification.problems.iter())
                .map(ToString::to_string)
                .collect();
            assert!(
                shown[0].starts_with("duplicate entry: bag/manifest-sha256.txt"),
                "{shown:?}"
            );
            let changed = format!(
                "changed: data/x (manifest-sha256.txt says {}, the file hashes to {})",
                hex(b"y"),
                hex(b"x")
            );
            assert!(shown.contains(&changed), "{shown:?}");
            assert_eq!(
                verification.payload(),
                BTreeMap::from([("data/x".into(), hex(b"y"))])
            );
            let contents = &verification.contents;
            assert_eq!(contents.deflated_manifest.is_some(), last_deflated);
            assert_eq!(contents.entries.bytes(MANIFEST).is_some(), !last_deflated);
        }
    }

    #[test]
    fn a_manifest_hash_in_capitals_matches_and_a_repeated_line_keeps_the_last() {
        let upper = hex::encode_upper(Sha256::digest(b"x"));
        let manifest = format!("{}  data/x\n{upper}  data/x\n", "0".repeat(64));
        let entries = BagFiles::from_iter([
            ("data/x", file(b"x")),
            (MANIFEST, file(manifest.as_bytes())),
        ]);
        let contents = BagContents {
            name: "bag".into(),
            entries,
            deflated_manifest: None,
            refused: Vec::new(),
            zip_sha256: None,
        };
        let mut problems = Vec::new();
        let payload = parse_manifest(&contents, MANIFEST, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(payload.len(), 1);
        assert!(contents
            .entries
            .get("data/x")
            .unwrap()
            .has_sha256(&payload["data/x"]));
    }
}
