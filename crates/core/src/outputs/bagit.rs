//! The evidence bundle: a BagIt 1.0 bag (RFC 8493) serialised as one zip.
//!
//! Why BagIt: it is the archivists' standard for "a folder of files plus a
//! checksum manifest", so an auditor can check the unzipped bag with nothing but
//! `sha256sum -c manifest-sha256.txt` and `sha256sum -c tagmanifest-sha256.txt`.
//!
//! Reproducible by construction: entries are written in sorted order with a fixed
//! timestamp (the run's end, from `run.json`), fixed permissions and a fixed
//! compression level, so the same evidence and controls give the same zip bytes.
//! Payload files are streamed from disk and hashed as they are written.
//!
//! Compression runs on every core: payload files are split into chunks by
//! file count and size (fixed limits, not per thread, so the bytes do not
//! depend on the machine), each chunk's entries are deflated on a core of
//! their own, and the chunks are appended in order without recompressing.
//! A file as large as a chunk (results.json, the OSCAL file) is deflated
//! straight into the zip when its turn comes, never held in memory; the zip
//! itself keeps no per-entry state (see `super::zip_writer`).
//!
//! Signing (see `crate::custody`) hooks in after the tag manifest: a
//! [`TagManifestSigner`] may add lines to `bag-info.txt` (so they are covered
//! by the tag manifest it signs) and files under `signature/`, which no
//! manifest lists, because a signature cannot be part of what it signs.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipArchive};

use super::bag_files::{merge_in_path_order, BagFiles};
use super::zip_writer::{Prepared, Sizes, ZipStream};
use crate::evidence::read_ahead::ReadAhead;

/// At most this many payload files are deflated together by one task…
const FILES_PER_CHUNK: usize = 256;
/// …and a chunk is closed once it holds this many bytes.
const BYTES_PER_CHUNK: u64 = 4 << 20;
/// Chunks compressed before they are appended: bounds the memory held by
/// compressed chunks waiting for their turn, whatever the evidence size.
const CHUNKS_AT_ONCE: usize = 16;
/// The files of a window of chunks, at most: how far ahead the payload is read.
const WINDOW_FILES: usize = CHUNKS_AT_ONCE * FILES_PER_CHUNK;

/// Name of the BagIt declaration.
pub(crate) const BAGIT_TXT: &str = "bagit.txt";
/// Name of the bag metadata file.
pub(crate) const BAG_INFO_TXT: &str = "bag-info.txt";
/// Name of the payload manifest.
pub(crate) const MANIFEST: &str = "manifest-sha256.txt";
/// A file path as a manifest line writes it: RFC 8493 (2.1.3) percent-encodes
/// line feed, carriage return and `%` itself, and nothing else, so a name
/// holding a newline stays on its own line and `verify` reads it back.
pub(crate) fn encode_manifest_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`encode_manifest_path`]: `%0A`, `%0D` and `%25` (either
/// case) decoded, any other `%` kept as written.
pub(crate) fn decode_manifest_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("0A") => Some('\n'),
            Some("0D") => Some('\r'),
            Some("25") => Some('%'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Name of the tag manifest.
pub(crate) const TAG_MANIFEST: &str = "tagmanifest-sha256.txt";

/// Where a payload file's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A file on disk, streamed into the zip.
    File(PathBuf),
    /// A file of the evidence store: the one at the bag path's place below
    /// `data/evidence/`, under the bag's evidence root (see
    /// [`Bag::add_evidence`]). The source path is made when the file is
    /// read, not held beside the bag path for each of ~840,000 files.
    Evidence,
    /// Bytes made during the run (results, report, …).
    Bytes(Vec<u8>),
    /// An entry already deflated: the one entry of a small zip, named as it
    /// will be in this bag (`<bag>/data/…`), copied without inflating or
    /// deflating it again. Its SHA-256 and size come with it, from where its
    /// bytes were verified (the period package's copies of each run's
    /// `results.json`, checked when the run's bundle was).
    Deflated {
        /// The small zip holding the entry.
        zip: PathBuf,
        /// SHA-256 of the inflated bytes, lowercase hex.
        sha256: String,
        /// Size of the inflated bytes.
        size: u64,
    },
}

/// Errors writing a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading a payload file or writing the zip failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The zip library failed.
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Signing the tag manifest failed (the message names the key).
    #[error("signing the bundle: {0}")]
    Sign(#[from] SignError),
}

/// Why a [`TagManifestSigner`] could not sign. It is defined here, with the
/// trait, because the bag writer reports it; the signers themselves (SSH
/// keys, KMS through `RemoteSigner`) live in `crate::custody`.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The SSH private key could not produce an SSHSIG signature.
    #[error("SSH signing failed: {0}")]
    Ssh(#[source] ssh_key::Error),
    /// The signing key's public half could not be written in OpenSSH form
    /// (for `signer.pub` and `allowed_signers`).
    #[error("encoding the public key: {0}")]
    SshPublicKey(#[source] ssh_key::Error),
    /// The tag manifest is longer than KMS signs with `MessageType=RAW`.
    #[error("{TAG_MANIFEST} is {size} bytes, over KMS's {limit}-byte limit for RAW signing")]
    TooLargeForKms {
        /// The tag manifest's size in bytes.
        size: usize,
        /// KMS's limit.
        limit: usize,
    },
    /// The public key the KMS key reported is not a P-256 key.
    #[error("the KMS public key is not a P-256 key ({0})")]
    KmsPublicKey(#[source] p256::pkcs8::spki::Error),
    /// The remote service's signing call failed, or answered without a signature.
    #[error("KMS key {key_id}: {operation} {failure}")]
    Remote {
        /// The key as given (`--kms-key-id`).
        key_id: String,
        /// The API call (`kms:Sign`).
        operation: &'static str,
        /// What went wrong.
        failure: RemoteFailure,
    },
}

/// How a remote signing call went wrong (see [`SignError::Remote`]).
#[derive(Debug, thiserror::Error)]
pub enum RemoteFailure {
    /// The call returned an error.
    #[error("failed: {detail}")]
    Failed {
        /// The service's error code and message (never the request, which
        /// may carry credentials in its headers).
        detail: String,
    },
    /// The call succeeded but its answer holds no signature.
    #[error("returned no signature")]
    NoSignature,
}

/// Signs a bag's tag manifest while the bag is written.
pub trait TagManifestSigner {
    /// `bag-info.txt` lines to add (e.g. `Signed-At`): written before the tag
    /// manifest, so the signature covers them.
    fn bag_info(&self) -> Vec<(String, String)>;

    /// Signs the tag manifest's exact bytes, returning tag files to add, by
    /// path inside the bag (`signature/…`).
    fn sign(&self, tag_manifest: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SignError>;
}

/// Descriptive fields for `bag-info.txt`.
#[derive(Debug, Clone)]
pub(crate) struct BagInfo {
    /// The bag's name (zip stem and top folder), also the External-Identifier.
    pub name: String,
    /// AWS Organization id.
    pub organization_id: String,
    /// Audit period label.
    pub period: String,
    /// The period's dates, `start/end`, when the run recorded them.
    pub period_dates: Option<String>,
    /// `YYYY-MM-DD`, from `run.json`.
    pub bagging_date: String,
    /// Collection window, `start/end`.
    pub collection_window: String,
    /// Further `bag-info.txt` lines (the period package's kind and runs).
    pub extra: Vec<(String, String)>,
    /// `External-Description`, when not a run's.
    pub description: Option<String>,
}

/// A bag being assembled: payload paths (under `data/`) → content.
#[derive(Debug, Default)]
pub(crate) struct Bag {
    /// Every payload file but the evidence store's.
    payload: BTreeMap<String, Content>,
    /// The evidence store's files ([`Content::Evidence`]) by bag path,
    /// front-coded: at 10,000 accounts × 4 regions a map entry for each of
    /// 837,000 files (its path, a `Content` and B-tree node space) held
    /// ~150 MB from the moment the evidence index is dropped until the
    /// bundle is written; this list holds ~25 bytes a path.
    evidence: BagFiles<()>,
    /// Where [`Content::Evidence`] files are.
    evidence_root: Option<PathBuf>,
}

/// The content of every path in [`Bag::evidence`].
static EVIDENCE: Content = Content::Evidence;

/// Where the payload's evidence files are in the bag.
const EVIDENCE_IN_BAG: &str = "data/evidence/";

impl Bag {
    /// Adds a payload file at `data/<path>`.
    pub(crate) fn add(&mut self, path: &str, content: Content) {
        self.payload.insert(format!("data/{path}"), content);
    }

    /// Adds the evidence file `relative` of the store at `root`, as
    /// `data/evidence/<relative>` (every evidence file of a bag comes from
    /// one store: one from another is added as a plain file).
    pub(crate) fn add_evidence(&mut self, root: &Path, relative: &str) {
        let path = format!("{EVIDENCE_IN_BAG}{relative}");
        match self.evidence_root.get_or_insert_with(|| root.to_path_buf()) {
            same if same == root => self.evidence.insert(&path, (), None),
            _ => {
                self.payload
                    .insert(path, Content::File(root.join(relative)));
            }
        }
    }

    /// How many payload files, each path once.
    fn len(&self) -> usize {
        let both = (self.payload.keys()).filter(|p| self.evidence.contains_key(p));
        self.payload.len() + self.evidence.len() - both.count()
    }

    /// Every payload file in path order: the evidence list and the payload
    /// map merged (a path in both once, as the map has it).
    fn files(&self) -> impl Iterator<Item = (String, &Content)> {
        let evidence = self.evidence.iter().map(|(p, _)| (p, &EVIDENCE));
        let others = self.payload.iter().map(|(p, c)| (p.clone(), c));
        merge_in_path_order(evidence, others)
    }

    /// What the file at bag path `path` is read from: its bytes, its own
    /// path (a deflated entry's: its small zip), or its place in the
    /// evidence store ([`Content::Evidence`] is only made by `add_evidence`,
    /// which sets the root).
    fn source<'c>(&self, path: &str, content: &'c Content) -> Source<'c> {
        match content {
            Content::Bytes(bytes) => Source::Bytes(bytes),
            Content::File(from) | Content::Deflated { zip: from, .. } => {
                Source::File(Cow::Borrowed(from))
            }
            Content::Evidence => {
                let root = self.evidence_root.as_deref().unwrap_or(Path::new(""));
                let relative = path.strip_prefix(EVIDENCE_IN_BAG).unwrap_or(path);
                Source::File(Cow::Owned(root.join(relative)))
            }
        }
    }

    /// The files the payload is read from, in the payload's order (not the
    /// entries copied from another zip, whose file is read as a whole).
    fn files_to_read(&self) -> impl Iterator<Item = PathBuf> + '_ {
        (self.files())
            .filter(|(_, content)| matches!(content, Content::Evidence | Content::File(_)))
            .filter_map(|(path, content)| match self.source(&path, content) {
                Source::File(from) => Some(from.into_owned()),
                Source::Bytes(_) => None,
            })
    }

    /// The size of the file at bag path `path`.
    fn size(&self, path: &str, content: &Content) -> Result<u64, BundleError> {
        match self.source(path, content) {
            Source::Bytes(bytes) => Ok(bytes.len() as u64),
            Source::File(from) => {
                std::fs::metadata(&from)
                    .map(|m| m.len())
                    .map_err(|source| BundleError::Io {
                        path: from.into_owned(),
                        source,
                    })
            }
        }
    }

    /// Writes the bag as a zip to `out`, every entry under `<name>/` as RFC 8493
    /// asks of serialised bags, signing the tag manifest with `signer` when given.
    /// Without a signer the bytes are exactly those of an unsigned bag.
    pub(crate) fn write_zip_signed<W: Write + Seek>(
        &self,
        info: &BagInfo,
        zip_time: zip::DateTime,
        out: W,
        signer: Option<&dyn TagManifestSigner>,
    ) -> Result<W, BundleError> {
        let io = |path: &str| {
            let path = PathBuf::from(path);
            move |source| BundleError::Io { path, source }
        };
        let mut zip = ZipStream::new(out, zip_time).map_err(io("the bundle"))?;
        let mut manifest = Manifest::new().map_err(io(MANIFEST))?;
        let mut octets = 0u64;
        let mut chunks = self.chunks();
        // The files of the next window are read ahead while one is deflated.
        let read_ahead = ReadAhead::default();
        let mut ahead = self.files_to_read();
        read_ahead.files(ahead.by_ref().take(2 * WINDOW_FILES).collect());
        loop {
            let window = (chunks.by_ref().take(CHUNKS_AT_ONCE)).collect::<Result<Vec<_>, _>>()?;
            if window.is_empty() {
                break;
            }
            let in_window = window.iter().map(Vec::len).sum();
            read_ahead.files(ahead.by_ref().take(in_window).collect());
            let chunks: Vec<Chunk> = window
                .par_iter()
                .map(|files| self.deflate_chunk(files, &info.name, zip_time))
                .collect::<Result<_, _>>()?;
            for chunk in chunks {
                let hashes = match chunk {
                    Chunk::Prepared { entries, hashes } => {
                        zip.append(&entries).map_err(io("the bundle"))?;
                        hashes
                    }
                    Chunk::Large(path, content, size) => {
                        let source = self.source(path, content);
                        vec![stream_large(&mut zip, &info.name, path, source, size)?]
                    }
                };
                for (path, digest, size) in hashes {
                    manifest.line(&digest, &path).map_err(io(MANIFEST))?;
                    octets += size;
                }
            }
        }
        let tag_files = [
            (BAGIT_TXT, bagit_txt()),
            (BAG_INFO_TXT, bag_info_txt(info, octets, self.len(), signer)),
        ];
        let mut tags = Prepared::new(zip_time);
        let mut tag_manifest = String::new();
        for (name, text) in &tag_files {
            tags.add(&format!("{}/{name}", info.name), text.as_bytes())
                .map_err(io(name))?;
            tag_manifest.push_str(&format!(
                "{}  {name}\n",
                hex::encode(Sha256::digest(text.as_bytes()))
            ));
        }
        drop(tag_files);
        zip.append(&tags).map_err(io("the bundle"))?;
        // The payload manifest (a line per file: ~120 MB at 10,000 accounts
        // × 4 regions) was written to a temporary file; it is streamed in.
        let (mut text, size) = manifest.finish().map_err(io(MANIFEST))?;
        let mut hasher = Sha256::new();
        zip.stream(
            &format!("{}/{MANIFEST}", info.name),
            &mut text,
            size,
            &mut |bytes| hasher.update(bytes),
        )
        .map_err(io(MANIFEST))?;
        tag_manifest.push_str(&format!("{}  {MANIFEST}\n", hex::encode(hasher.finalize())));
        let mut tags = Prepared::new(zip_time);
        tags.add(
            &format!("{}/{TAG_MANIFEST}", info.name),
            tag_manifest.as_bytes(),
        )
        .map_err(io(TAG_MANIFEST))?;
        if let Some(signer) = signer {
            let files = signer.sign(tag_manifest.as_bytes())?;
            for (path, bytes) in files {
                tags.add(&format!("{}/{path}", info.name), &bytes)
                    .map_err(io(&path))?;
            }
        }
        zip.append(&tags).map_err(io("the bundle"))?;
        zip.finish().map_err(io("the bundle"))
    }
}

impl Bag {
    /// The payload in order, each file with its size, cut into chunks of
    /// at most [`FILES_PER_CHUNK`] files, closed once they reach
    /// [`BYTES_PER_CHUNK`]; a file that large has a chunk of its own, so it
    /// is streamed, never read whole (the zip's bytes do not depend on
    /// where chunks end).
    /// Made as they are asked for: the writer takes [`CHUNKS_AT_ONCE`] at a
    /// time, so only their paths are held whole.
    fn chunks(&self) -> impl Iterator<Item = Result<Vec<SizedFile<'_>>, BundleError>> {
        let mut sized = (self.files()).map(|(path, content)| {
            let size = self.size(&path, content)?;
            Ok((path, content, size))
        });
        let mut pending: Option<SizedFile> = None;
        std::iter::from_fn(move || {
            let mut current = Vec::new();
            let mut bytes = 0u64;
            loop {
                let file = match pending.take() {
                    Some(file) => file,
                    None => match sized.next() {
                        Some(Ok(file)) => file,
                        Some(Err(e)) => return Some(Err(e)),
                        None => break,
                    },
                };
                if file.2 >= BYTES_PER_CHUNK && !current.is_empty() {
                    pending = Some(file);
                    break;
                }
                bytes += file.2;
                current.push(file);
                if current.len() == FILES_PER_CHUNK || bytes >= BYTES_PER_CHUNK {
                    break;
                }
            }
            (!current.is_empty()).then_some(Ok(current))
        })
    }
}

/// What a payload file is read from (see [`Bag::source`]).
enum Source<'c> {
    Bytes(&'c [u8]),
    File(Cow<'c, Path>),
}

/// The payload manifest, written to a temporary file a line at a time as the
/// payload is zipped.
struct Manifest {
    file: std::io::BufWriter<std::fs::File>,
    size: u64,
}

impl Manifest {
    fn new() -> std::io::Result<Manifest> {
        let file = crate::evidence::read_back::temporary("auditpack-manifest")?.into_file();
        Ok(Manifest {
            file: std::io::BufWriter::new(file),
            size: 0,
        })
    }

    fn line(&mut self, digest: &str, path: &str) -> std::io::Result<()> {
        let line = format!("{digest}  {}\n", encode_manifest_path(path));
        self.file.write_all(line.as_bytes())?;
        self.size += line.len() as u64;
        Ok(())
    }

    /// The text written, to read from its start, and its size.
    fn finish(self) -> std::io::Result<(std::fs::File, u64)> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(std::io::SeekFrom::Start(0))?;
        Ok((file, self.size))
    }
}

/// Payload files deflated ahead of their turn, with their hashes; or one
/// large file, deflated straight into the zip when its turn comes (held
/// whole in memory while waiting, the largest outputs — a 1.45 GB OSCAL
/// file at 10,000 accounts × 4 regions — would each hold their deflated
/// bytes).
enum Chunk<'b> {
    Prepared {
        entries: Prepared,
        /// (payload path, SHA-256, size), in order.
        hashes: Vec<(String, String, u64)>,
    },
    /// The file, and its size.
    Large(&'b String, &'b Content, u64),
}

/// A payload file's bag path, content and size.
type SizedFile<'b> = (String, &'b Content, u64);

impl Bag {
    /// Deflates `files`, or leaves one large file to be streamed.
    fn deflate_chunk<'b>(
        &self,
        files: &'b [SizedFile<'b>],
        bag_name: &str,
        zip_time: zip::DateTime,
    ) -> Result<Chunk<'b>, BundleError> {
        if let [(path, content, size)] = files {
            if !matches!(content, Content::Deflated { .. }) && *size >= BYTES_PER_CHUNK {
                return Ok(Chunk::Large(path, content, *size));
            }
        }
        let mut entries = Prepared::new(zip_time);
        let mut hashes = Vec::with_capacity(files.len());
        for (path, content, _) in files {
            let name = format!("{bag_name}/{path}");
            let added = self.deflate_one(&mut entries, &name, path, content)?;
            hashes.push((path.to_string(), added.0, added.1));
        }
        Ok(Chunk::Prepared { entries, hashes })
    }

    /// Deflates one payload file into `entries`; its SHA-256 and size.
    fn deflate_one(
        &self,
        entries: &mut Prepared,
        name: &str,
        path: &str,
        content: &Content,
    ) -> Result<(String, u64), BundleError> {
        if let Content::Deflated { zip, sha256, size } = content {
            copy_deflated(zip, name, entries)?;
            return Ok((sha256.clone(), *size));
        }
        match self.source(path, content) {
            Source::Bytes(bytes) => add_hashing(entries, name, bytes, path),
            Source::File(from) => {
                let bytes = std::fs::read(&from).map_err(|source| BundleError::Io {
                    path: from.to_path_buf(),
                    source,
                })?;
                add_hashing(entries, name, &bytes, path)
            }
        }
    }
}

/// Deflates `bytes` as entry `name`; returns their SHA-256 and size.
fn add_hashing(
    entries: &mut Prepared,
    name: &str,
    bytes: &[u8],
    path: &str,
) -> Result<(String, u64), BundleError> {
    entries.add(name, bytes).map_err(|source| BundleError::Io {
        path: path.into(),
        source,
    })?;
    Ok((hex::encode(Sha256::digest(bytes)), bytes.len() as u64))
}

/// Deflates one large payload file (about `size_hint` bytes) straight into
/// the zip, hashing it on the way; returns its manifest facts.
fn stream_large<W: Write + Seek>(
    zip: &mut ZipStream<W>,
    bag_name: &str,
    path: &str,
    source: Source<'_>,
    size_hint: u64,
) -> Result<(String, String, u64), BundleError> {
    let name = format!("{bag_name}/{path}");
    let mut hasher = Sha256::new();
    let mut hash = |bytes: &[u8]| hasher.update(bytes);
    let (sizes, source_path) = match source {
        Source::Bytes(mut bytes) => (
            zip.stream(&name, &mut bytes, size_hint, &mut hash),
            PathBuf::from(path),
        ),
        Source::File(from) => (
            std::fs::File::open(&from)
                .and_then(|mut file| zip.stream(&name, &mut file, size_hint, &mut hash)),
            from.into_owned(),
        ),
    };
    let sizes = sizes.map_err(|source| BundleError::Io {
        path: source_path,
        source,
    })?;
    Ok((path.to_string(), hex::encode(hasher.finalize()), sizes.size))
}

/// Copies the one entry of the zip at `from`, which must be named `name`,
/// as it is compressed (with this bag's time and permissions).
fn copy_deflated(from: &Path, name: &str, out: &mut Prepared) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: from.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(from).map_err(io)?;
    let mut archive = ZipArchive::new(std::io::BufReader::new(file))?;
    let mut entry = archive.by_index_raw(0)?;
    let stored = entry.name().map(|n| n.into_owned()).unwrap_or_default();
    if stored != name {
        return Err(io(std::io::Error::other(format!(
            "holds '{stored}', not '{name}'"
        ))));
    }
    if entry.compression() != CompressionMethod::Deflated {
        return Err(io(std::io::Error::other(format!(
            "'{name}' is not deflated"
        ))));
    }
    let sizes = Sizes {
        crc32: entry.crc32(),
        compressed: entry.compressed_size(),
        size: entry.size(),
    };
    let mut compressed = Vec::with_capacity(usize::try_from(sizes.compressed).unwrap_or(0));
    entry.read_to_end(&mut compressed).map_err(io)?;
    out.add_deflated(name, &compressed, sizes).map_err(io)
}

fn bagit_txt() -> String {
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_string()
}

fn bag_info_txt(
    info: &BagInfo,
    octets: u64,
    streams: usize,
    signer: Option<&dyn TagManifestSigner>,
) -> String {
    let lines = [
        (
            "Source-Organization",
            format!("AWS Organization {}", info.organization_id),
        ),
        ("External-Identifier", info.name.clone()),
        (
            "External-Description",
            info.description.clone().unwrap_or_else(|| {
                format!(
                    "SOC 2 evidence package for AWS Organization {}, period {}",
                    info.organization_id, info.period
                )
            }),
        ),
        ("Bagging-Date", info.bagging_date.clone()),
        (
            "Bag-Software-Agent",
            format!("{} {}", crate::TOOL_NAME, crate::TOOL_VERSION),
        ),
        ("Payload-Oxum", format!("{octets}.{streams}")),
        ("Bag-Size", human_size(octets)),
        ("Audit-Period", info.period.clone()),
        ("Collection-Window", info.collection_window.clone()),
    ];
    let lines: Vec<(&str, String)> = (lines.into_iter())
        .chain(info.period_dates.clone().map(|d| ("Audit-Period-Dates", d)))
        .collect();
    let extra = signer.map(|s| s.bag_info()).unwrap_or_default();
    lines
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(info.extra.iter().cloned())
        .chain(extra)
        .map(|(k, v)| format!("{k}: {}\n", v.replace(['\n', '\r'], " ")))
        .collect()
}

/// `12.3 MB`-style size.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Converts an RFC 3339 time to the zip's DOS timestamp (UTC, 2-second precision).
pub(crate) fn zip_time(rfc3339: &str) -> Option<zip::DateTime> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()?
        .with_timezone(&chrono::Utc);
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).ok()?,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .ok()
}

/// The bag name for an organization and period: `auditpack-<org>-<period>`, kept
/// to file-name-safe characters.
pub(crate) fn bag_name(organization_id: &str, period: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("auditpack-{}-{}", safe(organization_id), safe(period))
}

/// SHA-256 of a file on disk, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let hash = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match file.read(&mut buf)? {
                0 => return Ok(hex::encode(hasher.finalize())),
                n => hasher.update(&buf[..n]),
            }
        }
    };
    hash().map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    /// The bag-info of the test bags.
    fn test_info() -> BagInfo {
        BagInfo {
            name: "bag".into(),
            organization_id: "o-test".into(),
            period: "2026-Q4".into(),
            period_dates: None,
            bagging_date: "2026-11-20".into(),
            collection_window: "a/b".into(),
            extra: Vec::new(),
            description: None,
        }
    }

    /// More files than one chunk holds, and a file larger than a chunk's byte
    /// limit (a chunk of its own, closing the one before it early, and
    /// streamed): the zip has every entry, in order, with its bytes and its
    /// manifest line, and two writes give the same bytes.
    #[test]
    fn a_bag_of_many_chunks_reads_back_whole_and_reproducibly() {
        let mut bag = Bag::default();
        let mut expected = BTreeMap::new();
        for i in 0..(2 * FILES_PER_CHUNK + 17) {
            let bytes =
                format!("{{\"n\": {i}, \"pad\": \"{}\"}}\n", "x".repeat(i % 97)).into_bytes();
            let path = format!("evidence/{i:05}.json");
            expected.insert(format!("data/{path}"), bytes.clone());
            bag.add(&path, Content::Bytes(bytes));
        }
        let big: Vec<u8> = (0..BYTES_PER_CHUNK + 1000)
            .map(|i| (i % 251) as u8)
            .collect();
        expected.insert("data/results.json".into(), big.clone());
        bag.add("results.json", Content::Bytes(big));
        expected.insert("data/summary.md".into(), b"after the big one\n".to_vec());
        bag.add(
            "summary.md",
            Content::Bytes(b"after the big one\n".to_vec()),
        );
        let sizes: Vec<usize> = bag.chunks().map(|c| c.unwrap().len()).collect();
        assert_eq!(sizes, [FILES_PER_CHUNK, FILES_PER_CHUNK, 17, 1, 1]);

        let info = test_info();
        let time = zip_time("2026-11-20T09:16:41Z").unwrap();
        let write = || {
            bag.write_zip_signed(&info, time, Cursor::new(Vec::new()), None)
                .unwrap()
                .into_inner()
        };
        let bytes = write();
        assert_eq!(bytes, write(), "same bag, same zip bytes");

        let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        let payload: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_prefix("bag/"))
            .filter(|n| n.starts_with("data/"))
            .map(String::from)
            .collect();
        assert_eq!(payload, expected.keys().cloned().collect::<Vec<_>>());
        let mut manifest = String::new();
        zip.by_name("bag/manifest-sha256.txt")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        for (path, want) in &expected {
            let mut got = Vec::new();
            zip.by_name(&format!("bag/{path}"))
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(&got, want, "{path}");
            let line = format!("{}  {path}", hex::encode(Sha256::digest(want)));
            assert!(manifest.lines().any(|l| l == line), "{line}");
        }
    }

    /// The evidence list and the other payload files read as one map of
    /// them would: in path order whatever order they were added in, a path
    /// added twice once (evidence added again is the last copy; a path in
    /// both, the payload map's), and counted so.
    #[test]
    fn evidence_and_other_files_merge_in_path_order_each_once() {
        let root = Path::new("/store");
        let mut bag = Bag::default();
        for relative in ["b/2.json", "a/1.json", "c/3.json", "a/1.json"] {
            bag.add_evidence(root, relative);
        }
        bag.add("coverage.json", Content::Bytes(b"c".to_vec()));
        bag.add("ipe.json", Content::Bytes(b"i".to_vec()));
        bag.add("evidence/b/2.json", Content::Bytes(b"b".to_vec()));
        bag.add("evidence/b/10.json", Content::Bytes(b"x".to_vec()));
        let files: Vec<(String, &str)> = (bag.files())
            .map(|(path, content)| {
                let kind = match content {
                    Content::Evidence => "evidence",
                    _ => "map",
                };
                (path, kind)
            })
            .collect();
        let expected = [
            ("data/coverage.json", "map"),
            ("data/evidence/a/1.json", "evidence"),
            ("data/evidence/b/10.json", "map"),
            ("data/evidence/b/2.json", "map"),
            ("data/evidence/c/3.json", "evidence"),
            ("data/ipe.json", "map"),
        ];
        let expected: Vec<(String, &str)> = (expected.iter())
            .map(|(p, k)| (p.to_string(), *k))
            .collect();
        assert_eq!(files, expected);
        assert_eq!(bag.len(), expected.len());
    }

    /// Evidence files are read from their store when the bag is zipped (a
    /// small one deflated in a chunk, a large one streamed), and one from
    /// another store is held as a plain file: the zip has each file's bytes
    /// and its manifest line, and the tag manifest's line for the payload
    /// manifest (streamed from its temporary file) is that text's hash.
    #[test]
    fn evidence_files_are_read_from_their_store_when_zipped() {
        let dir = tempfile::tempdir().unwrap();
        let (store, other) = (dir.path().join("store"), dir.path().join("other"));
        let big: Vec<u8> = (0..BYTES_PER_CHUNK + 10).map(|i| (i % 7) as u8).collect();
        let files = [
            (&store, "1/us-east-1/s3/a.json", b"one".to_vec()),
            (&store, "1/us-east-1/s3/b.json", big),
            (&other, "2/global/iam/c.json", b"other".to_vec()),
        ];
        let mut bag = Bag::default();
        for (root, relative, bytes) in &files {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            bag.add_evidence(root, relative);
        }
        assert!(bag
            .evidence
            .contains_key("data/evidence/1/us-east-1/s3/a.json"));
        assert!(matches!(
            bag.payload["data/evidence/2/global/iam/c.json"],
            Content::File(_)
        ));
        let zip_path = dir.path().join("bag.zip");
        let out = std::fs::File::create(&zip_path).unwrap();
        let time = zip_time("2026-11-20T09:16:41Z").unwrap();
        bag.write_zip_signed(&test_info(), time, out, None).unwrap();

        let mut zip = ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let mut text = |name: &str| {
            let mut text = String::new();
            (zip.by_name(&format!("bag/{name}")).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        let (manifest, tags) = (text(MANIFEST), text(TAG_MANIFEST));
        let manifest_line = format!("{}  {MANIFEST}", hex::encode(Sha256::digest(&manifest)));
        assert!(tags.lines().any(|l| l == manifest_line), "{tags}");
        assert_eq!(manifest.lines().count(), 3, "{manifest}");
        for (_, relative, want) in &files {
            let mut got = Vec::new();
            zip.by_name(&format!("bag/data/evidence/{relative}"))
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(&got, want, "{relative}");
            let line = format!(
                "{}  data/evidence/{relative}",
                hex::encode(Sha256::digest(want))
            );
            assert!(manifest.lines().any(|l| l == line), "{line}");
        }
    }

    /// A one-entry zip holding `body` deflated, named `name`, in `dir`.
    fn deflated_entry(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
        let path = dir.join(format!("{}.zip", body.len()));
        let mut zip = ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = SimpleFileOptions::default().compression_level(Some(9));
        zip.start_file(name, options).unwrap();
        zip.write_all(body).unwrap();
        zip.finish().unwrap();
        path
    }

    /// A deflated entry is copied as compressed, with the bag's time and
    /// permissions and the SHA-256 it came with in the manifest; one named
    /// otherwise than the bag would hold it is refused, naming both.
    #[test]
    fn a_deflated_entry_is_copied_raw_and_a_misnamed_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"{\"controls\": []}\n".repeat(500);
        let staged = deflated_entry(dir.path(), "bag/data/runs/r1/results.json", &body);
        let info = test_info();
        let time = zip_time("2026-11-20T09:16:41Z").unwrap();
        let digest = hex::encode(Sha256::digest(&body));
        let mut bag = Bag::default();
        bag.add(
            "runs/r1/results.json",
            Content::Deflated {
                zip: staged.clone(),
                sha256: digest.clone(),
                size: body.len() as u64,
            },
        );
        let bytes = bag
            .write_zip_signed(&info, time, Cursor::new(Vec::new()), None)
            .unwrap()
            .into_inner();
        let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
        let staged_size = ZipArchive::new(std::fs::File::open(&staged).unwrap())
            .unwrap()
            .by_index_raw(0)
            .unwrap()
            .compressed_size();
        let mut entry = zip.by_name("bag/data/runs/r1/results.json").unwrap();
        // Level 9 bytes as staged, not the bag's level 1: copied, not redone.
        assert_eq!(entry.compressed_size(), staged_size);
        assert_eq!(entry.last_modified(), Some(time));
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
        let mut got = Vec::new();
        entry.read_to_end(&mut got).unwrap();
        assert_eq!(got, body);
        drop(entry);
        let mut manifest = String::new();
        zip.by_name("bag/manifest-sha256.txt")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        assert!(manifest.contains(&format!("{digest}  data/runs/r1/results.json")));

        let mut misnamed = Bag::default();
        misnamed.add(
            "runs/r2/results.json",
            Content::Deflated {
                zip: staged,
                sha256: digest,
                size: body.len() as u64,
            },
        );
        let error = misnamed
            .write_zip_signed(&info, time, Cursor::new(Vec::new()), None)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "holds 'bag/data/runs/r1/results.json', not 'bag/data/runs/r2/results.json'"
            ),
            "{error}"
        );
    }

    #[test]
    fn manifest_paths_percent_encode_line_breaks_and_percent_only() {
        let name = "data/evidence/a%b\nc\rd é.json";
        let line = encode_manifest_path(name);
        assert_eq!(line, "data/evidence/a%25b%0Ac%0Dd é.json");
        assert!(!line.contains('\n') && !line.contains('\r'));
        assert_eq!(decode_manifest_path(&line), name);
        assert_eq!(decode_manifest_path("a%0ab%0dc"), "a\nb\rc");
        assert_eq!(decode_manifest_path("100%-sure%2"), "100%-sure%2");
    }

    #[test]
    fn names_and_times() {
        assert_eq!(bag_name("o-abc", "2026-Q4"), "auditpack-o-abc-2026-Q4");
        assert_eq!(bag_name("o/../x", "2026 Q4"), "auditpack-o____x-2026_Q4");
        let t = zip_time("2026-11-20T09:16:41Z").unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (2026, 11, 20, 9, 16)
        );
        assert!(zip_time("yesterday").is_none());
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(12_345_678), "12.3 MB");
    }
}
