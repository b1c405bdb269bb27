//! A bundle zip's central directory, read one record at a time.
//!
//! Why: the zip crate's archive index keeps a record of several hundred
//! bytes for every entry (the name twice, extra fields, comment, an index
//! map) for as long as the archive is open. Verifying reads every entry
//! once, in order, so it needs each record only while it reads that entry:
//! this reader holds one at a time. With the payload manifest no longer
//! made into a map, `verify` went from 600 to 367 MB at 10,000 accounts × 4
//! regions (837,090 entries, docs/performance.md).
//!
//! What a bundle written by auditpack never holds, and tools read
//! differently, is refused rather than guessed at: an archive split over
//! disks, a name that is neither flagged UTF-8 nor plain ASCII (CP437 to
//! some tools, UTF-8 to others), an Info-ZIP Unicode path field (a second
//! name that some tools prefer), a local header whose name differs from the
//! central record's (what a streaming tool would extract), and entry data
//! that runs into the central directory.

use std::fmt;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use crate::outputs::zip_writer::{
    CENTRAL_SIGNATURE, END_SIGNATURE, FLAG_UTF8, LOCAL_SIGNATURE, ZIP64_END_SIGNATURE, ZIP64_EXTRA,
    ZIP64_LOCATOR_SIGNATURE,
};

/// The end record's fixed part; a comment of up to 65,535 bytes follows it.
const END_RECORD: usize = 22;
const ZIP64_LOCATOR: usize = 20;
const ZIP64_END_RECORD: usize = 56;
const CENTRAL_RECORD: usize = 46;
const LOCAL_HEADER: usize = 30;
/// The Info-ZIP Unicode path extra field's id.
const UNICODE_PATH_EXTRA: u16 = 0x7075;
/// General purpose flag: encrypted.
const FLAG_ENCRYPTED: u16 = 1;
/// "Version made by" system of Unix, whose external attributes hold a mode.
const MADE_BY_UNIX: u8 = 3;

/// Why a zip could not be read.
#[derive(Debug)]
pub(crate) enum ZipReadError {
    /// Reading the file failed.
    Io(io::Error),
    /// The bytes are not a zip this reader accepts; says why.
    Malformed(String),
}

impl fmt::Display for ZipReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZipReadError::Io(e) => write!(f, "{e}"),
            ZipReadError::Malformed(why) => f.write_str(why),
        }
    }
}

impl From<io::Error> for ZipReadError {
    fn from(error: io::Error) -> Self {
        // A record cut short is a malformed zip, not a failing disk.
        if error.kind() == io::ErrorKind::UnexpectedEof {
            return ZipReadError::Malformed("it ends inside a record".into());
        }
        ZipReadError::Io(error)
    }
}

fn malformed<T>(why: impl Into<String>) -> Result<T, ZipReadError> {
    Err(ZipReadError::Malformed(why.into()))
}

/// One central-directory record, as far as verifying needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CentralEntry {
    /// The entry's name (UTF-8 or ASCII, as read).
    pub(crate) name: String,
    /// Flag bit 0.
    pub(crate) encrypted: bool,
    /// 0 stored, 8 deflate, anything else as found.
    pub(crate) method: u16,
    pub(crate) compressed_size: u64,
    /// The size the zip declares the data inflates to.
    pub(crate) size: u64,
    pub(crate) local_header_offset: u64,
    /// The Unix mode, for an entry made on Unix.
    unix_mode: Option<u32>,
}

impl CentralEntry {
    /// A folder entry: its name ends with `/`.
    pub(crate) fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }

    /// A symbolic link: made on Unix with a link's file type.
    pub(crate) fn is_symlink(&self) -> bool {
        self.unix_mode
            .is_some_and(|mode| mode & 0o170000 == 0o120000)
    }
}

/// The central directory, read record by record through a buffer.
pub(crate) struct CentralDirectory<R> {
    reader: BufReader<R>,
    /// Records the end record declares; reading stops there.
    declared: u64,
    read: u64,
    /// Bytes of the directory not yet read.
    left: u64,
    /// Where the directory starts: no entry's data reaches past it.
    start: u64,
}

impl<R: Read + Seek> CentralDirectory<R> {
    /// Finds the end record of `file` and positions a reader at the first
    /// central record.
    pub(crate) fn open(mut file: R) -> Result<CentralDirectory<R>, ZipReadError> {
        let length = file.seek(SeekFrom::End(0))?;
        let tail_length = length.min((END_RECORD + usize::from(u16::MAX)) as u64);
        let tail_start = length - tail_length;
        file.seek(SeekFrom::Start(tail_start))?;
        let mut tail = vec![0u8; tail_length as usize];
        file.read_exact(&mut tail)?;
        let Some(at) = find_end_record(&tail) else {
            return malformed("no end of central directory record");
        };
        let end = &tail[at..at + END_RECORD];
        let end_at = tail_start + at as u64;
        let (disk, directory_disk) = (le16(end, 4), le16(end, 6));
        let (on_disk, declared) = (le16(end, 8), le16(end, 10));
        let (size, start) = (le32(end, 12), le32(end, 16));
        // Saturated sizes or disks need the Zip64 record; a count of 65,535
        // may be one, or exactly that many entries in a plain zip.
        let needs_zip64 =
            [size, start].contains(&u32::MAX) || [disk, directory_disk].contains(&u16::MAX);
        let zip64 = needs_zip64
            || ([on_disk, declared].contains(&u16::MAX) && has_zip64_locator(&mut file, end_at)?);
        let (declared, size, start, records_end) = if zip64 {
            read_zip64_end(&mut file, end_at)?
        } else {
            if (disk, directory_disk) != (0, 0) || on_disk != declared {
                return malformed("the archive is split over several disks");
            }
            (declared.into(), size.into(), start.into(), end_at)
        };
        if start.checked_add(size).is_none_or(|end| end > records_end) {
            return malformed("the central directory is not where the end record says");
        }
        file.seek(SeekFrom::Start(start))?;
        Ok(CentralDirectory {
            reader: BufReader::with_capacity(64 * 1024, file),
            declared,
            read: 0,
            left: size,
            start,
        })
    }

    /// How many entries the end record declares.
    pub(crate) fn declared_entries(&self) -> u64 {
        self.declared
    }

    /// Where the central directory starts: entries' data ends before it.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// The next record, or None after the last one the end record declares.
    pub(crate) fn next_entry(&mut self) -> Result<Option<CentralEntry>, ZipReadError> {
        if self.read == self.declared {
            return Ok(None);
        }
        self.read += 1;
        let fixed: [u8; CENTRAL_RECORD] = self.take_array()?;
        if le32(&fixed, 0) != CENTRAL_SIGNATURE {
            return malformed("a central directory record has no signature");
        }
        let flags = le16(&fixed, 8);
        let name = self.take(le16(&fixed, 28).into())?;
        let extra = self.take(le16(&fixed, 30).into())?;
        self.take(le16(&fixed, 32).into())?; // the comment
        let mut entry = CentralEntry {
            name: entry_name(name, flags)?,
            encrypted: flags & FLAG_ENCRYPTED != 0,
            method: le16(&fixed, 10),
            compressed_size: le32(&fixed, 20).into(),
            size: le32(&fixed, 24).into(),
            local_header_offset: le32(&fixed, 42).into(),
            unix_mode: (fixed[5] == MADE_BY_UNIX).then(|| le32(&fixed, 38) >> 16),
        };
        if le16(&fixed, 34) != 0 && le16(&fixed, 34) != u16::MAX {
            return malformed(format!("'{}' starts on another disk", entry.name));
        }
        apply_extra_fields(&mut entry, &extra, (le32(&fixed, 24), le32(&fixed, 20)))?;
        Ok(Some(entry))
    }

    fn take(&mut self, length: u64) -> Result<Vec<u8>, ZipReadError> {
        if length > self.left {
            return malformed("the central directory ends inside a record");
        }
        self.left -= length;
        let mut bytes = vec![0u8; length as usize];
        self.reader.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], ZipReadError> {
        if N as u64 > self.left {
            return malformed("the central directory ends before the records it declares");
        }
        self.left -= N as u64;
        let mut bytes = [0u8; N];
        self.reader.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

/// Where, in the last bytes of a file, its end record starts: the last
/// signature whose comment runs exactly to the end of the file (a comment
/// may itself hold the signature's bytes).
fn find_end_record(tail: &[u8]) -> Option<usize> {
    let last = tail.len().checked_sub(END_RECORD)?;
    (0..=last).rev().find(|&at| {
        le32(tail, at) == END_SIGNATURE
            && at + END_RECORD + usize::from(le16(tail, at + 20)) == tail.len()
    })
}

/// Whether a Zip64 locator sits just before the end record at `end_at`.
fn has_zip64_locator<R: Read + Seek>(file: &mut R, end_at: u64) -> Result<bool, ZipReadError> {
    let Some(locator_at) = end_at.checked_sub(ZIP64_LOCATOR as u64) else {
        return Ok(false);
    };
    match read_record::<4, R>(file, locator_at, ZIP64_LOCATOR_SIGNATURE, "") {
        Ok(_) => Ok(true),
        Err(ZipReadError::Malformed(_)) => Ok(false),
        Err(io) => Err(io),
    }
}

/// The `N` bytes at `at`, which must start with `signature` (else `why`).
fn read_record<const N: usize, R: Read + Seek>(
    file: &mut R,
    at: u64,
    signature: u32,
    why: &str,
) -> Result<[u8; N], ZipReadError> {
    file.seek(SeekFrom::Start(at))?;
    let mut record = [0u8; N];
    file.read_exact(&mut record)?;
    if le32(&record, 0) != signature {
        return malformed(why);
    }
    Ok(record)
}

/// The Zip64 end record that the locator just before `end_at` points at:
/// (entries, directory size, directory start, where records must end).
fn read_zip64_end<R: Read + Seek>(
    file: &mut R,
    end_at: u64,
) -> Result<(u64, u64, u64, u64), ZipReadError> {
    let none = "a Zip64 end record is needed and there is none";
    let Some(locator_at) = end_at.checked_sub(ZIP64_LOCATOR as u64) else {
        return malformed(none);
    };
    let locator: [u8; ZIP64_LOCATOR] =
        read_record(file, locator_at, ZIP64_LOCATOR_SIGNATURE, none)?;
    let record_at = le64(&locator, 8);
    if le32(&locator, 4) != 0 || le32(&locator, 16) > 1 {
        return malformed("the archive is split over several disks");
    }
    let elsewhere = "the Zip64 end record is not where its locator says";
    if record_at.saturating_add(ZIP64_END_RECORD as u64) > locator_at {
        return malformed(elsewhere);
    }
    let record: [u8; ZIP64_END_RECORD] =
        read_record(file, record_at, ZIP64_END_SIGNATURE, elsewhere)?;
    let (disk, directory_disk) = (le32(&record, 16), le32(&record, 20));
    let (on_disk, declared) = (le64(&record, 24), le64(&record, 32));
    if (disk, directory_disk) != (0, 0) || on_disk != declared {
        return malformed("the archive is split over several disks");
    }
    Ok((declared, le64(&record, 40), le64(&record, 48), record_at))
}

/// The name as UTF-8: flagged so, or plain ASCII (the same in every
/// encoding). Anything else is read as CP437 by some tools and as UTF-8 by
/// others, so the entry would have two names.
fn entry_name(raw: Vec<u8>, flags: u16) -> Result<String, ZipReadError> {
    if flags & FLAG_UTF8 == 0 && !raw.is_ascii() {
        return malformed(format!(
            "the name '{}' is neither flagged UTF-8 nor ASCII",
            String::from_utf8_lossy(&raw)
        ));
    }
    String::from_utf8(raw).or_else(|e| {
        malformed(format!(
            "the name '{}' is flagged UTF-8 and is not",
            String::from_utf8_lossy(e.as_bytes())
        ))
    })
}

/// Reads the Zip64 field's sizes and offset where the record's own fields
/// are saturated (`(size, compressed)` as the record gives them), and
/// refuses a Unicode path field.
fn apply_extra_fields(
    entry: &mut CentralEntry,
    extra: &[u8],
    (size, compressed): (u32, u32),
) -> Result<(), ZipReadError> {
    let mut rest = extra;
    while rest.len() >= 4 {
        let (id, length) = (le16(rest, 0), usize::from(le16(rest, 2)));
        let Some(data) = rest.get(4..4 + length) else {
            return malformed(format!("'{}' has a cut extra field", entry.name));
        };
        match id {
            UNICODE_PATH_EXTRA => {
                return malformed(format!(
                    "'{}' carries a second name (a Unicode path field)",
                    entry.name
                ))
            }
            ZIP64_EXTRA => {
                let mut values = data.chunks_exact(8).map(|v| le64(v, 0));
                let mut next = |saturated: bool, field: &mut u64| {
                    if saturated {
                        *field = values.next().ok_or_else(|| {
                            ZipReadError::Malformed(format!(
                                "'{}' has a Zip64 field too short for its sizes",
                                entry.name
                            ))
                        })?;
                    }
                    Ok::<(), ZipReadError>(())
                };
                next(size == u32::MAX, &mut entry.size)?;
                next(compressed == u32::MAX, &mut entry.compressed_size)?;
                let offset_saturated = entry.local_header_offset == u64::from(u32::MAX);
                next(offset_saturated, &mut entry.local_header_offset)?;
            }
            _ => {}
        }
        rest = &rest[4 + length..];
    }
    Ok(())
}

/// Positions `file` at `entry`'s data, checking its local header: the
/// signature, the same name as the central record, and data that ends
/// before the central directory at `directory_start`. Returns the
/// compressed bytes' reader.
pub(crate) fn entry_data<'f, R: Read + Seek>(
    file: &'f mut R,
    entry: &CentralEntry,
    directory_start: u64,
) -> Result<io::Take<&'f mut R>, ZipReadError> {
    let no_header = format!("'{}' has no local header", entry.name);
    let header: [u8; LOCAL_HEADER] =
        read_record(file, entry.local_header_offset, LOCAL_SIGNATURE, &no_header)?;
    let name_length = u64::from(le16(&header, 26));
    let extra_length = u64::from(le16(&header, 28));
    let mut name = vec![0u8; name_length as usize];
    file.read_exact(&mut name)?;
    if name != entry.name.as_bytes() {
        return malformed(format!(
            "'{}' is named '{}' in its local header",
            entry.name,
            String::from_utf8_lossy(&name)
        ));
    }
    let header_length = LOCAL_HEADER as u64 + name_length + extra_length;
    let data_start = entry.local_header_offset.saturating_add(header_length);
    if data_start
        .checked_add(entry.compressed_size)
        .is_none_or(|end| end > directory_start)
    {
        return malformed(format!("'{}' runs into the central directory", entry.name));
    }
    file.seek(SeekFrom::Start(data_start))?;
    Ok(file.take(entry.compressed_size))
}

fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    fn zip_of(entries: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            if name.ends_with('/') {
                zip.add_directory(*name, options).unwrap();
            } else {
                zip.start_file(*name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
        }
        zip.finish().unwrap().into_inner()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(CentralEntry, Vec<u8>)>, ZipReadError> {
        let mut directory = CentralDirectory::open(Cursor::new(bytes))?;
        let mut file = Cursor::new(bytes);
        let mut read = Vec::new();
        while let Some(entry) = directory.next_entry()? {
            let mut data = Vec::new();
            entry_data(&mut file, &entry, directory.start())?.read_to_end(&mut data)?;
            read.push((entry, data));
        }
        Ok(read)
    }

    fn why(result: Result<Vec<(CentralEntry, Vec<u8>)>, ZipReadError>) -> String {
        match result {
            Err(ZipReadError::Malformed(why)) => why,
            other => panic!("not refused as malformed: {other:?}"),
        }
    }

    /// Every entry the zip crate writes is read back, in order, with its
    /// name, method, sizes and stored bytes; a folder is a folder.
    #[test]
    fn reads_each_record_and_its_data_as_written() {
        let stored = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o644);
        let bytes = zip_of(
            &[
                ("bag/", b""),
                ("bag/a.txt", b"alpha"),
                ("bag/é.json", b"{}"),
            ],
            stored,
        );
        let read = read_all(&bytes).unwrap();
        let names: Vec<&str> = read.iter().map(|(e, _)| e.name.as_str()).collect();
        assert_eq!(names, ["bag/", "bag/a.txt", "bag/é.json"]);
        assert!(read[0].0.is_dir() && !read[1].0.is_dir());
        assert_eq!(read[1].1, b"alpha");
        assert_eq!((read[1].0.size, read[1].0.method), (5, 0));
        assert!(!read[1].0.is_symlink() && !read[1].0.encrypted);
    }

    /// A Zip64 archive (forced on every entry) reads the same: sizes and
    /// offsets from the Zip64 field, the directory from the Zip64 end record.
    #[test]
    fn reads_zip64_records() {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        let bytes = zip_of(&[("bag/a", b"one"), ("bag/b", b"two two")], options);
        let read = read_all(&bytes).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!((read[1].0.size, read[1].0.method), (7, 8));
        assert!(read[1].0.local_header_offset > 0);
    }

    /// A comment that holds the end record's signature does not fool the
    /// search: the record whose comment runs to the end of the file is used.
    #[test]
    fn an_end_signature_inside_the_comment_is_not_taken_for_the_record() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.set_comment("PK\u{5}\u{6} looks like an end record")
            .unwrap();
        zip.start_file("bag/a", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"x").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert_eq!(read_all(&bytes).unwrap().len(), 1);
    }

    /// An end record counting 65,535 entries with no Zip64 locator before
    /// it is a plain zip of exactly that many (here: a one-entry zip whose
    /// count says so reads on, then stops short, as the count is believed).
    #[test]
    fn a_count_of_65535_without_a_zip64_locator_is_a_plain_count() {
        let mut bytes = handmade_zip(b"bag/a", 0, &[]);
        let end = bytes.len() - END_RECORD;
        bytes[end + 8..end + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        let mut directory = CentralDirectory::open(Cursor::new(&bytes)).unwrap();
        assert_eq!(directory.declared_entries(), 65_535);
        assert_eq!(directory.next_entry().unwrap().unwrap().name, "bag/a");
        assert!(matches!(
            directory.next_entry(),
            Err(ZipReadError::Malformed(_))
        ));
    }

    /// A symbolic link is seen as one from its Unix mode.
    #[test]
    fn a_symlink_is_told_by_its_mode() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.add_symlink("bag/link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(read_all(&bytes).unwrap()[0].0.is_symlink());
    }

    /// What tools read differently is refused, naming the entry: a local
    /// header with another name, a name neither UTF-8-flagged nor ASCII, a
    /// Unicode path field, data running into the directory; so are a cut
    /// file and bytes that are no zip at all.
    #[test]
    fn ambiguous_or_broken_zips_are_refused() {
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let bytes = zip_of(&[("bag/aaaa", b"1234")], options);
        // The local header's name only (the first copy of the name).
        let at = bytes.windows(8).position(|w| w == b"bag/aaaa").unwrap();
        let mut renamed = bytes.clone();
        renamed[at..at + 8].copy_from_slice(b"bag/bbbb");
        assert!(why(read_all(&renamed)).contains("is named 'bag/bbbb' in its local header"));
        // Both names with a byte of Latin-1 and no UTF-8 flag.
        let mut latin = bytes.clone();
        for at in [
            at,
            bytes.windows(8).rposition(|w| w == b"bag/aaaa").unwrap(),
        ] {
            latin[at + 4] = 0xE9;
        }
        assert!(why(read_all(&latin)).contains("neither flagged UTF-8 nor ASCII"));
        // The central record's compressed size made larger than the data.
        let central = bytes
            .windows(4)
            .position(|w| w == [0x50, 0x4b, 1, 2])
            .unwrap();
        let mut long = bytes.clone();
        long[central + 20..central + 24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(why(read_all(&long)).contains("runs into the central directory"));
        assert!(why(read_all(&bytes[..bytes.len() - 5])).contains("no end of central directory"));
        assert!(why(read_all(b"not a zip at all, just words")).contains("no end of central"));
        // The end record declaring more records than the directory holds.
        let mut more = bytes.clone();
        let end = more.len() - END_RECORD;
        more[end + 8..end + 12].copy_from_slice(&[2, 0, 2, 0]);
        assert!(why(read_all(&more)).contains("ends before the records it declares"));
    }

    /// One stored entry holding `x`, written byte by byte, with the
    /// central record's `flags` and `extra` field as given.
    fn handmade_zip(name: &[u8], flags: u16, extra: &[u8]) -> Vec<u8> {
        let crc = 0x8cdc_1683u32; // CRC-32 of "x"
        let mut fixed = Vec::new();
        for (value, width) in [(20u64, 2), (flags.into(), 2), (0, 2), (0, 2), (0, 2)] {
            fixed.extend_from_slice(&value.to_le_bytes()[..width]);
        }
        fixed.extend_from_slice(&crc.to_le_bytes());
        fixed.extend_from_slice(&1u32.to_le_bytes());
        fixed.extend_from_slice(&1u32.to_le_bytes());
        fixed.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let mut zip = LOCAL_SIGNATURE.to_le_bytes().to_vec();
        zip.extend_from_slice(&fixed);
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name);
        zip.push(b'x');
        let directory_start = zip.len() as u32;
        zip.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
        zip.extend_from_slice(&(3u16 << 8 | 20).to_le_bytes());
        zip.extend_from_slice(&fixed);
        zip.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
        zip.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(name);
        zip.extend_from_slice(extra);
        let directory_size = zip.len() as u32 - directory_start;
        zip.extend_from_slice(&END_SIGNATURE.to_le_bytes());
        zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend_from_slice(&directory_size.to_le_bytes());
        zip.extend_from_slice(&directory_start.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip
    }

    /// The hand-made zip reads as written, so the cases below differ from
    /// a good zip only in what they name; then a second name in a Unicode
    /// path field, a name flagged UTF-8 that is not, and a cut extra field
    /// are each refused.
    #[test]
    fn a_second_name_or_a_broken_name_field_is_refused() {
        let good = read_all(&handmade_zip(b"bag/a", 0, &[])).unwrap();
        assert_eq!(
            (good[0].0.name.as_str(), good[0].1.as_slice()),
            ("bag/a", b"x".as_slice())
        );
        // Info-ZIP's Unicode path field: version, CRC of the name, a name.
        let mut field = UNICODE_PATH_EXTRA.to_le_bytes().to_vec();
        field.extend_from_slice(&12u16.to_le_bytes());
        field.extend_from_slice(&[1, 0, 0, 0, 0]);
        field.extend_from_slice(b"../evil");
        assert!(why(read_all(&handmade_zip(b"bag/a", 0, &field))).contains("a second name"));
        let not_utf8 = handmade_zip(b"bag/\xff", FLAG_UTF8, &[]);
        assert!(why(read_all(&not_utf8)).contains("flagged UTF-8 and is not"));
        let cut = [0x99, 0x99, 40, 0, 1, 2];
        assert!(why(read_all(&handmade_zip(b"bag/a", 0, &cut))).contains("cut extra field"));
    }

    fn time() -> zip::DateTime {
        zip::DateTime::from_date_and_time(2026, 11, 20, 9, 16, 40).unwrap()
    }

    /// A file whose first `base` bytes are zeros never stored: what is
    /// written after them is kept, so a zip can start past 4 GiB in a test.
    struct Sparse {
        base: u64,
        bytes: Vec<u8>,
        position: u64,
    }

    impl Write for Sparse {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let at = usize::try_from(self.position - self.base).unwrap();
            if self.bytes.len() < at + buf.len() {
                self.bytes.resize(at + buf.len(), 0);
            }
            self.bytes[at..at + buf.len()].copy_from_slice(buf);
            self.position += buf.len() as u64;
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Read for Sparse {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let end = self.base + self.bytes.len() as u64;
            let n = out
                .len()
                .min(usize::try_from(end.saturating_sub(self.position)).unwrap());
            for (i, byte) in out[..n].iter_mut().enumerate() {
                let at = self.position + i as u64;
                *byte = if at < self.base {
                    0
                } else {
                    self.bytes[(at - self.base) as usize]
                };
            }
            self.position += n as u64;
            Ok(n)
        }
    }

    impl Seek for Sparse {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.position = match to {
                SeekFrom::Start(at) => at,
                SeekFrom::End(back) => {
                    (self.base + self.bytes.len() as u64).saturating_add_signed(back)
                }
                SeekFrom::Current(by) => self.position.saturating_add_signed(by),
            };
            Ok(self.position)
        }
    }

    /// Entries past 4 GiB into the file: their offsets, and the directory's,
    /// as auditpack's writer puts them in Zip64 fields: this reader finds
    /// every entry's data.
    #[test]
    fn offsets_past_four_gibibytes_go_in_zip64_fields() {
        let base = 5 << 30;
        let sparse = Sparse {
            base,
            bytes: Vec::new(),
            position: base,
        };
        let mut zip = crate::outputs::zip_writer::ZipStream::new(sparse, time()).unwrap();
        let mut ahead = crate::outputs::zip_writer::Prepared::new(time());
        ahead.add("bag/a", b"alpha").unwrap();
        zip.append(&ahead).unwrap();
        zip.stream("bag/b", &mut b"beta".as_slice(), 4, &mut |_| {})
            .unwrap();
        let mut file = zip.finish().unwrap();
        let mut directory = CentralDirectory::open(&mut file).unwrap();
        assert!(directory.start() > base);
        let mut entries = Vec::new();
        while let Some(entry) = directory.next_entry().unwrap() {
            entries.push(entry);
        }
        let start = directory.start();
        drop(directory);
        for (entry, want) in entries.iter().zip([b"alpha".as_slice(), b"beta"]) {
            assert!(entry.local_header_offset >= base, "{}", entry.name);
            let mut raw = Vec::new();
            entry_data(&mut file, entry, start)
                .unwrap()
                .read_to_end(&mut raw)
                .unwrap();
            let mut inflated = Vec::new();
            flate2::read::DeflateDecoder::new(raw.as_slice())
                .read_to_end(&mut inflated)
                .unwrap();
            assert_eq!(inflated, want);
        }
    }
}
