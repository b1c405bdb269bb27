//! The bundle's zip, written entry by entry in bounded memory.
//!
//! Why not the zip crate's writer: it keeps a record of a few hundred bytes
//! for every entry until `finish` (the name, extra fields, an index map):
//! writing a bundle of 837,090 files (10,000 accounts × 4 regions) raised
//! `report`'s peak by ~260 MB, and large files were deflated whole into
//! memory before being appended. Here each entry's central-directory record is written, as soon
//! as the entry is, to a temporary file that is copied after the last entry;
//! large files are deflated straight into the zip, in blocks on every core.
//!
//! What is written is plain, widely read zip: deflate, one fixed time, Unix
//! mode 0644, the UTF-8 flag on non-ASCII names, sizes in every local
//! header (no data descriptors), and Zip64 records only where a count, size
//! or offset does not fit 16 or 32 bits. The same entries give the same bytes.

use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Record signatures (APPNOTE 4.3), also read by `verify`'s reader.
pub(crate) const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
pub(crate) const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
pub(crate) const END_SIGNATURE: u32 = 0x0605_4b50;
pub(crate) const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
pub(crate) const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
/// The Zip64 extra field's id.
pub(crate) const ZIP64_EXTRA: u16 = 0x0001;
/// General purpose flag: the name is UTF-8.
pub(crate) const FLAG_UTF8: u16 = 1 << 11;
const DEFLATE: u16 = 8;
/// Version needed: 2.0 (deflate), 4.5 (Zip64).
const VERSION: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Made by Unix (upper byte 3), so the mode in the external attributes counts.
const MADE_BY_UNIX: u16 = 3 << 8;
const REGULAR_FILE_0644: u32 = 0o100644 << 16;
/// Deflate level 1: at 1,000 accounts × 17 regions it wrote the bundle ~1.3 s
/// faster than level 6 for a zip 22 % larger; evidence is small JSON files,
/// which deflate well either way.
pub(crate) const LEVEL: u32 = 1;
/// A streamed entry reserves Zip64 sizes above this input size: deflate can
/// grow incompressible data a little, so 32 bits stop short of 4 GiB.
const STREAM_ZIP64_ABOVE: u64 = 0xF000_0000;
/// A streamed entry is deflated in blocks of this many bytes…
const STREAM_BLOCK: usize = 4 << 20;
/// …this many at a time, on every core.
const STREAM_BLOCKS_AT_ONCE: usize = 4;
/// The last block of a deflate stream, empty (BFINAL set, fixed Huffman
/// codes, end of block), after blocks each ended by a sync flush.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// An entry's sizes and CRC-32, as its headers give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub(crate) crc32: u32,
    pub(crate) compressed: u64,
    pub(crate) size: u64,
}

/// Entries made ahead of their turn (on another core): local headers and
/// data, placed anywhere once their central records learn the offset.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// DOS time and date of every entry.
    time: (u16, u16),
    bytes: Vec<u8>,
    /// (name, sizes, offset of the local header within `bytes`).
    entries: Vec<(String, Sizes, u64)>,
}

impl Prepared {
    /// No entries yet; each will be dated `time`.
    pub(crate) fn new(time: zip::DateTime) -> Prepared {
        Prepared {
            time: dos_time(time),
            bytes: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Deflates `data` as entry `name`.
    pub(crate) fn add(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::new(LEVEL));
        encoder.write_all(data)?;
        let compressed = encoder.finish()?;
        let sizes = Sizes {
            crc32: crc32fast::hash(data),
            compressed: compressed.len() as u64,
            size: data.len() as u64,
        };
        self.add_deflated(name, &compressed, sizes)
    }

    /// Adds an entry already deflated, with its sizes.
    pub(crate) fn add_deflated(
        &mut self,
        name: &str,
        compressed: &[u8],
        sizes: Sizes,
    ) -> io::Result<()> {
        let offset = self.bytes.len() as u64;
        let zip64 = sizes.size >= u64::from(u32::MAX) || sizes.compressed >= u64::from(u32::MAX);
        local_header(&mut self.bytes, name, self.time, Some(sizes), zip64)?;
        self.bytes.extend_from_slice(compressed);
        self.entries.push((name.to_string(), sizes, offset));
        Ok(())
    }
}

/// A zip being written to `out`.
pub(crate) struct ZipStream<W: Write + Seek> {
    out: W,
    /// Where the next entry starts.
    offset: u64,
    /// The central directory so far, set aside in a temporary file.
    central: BufWriter<std::fs::File>,
    central_length: u64,
    entries: u64,
    /// DOS time and date of every entry.
    time: (u16, u16),
}

impl<W: Write + Seek> ZipStream<W> {
    /// Starts a zip at `out`'s current end, every entry dated `time`.
    pub(crate) fn new(mut out: W, time: zip::DateTime) -> io::Result<ZipStream<W>> {
        let offset = out.stream_position()?;
        Ok(ZipStream {
            out,
            offset,
            central: BufWriter::new(tempfile::tempfile()?),
            central_length: 0,
            entries: 0,
            time: dos_time(time),
        })
    }

    /// Appends entries made ahead.
    pub(crate) fn append(&mut self, prepared: &Prepared) -> io::Result<()> {
        let start = self.offset;
        self.write(&prepared.bytes)?;
        for (name, sizes, at) in &prepared.entries {
            self.record(name, *sizes, start + at)?;
        }
        Ok(())
    }

    /// Deflates `source` (about `size_hint` bytes) straight into the zip as
    /// entry `name`, passing every byte read to `seen`; the local header is
    /// written first and its sizes filled in after.
    ///
    /// The large outputs (OSCAL's 1.45 GB at 10,000 accounts × 4 regions)
    /// are deflated as pigz does, on every core: each block of
    /// [`STREAM_BLOCK`] bytes on its own, ended by a sync flush (so each ends
    /// on a byte and the next can follow), then one empty final block. One
    /// deflate stream any inflater reads; the same input gives the same
    /// bytes, whatever the cores.
    pub(crate) fn stream(
        &mut self,
        name: &str,
        source: &mut dyn Read,
        size_hint: u64,
        seen: &mut dyn FnMut(&[u8]),
    ) -> io::Result<Sizes> {
        use rayon::prelude::*;
        let start = self.offset;
        let zip64 = size_hint > STREAM_ZIP64_ABOVE;
        let mut header = Vec::new();
        local_header(&mut header, name, self.time, None, zip64)?;
        self.write(&header)?;
        let mut crc = crc32fast::Hasher::new();
        let (mut size, mut compressed) = (0u64, 0u64);
        loop {
            let (blocks, at_end) = read_blocks(source)?;
            for block in &blocks {
                crc.update(block);
                seen(block);
                size += block.len() as u64;
            }
            let deflated: Vec<Vec<u8>> = (blocks.par_iter())
                .map(|block| deflate_block(block))
                .collect::<io::Result<_>>()?;
            for block in &deflated {
                self.out.write_all(block)?;
                compressed += block.len() as u64;
            }
            if at_end {
                break;
            }
        }
        self.out.write_all(&FINAL_EMPTY_BLOCK)?;
        compressed += FINAL_EMPTY_BLOCK.len() as u64;
        self.offset += compressed;
        let sizes = Sizes {
            crc32: crc.finalize(),
            compressed,
            size,
        };
        let fits = size < u64::from(u32::MAX) && compressed < u64::from(u32::MAX);
        if !zip64 && !fits {
            return Err(io::Error::other(format!(
                "{name} grew past 4 GiB while it was read (it was {size_hint} bytes)"
            )));
        }
        header.clear();
        local_header(&mut header, name, self.time, Some(sizes), zip64)?;
        self.out.seek(SeekFrom::Start(start))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::Start(self.offset))?;
        self.record(name, sizes, start)?;
        Ok(sizes)
    }

    /// Writes the central directory and the end records; returns `out`.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let directory_start = self.offset;
        let mut central = self.central.into_inner().map_err(|e| e.into_error())?;
        central.seek(SeekFrom::Start(0))?;
        io::copy(&mut central, &mut self.out)?;
        let directory_end = directory_start + self.central_length;
        let mut end = Vec::new();
        let zip64 = self.entries >= u64::from(u16::MAX)
            || directory_start >= u64::from(u32::MAX)
            || self.central_length >= u64::from(u32::MAX);
        if zip64 {
            put32(&mut end, ZIP64_END_SIGNATURE);
            put64(&mut end, 44); // the record's size after this field
                                 // Versions as the zip crate wrote them, so bundles are the same
                                 // bytes as before this writer (readers do not check them).
            put16(&mut end, VERSION);
            put16(&mut end, VERSION);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, self.entries);
            put64(&mut end, self.entries);
            put64(&mut end, self.central_length);
            put64(&mut end, directory_start);
            put32(&mut end, ZIP64_LOCATOR_SIGNATURE);
            put32(&mut end, 0);
            put64(&mut end, directory_end);
            put32(&mut end, 1);
        }
        let count = if zip64 { u16::MAX } else { self.entries as u16 };
        put32(&mut end, END_SIGNATURE);
        put16(&mut end, 0);
        put16(&mut end, 0);
        put16(&mut end, count);
        put16(&mut end, count);
        // As the zip crate wrote it (so bundles stay the same bytes): with
        // a Zip64 record the directory's size is left to it, its start only
        // when it does not fit.
        put32(&mut end, saturate32(self.central_length, zip64));
        let directory_start_big = directory_start >= u64::from(u32::MAX);
        put32(&mut end, saturate32(directory_start, directory_start_big));
        put16(&mut end, 0);
        self.out.write_all(&end)?;
        Ok(self.out)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Sets aside the central record of an entry written at `offset`.
    fn record(&mut self, name: &str, sizes: Sizes, offset: u64) -> io::Result<()> {
        let big_size = sizes.size >= u64::from(u32::MAX);
        let big_compressed = sizes.compressed >= u64::from(u32::MAX);
        let big_offset = offset >= u64::from(u32::MAX);
        let mut extra = Vec::new();
        for (big, value) in [
            (big_size, sizes.size),
            (big_compressed, sizes.compressed),
            (big_offset, offset),
        ] {
            if big {
                put64(&mut extra, value);
            }
        }
        let zip64 = !extra.is_empty();
        let mut record = Vec::with_capacity(46 + name.len() + extra.len() + 4);
        put32(&mut record, CENTRAL_SIGNATURE);
        put16(
            &mut record,
            MADE_BY_UNIX | if zip64 { VERSION_ZIP64 } else { VERSION },
        );
        put16(&mut record, if zip64 { VERSION_ZIP64 } else { VERSION });
        put16(&mut record, name_flags(name));
        put16(&mut record, DEFLATE);
        put16(&mut record, self.time.0);
        put16(&mut record, self.time.1);
        put32(&mut record, sizes.crc32);
        put32(&mut record, saturate32(sizes.compressed, big_compressed));
        put32(&mut record, saturate32(sizes.size, big_size));
        put16(&mut record, name_length(name)?);
        let extra_length = if zip64 { extra.len() + 4 } else { 0 };
        put16(&mut record, extra_length as u16);
        put16(&mut record, 0); // comment
        put16(&mut record, 0); // disk
        put16(&mut record, 0); // internal attributes
        put32(&mut record, REGULAR_FILE_0644);
        put32(&mut record, saturate32(offset, big_offset));
        record.extend_from_slice(name.as_bytes());
        if zip64 {
            put16(&mut record, ZIP64_EXTRA);
            put16(&mut record, extra.len() as u16);
            record.extend_from_slice(&extra);
        }
        self.central.write_all(&record)?;
        self.central_length += record.len() as u64;
        self.entries += 1;
        Ok(())
    }
}

/// Up to [`STREAM_BLOCKS_AT_ONCE`] blocks of `source`, each
/// [`STREAM_BLOCK`] bytes but the last one read; and whether `source` ended.
fn read_blocks(source: &mut dyn Read) -> io::Result<(Vec<Vec<u8>>, bool)> {
    let mut blocks = Vec::with_capacity(STREAM_BLOCKS_AT_ONCE);
    while blocks.len() < STREAM_BLOCKS_AT_ONCE {
        let mut block = Vec::with_capacity(STREAM_BLOCK);
        source.take(STREAM_BLOCK as u64).read_to_end(&mut block)?;
        let full = block.len() == STREAM_BLOCK;
        if !block.is_empty() {
            blocks.push(block);
        }
        if !full {
            return Ok((blocks, true));
        }
    }
    Ok((blocks, false))
}

/// `block` deflated on its own and ended by a sync flush: not the stream's
/// last block, and ending on a byte, so the next block can follow it.
fn deflate_block(block: &[u8]) -> io::Result<Vec<u8>> {
    let mut deflate = flate2::Compress::new(Compression::new(LEVEL), false);
    let mut out = Vec::with_capacity(block.len() / 2 + 1024);
    loop {
        let read = deflate.total_in() as usize;
        deflate
            .compress_vec(&block[read..], &mut out, flate2::FlushCompress::Sync)
            .map_err(io::Error::other)?;
        // Done once every byte is in and the flush left room unused.
        if deflate.total_in() as usize == block.len() && out.len() < out.capacity() {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64 * 1024));
    }
}

/// DOS time and date.
fn dos_time(time: zip::DateTime) -> (u16, u16) {
    (time.timepart(), time.datepart())
}

/// Writes a local header for `name`: with `sizes`, or zeros to be filled in
/// (the same length either way); Zip64 sizes when `zip64`.
fn local_header(
    out: &mut Vec<u8>,
    name: &str,
    (time, date): (u16, u16),
    sizes: Option<Sizes>,
    zip64: bool,
) -> io::Result<()> {
    let sizes = sizes.unwrap_or(Sizes {
        crc32: 0,
        compressed: 0,
        size: 0,
    });
    put32(out, LOCAL_SIGNATURE);
    put16(out, if zip64 { VERSION_ZIP64 } else { VERSION });
    put16(out, name_flags(name));
    put16(out, DEFLATE);
    put16(out, time);
    put16(out, date);
    put32(out, sizes.crc32);
    put32(out, saturate32(sizes.compressed, zip64));
    put32(out, saturate32(sizes.size, zip64));
    put16(out, name_length(name)?);
    put16(out, if zip64 { 20 } else { 0 });
    out.extend_from_slice(name.as_bytes());
    if zip64 {
        put16(out, ZIP64_EXTRA);
        put16(out, 16);
        put64(out, sizes.size);
        put64(out, sizes.compressed);
    }
    Ok(())
}

fn name_flags(name: &str) -> u16 {
    if name.is_ascii() {
        0
    } else {
        FLAG_UTF8
    }
}

fn name_length(name: &str) -> io::Result<u16> {
    u16::try_from(name.len())
        .map_err(|_| io::Error::other(format!("a zip entry name is at most 65,535 bytes: {name}")))
}

fn saturate32(value: u64, saturated: bool) -> u32 {
    if saturated {
        u32::MAX
    } else {
        value as u32
    }
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn time() -> zip::DateTime {
        zip::DateTime::from_date_and_time(2026, 11, 20, 9, 16, 40).unwrap()
    }

    /// Entries made ahead and streamed ones, mixed: the zip crate reads each
    /// back with its bytes, time and mode, from the central directory and
    /// from the local headers alone (so the streamed entry's header was
    /// filled in), and the same entries give the same bytes.
    #[test]
    fn entries_read_back_from_the_directory_and_from_the_local_headers() {
        let write = || {
            let mut zip = ZipStream::new(Cursor::new(Vec::new()), time()).unwrap();
            let mut ahead = Prepared::new(time());
            ahead.add("bag/a.json", b"{\"a\": 1}").unwrap();
            ahead.add("bag/é.txt", "accent".as_bytes()).unwrap();
            zip.append(&ahead).unwrap();
            let big = b"0123456789".repeat(10_000);
            let mut seen = 0usize;
            zip.stream(
                "bag/big.bin",
                &mut big.as_slice(),
                big.len() as u64,
                &mut |b| seen += b.len(),
            )
            .unwrap();
            assert_eq!(seen, big.len());
            let mut after = Prepared::new(time());
            after.add("bag/z", b"").unwrap();
            zip.append(&after).unwrap();
            zip.finish().unwrap().into_inner()
        };
        let bytes = write();
        assert_eq!(bytes, write());
        let expected: [(&str, Vec<u8>); 4] = [
            ("bag/a.json", b"{\"a\": 1}".to_vec()),
            ("bag/é.txt", b"accent".to_vec()),
            ("bag/big.bin", b"0123456789".repeat(10_000)),
            ("bag/z", Vec::new()),
        ];
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(archive.len(), 4);
        for (i, (name, want)) in expected.iter().enumerate() {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.name().unwrap(), *name);
            assert_eq!(entry.last_modified(), Some(time()));
            assert_eq!(entry.unix_mode(), Some(0o100644));
            let mut got = Vec::new();
            entry.read_to_end(&mut got).unwrap();
            assert_eq!(&got, want, "{name}");
        }
        let mut stream = Cursor::new(&bytes);
        for (name, want) in &expected {
            let mut entry = zip::read::read_zipfile_from_stream(&mut stream)
                .unwrap()
                .unwrap();
            assert_eq!(entry.name().unwrap(), *name);
            let mut got = Vec::new();
            entry.read_to_end(&mut got).unwrap();
            assert_eq!(&got, want, "{name} from its local header");
        }
    }

    /// A stream of several blocks (deflated side by side, each ended by a
    /// sync flush, then the empty final block) reads back whole, through the
    /// zip crate (with its CRC-32) and a raw inflater; so do one block and an
    /// empty stream; the same input gives the same bytes. (`verify`'s own
    /// inflater reads one too: custody's tests.)
    #[test]
    fn a_stream_deflated_in_blocks_reads_back_whole() {
        let big: Vec<u8> = (0..STREAM_BLOCK * STREAM_BLOCKS_AT_ONCE + STREAM_BLOCK / 2 + 17)
            .map(|i| ((i / 7) % 251) as u8 ^ (i % 3) as u8)
            .collect();
        let write = |data: &[u8]| {
            let mut zip = ZipStream::new(Cursor::new(Vec::new()), time()).unwrap();
            let sizes = zip
                .stream(
                    "bag/big.bin",
                    &mut &data[..],
                    data.len() as u64,
                    &mut |_| {},
                )
                .unwrap();
            assert_eq!(sizes.size, data.len() as u64);
            zip.finish().unwrap().into_inner()
        };
        for data in [&big[..], &big[..STREAM_BLOCK], &[][..]] {
            let bytes = write(data);
            assert_eq!(bytes, write(data));
            let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
            let mut got = Vec::new();
            archive.by_index(0).unwrap().read_to_end(&mut got).unwrap();
            assert!(got == data, "{} bytes through the zip crate", data.len());
            let mut raw = archive.by_index_raw(0).unwrap();
            let mut deflated = Vec::new();
            raw.read_to_end(&mut deflated).unwrap();
            let mut again = Vec::new();
            (flate2::read::DeflateDecoder::new(deflated.as_slice()))
                .read_to_end(&mut again)
                .unwrap();
            assert!(
                again == data,
                "{} bytes through flate2's inflater",
                data.len()
            );
        }
    }

    /// Past 65,535 entries the count needs the Zip64 end records: written,
    /// and read back by the zip crate and by `verify`'s own reader.
    #[test]
    fn more_entries_than_sixteen_bits_count_get_zip64_end_records() {
        let mut zip = ZipStream::new(Cursor::new(Vec::new()), time()).unwrap();
        let mut ahead = Prepared::new(time());
        let count = usize::from(u16::MAX) + 2;
        for i in 0..count {
            ahead.add(&format!("bag/{i}"), b"x").unwrap();
        }
        zip.append(&ahead).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(archive.len(), count);
        assert_eq!(
            &bytes[bytes.len() - 22..bytes.len() - 18],
            &END_SIGNATURE.to_le_bytes()
        );
        assert_eq!(le16_at(&bytes, bytes.len() - 12), u16::MAX);
    }

    fn le16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }
}
