//! Reading a bundle zip with few system calls.
//!
//! Why: the zip reader seeks to every entry's local header and reads it in
//! pieces of a few dozen bytes. A run bundle holds tens of thousands of small
//! evidence files (84,000 at 1,000 accounts × 4 regions), so reading one
//! straight from a `File` made close to a million `read` and `lseek` calls,
//! half of `verify`'s time and most of `period`'s. [`SeekBuffer`] keeps a
//! window of the file in memory and answers every read and seek that falls
//! inside it without asking the kernel; entries are laid out in the order they
//! are read, so nearly every seek does.

use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};
use std::path::Path;

/// How much of the file one refill reads: large enough that the small
/// entries of a bundle are read a megabyte at a time.
const WINDOW: usize = 1 << 20;
/// How much a read after a jump elsewhere in the file reads.
const JUMP_WINDOW: usize = 16 << 10;

/// A reader with a window of the underlying file kept in memory; seeks only
/// move a position, and a read outside the window refills it from there.
pub(crate) struct SeekBuffer<R> {
    inner: R,
    /// The window's bytes are `buffer[..filled]`; the buffer is allocated
    /// once and never cleared again (a debug build zeroed it byte by byte).
    buffer: Box<[u8]>,
    filled: usize,
    /// File offset of `window[0]`.
    window_start: u64,
    /// Where the next read starts.
    position: u64,
    /// Where `inner`'s own cursor is (saves a seek when reading on).
    inner_position: u64,
    /// The file's length, for `SeekFrom::End`.
    length: u64,
    /// SHA-256 of the file's bytes `0..hashed_to`, fed as reads pass them in
    /// order (see [`SeekBuffer::finish_sha256`]).
    hasher: Sha256,
    hashed_to: u64,
}

impl<R: Read + Seek> SeekBuffer<R> {
    /// Wraps `inner`, positioned at its start.
    pub(crate) fn new(mut inner: R) -> io::Result<SeekBuffer<R>> {
        let length = inner.seek(SeekFrom::End(0))?;
        Ok(SeekBuffer {
            inner,
            buffer: vec![0u8; WINDOW].into_boxed_slice(),
            filled: 0,
            window_start: 0,
            position: 0,
            inner_position: length,
            length,
            hasher: Sha256::new(),
            hashed_to: 0,
        })
    }

    /// SHA-256 of the whole file, lowercase hex: the bytes reads passed in
    /// order were hashed as they went by, and the rest (the central
    /// directory, read first, and anything skipped) is read now. Saves a
    /// second pass over a bundle to name it by its hash.
    pub(crate) fn finish_sha256(mut self) -> io::Result<String> {
        self.inner.seek(SeekFrom::Start(self.hashed_to))?;
        let mut rest = (&mut self.inner).take(self.length - self.hashed_to);
        loop {
            let n = rest.read(&mut self.buffer)?;
            if n == 0 {
                break;
            }
            self.hasher.update(&self.buffer[..n]);
        }
        Ok(hex::encode(self.hasher.finalize()))
    }

    /// The bytes of the window from the current position on.
    fn buffered(&self) -> &[u8] {
        let end = self.window_start + self.filled as u64;
        if self.position < self.window_start || self.position >= end {
            return &[];
        }
        let from = usize::try_from(self.position - self.window_start).unwrap_or(usize::MAX);
        &self.buffer[from..self.filled]
    }

    /// Moves `inner`'s cursor to the current position, when it is elsewhere.
    fn align_inner(&mut self) -> io::Result<()> {
        if self.inner_position != self.position {
            self.inner.seek(SeekFrom::Start(self.position))?;
            self.inner_position = self.position;
        }
        Ok(())
    }

    /// Reads up to one window around the current position: from it when
    /// reading forwards, and ending just past it when the position moved
    /// back before the window, so that a backwards scan (the zip reader's
    /// search for the end of the central directory, over the whole of a
    /// file that is not a zip) reads each megabyte once, not once per step.
    ///
    /// A jump elsewhere (a zip whose entries are not in file order, as only a
    /// hand-made one is) reads a small window, so that reading such a zip
    /// costs what reading it straight from the file did.
    fn refill(&mut self) -> io::Result<()> {
        let window_end = self.window_start + self.filled as u64;
        let moved_back = self.position < self.window_start;
        let onwards = self.position == window_end || self.filled == 0;
        let (start, size) = if moved_back && self.window_start - self.position <= WINDOW as u64 {
            (
                (self.position + 1).saturating_sub(WINDOW as u64 / 2),
                WINDOW,
            )
        } else if onwards {
            (self.position, WINDOW)
        } else {
            (self.position, JUMP_WINDOW)
        };
        let wanted = self.position;
        self.position = start;
        let filled = self.fill_window(size);
        self.position = wanted;
        filled
    }

    /// Reads up to `size` bytes from the current position into the window.
    fn fill_window(&mut self, size: usize) -> io::Result<()> {
        self.align_inner()?;
        self.filled = 0;
        let mut filled = 0;
        while filled < size {
            match self.inner.read(&mut self.buffer[filled..size]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.filled = filled;
        self.window_start = self.position;
        self.inner_position = self.position + filled as u64;
        hash_continuing(
            &mut self.hasher,
            &mut self.hashed_to,
            self.window_start,
            &self.buffer[..filled],
        );
        Ok(())
    }
}

impl<R: Read + Seek> Read for SeekBuffer<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.buffered().is_empty() {
            if out.len() >= WINDOW {
                // A large read goes straight to the file, past the window.
                self.align_inner()?;
                let n = self.inner.read(out)?;
                hash_continuing(
                    &mut self.hasher,
                    &mut self.hashed_to,
                    self.position,
                    &out[..n],
                );
                self.position += n as u64;
                self.inner_position = self.position;
                return Ok(n);
            }
            self.refill()?;
        }
        let available = self.buffered();
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for SeekBuffer<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.length.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        self.position = target;
        Ok(target)
    }
}

/// A raw deflate stream, inflated with a decompressor that is reset for each
/// entry rather than made anew.
///
/// Why: the zip crate builds a fresh decompressor for every entry it
/// inflates, allocating and clearing its 32 KiB window; over a bundle's
/// 84,000 small files that was 7 % of `verify`. Entries are read raw and
/// inflated here instead. Integrity does not rest on the zip's CRC-32, which
/// this skips: every file is checked against the SHA-256 manifests.
pub(crate) struct Inflate<'a, R> {
    source: R,
    state: &'a mut flate2::Decompress,
    input: &'a mut [u8],
    start: usize,
    end: usize,
    source_done: bool,
    finished: bool,
}

impl<'a, R: Read> Inflate<'a, R> {
    /// Inflates `source` with `state` (reset here), reading through `input`.
    pub(crate) fn new(
        source: R,
        state: &'a mut flate2::Decompress,
        input: &'a mut [u8],
    ) -> Inflate<'a, R> {
        state.reset(false);
        Inflate {
            source,
            state,
            input,
            start: 0,
            end: 0,
            source_done: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for Inflate<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.finished {
            return Ok(0);
        }
        loop {
            if self.start == self.end && !self.source_done {
                self.end = self.source.read(self.input)?;
                self.start = 0;
                self.source_done = self.end == 0;
            }
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let status = self
                .state
                .decompress(
                    &self.input[self.start..self.end],
                    out,
                    flate2::FlushDecompress::None,
                )
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let consumed = usize::try_from(self.state.total_in() - before_in).unwrap_or(0);
            let produced = usize::try_from(self.state.total_out() - before_out).unwrap_or(0);
            self.start += consumed;
            if status == flate2::Status::StreamEnd {
                self.finished = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 && (self.source_done || self.start < self.end) {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the deflate stream ends before its end marker",
                ));
            }
        }
    }
}

/// Feeds `hasher`, which has hashed a file's bytes up to `hashed_to`, with
/// `bytes` read from `at`, where they continue what it has.
fn hash_continuing(hasher: &mut Sha256, hashed_to: &mut u64, at: u64, bytes: &[u8]) {
    let end = at + bytes.len() as u64;
    if at <= *hashed_to && end > *hashed_to {
        let skip = usize::try_from(*hashed_to - at).unwrap_or(usize::MAX);
        hasher.update(&bytes[skip..]);
        *hashed_to = end;
    }
}

/// Opens a zip file for reading through a [`SeekBuffer`].
pub(crate) fn open_zip(
    path: &Path,
) -> io::Result<Result<zip::ZipArchive<SeekBuffer<std::fs::File>>, zip::result::ZipError>> {
    let file = std::fs::File::open(path)?;
    Ok(zip::ZipArchive::new(SeekBuffer::new(file)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Reads `len` bytes at `at` through the buffer.
    fn read_at<R: Read + Seek>(reader: &mut SeekBuffer<R>, at: SeekFrom, len: usize) -> Vec<u8> {
        reader.seek(at).unwrap();
        let mut out = vec![0u8; len];
        reader.read_exact(&mut out).unwrap();
        out
    }

    #[test]
    fn reads_and_seeks_give_the_bytes_of_the_file_wherever_they_fall() {
        let data: Vec<u8> = (0..3 * WINDOW + 123).map(|i| (i % 251) as u8).collect();
        let mut reader = SeekBuffer::new(Cursor::new(data.clone())).unwrap();
        // Inside one window, across a window's end, backwards, from the end,
        // and one read larger than a window.
        let cases = [
            (SeekFrom::Start(10), 100, 10usize),
            (SeekFrom::Start(WINDOW as u64 - 5), 20, WINDOW - 5),
            (SeekFrom::Current(-30), 7, WINDOW - 15),
            (SeekFrom::End(-50), 50, data.len() - 50),
            (SeekFrom::Start(1), 2 * WINDOW, 1),
        ];
        for (at, len, start) in cases {
            assert_eq!(
                read_at(&mut reader, at, len),
                data[start..start + len],
                "{at:?}"
            );
        }
        reader.seek(SeekFrom::End(0)).unwrap();
        assert_eq!(
            reader.read(&mut [0u8; 8]).unwrap(),
            0,
            "nothing past the end"
        );
        assert!(reader
            .seek(SeekFrom::Current(-(data.len() as i64) - 1))
            .is_err());
        // Read out of order, backwards and with a gap: still the whole file's hash.
        assert_eq!(
            reader.finish_sha256().unwrap(),
            hex::encode(Sha256::digest(&data))
        );
    }

    /// Counts the reads that reach the file.
    struct Counted(Cursor<Vec<u8>>, std::rc::Rc<std::cell::Cell<usize>>);

    impl Read for Counted {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.1.set(self.1.get() + 1);
            self.0.read(out)
        }
    }

    impl Seek for Counted {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.0.seek(to)
        }
    }

    /// An 8 MiB file behind a buffer, and the count of reads reaching it.
    fn counted_file() -> (
        Vec<u8>,
        SeekBuffer<Counted>,
        std::rc::Rc<std::cell::Cell<usize>>,
    ) {
        let data: Vec<u8> = (0..8 * WINDOW).map(|i| (i % 253) as u8).collect();
        let reads = std::rc::Rc::new(std::cell::Cell::new(0));
        let reader = SeekBuffer::new(Counted(Cursor::new(data.clone()), reads.clone())).unwrap();
        (data, reader, reads)
    }

    #[test]
    fn a_backwards_scan_reads_each_part_of_the_file_about_once() {
        let (data, mut reader, reads) = counted_file();
        // Step back 1 KiB at a time over the whole file, as a search for a
        // signature from the end does.
        let mut at = data.len();
        while at >= 1024 {
            at -= 1024;
            assert_eq!(
                read_at(&mut reader, SeekFrom::Start(at as u64), 1024),
                data[at..at + 1024]
            );
        }
        assert!(reads.get() <= 40, "{} reads of the file", reads.get());
    }

    #[test]
    fn a_jump_reads_a_small_window_not_a_megabyte() {
        let (data, mut reader, reads) = counted_file();
        // Entries out of file order: 30 bytes here and there, far apart.
        let mut at = 7usize;
        for _ in 0..200 {
            at = (at * 7919 + 104_729) % (data.len() - 64);
            assert_eq!(
                read_at(&mut reader, SeekFrom::Start(at as u64), 30),
                data[at..at + 30]
            );
        }
        let read_from_file = reader.inner.0.position();
        assert!(reads.get() <= 400, "{} reads", reads.get());
        // Each jump costs at most a small window (and the last one's tail).
        assert!(
            reader.filled <= JUMP_WINDOW,
            "window of {} bytes after jumps (file cursor at {read_from_file})",
            reader.filled
        );
    }

    /// A large entry as `report` writes it (deflated in blocks side by side,
    /// each ended by a sync flush, then an empty final block) inflates whole
    /// with the reused state.
    #[test]
    fn a_stream_deflated_in_blocks_inflates_whole() {
        let data: Vec<u8> = (0..9 << 20).map(|i| ((i / 5) % 241) as u8).collect();
        let when = zip::DateTime::from_date_and_time(2026, 11, 27, 0, 0, 0).unwrap();
        let mut zip =
            crate::outputs::zip_writer::ZipStream::new(Cursor::new(Vec::new()), when).unwrap();
        zip.stream(
            "bag/big",
            &mut data.as_slice(),
            data.len() as u64,
            &mut |_| {},
        )
        .unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut deflated = Vec::new();
        archive
            .by_index_raw(0)
            .unwrap()
            .read_to_end(&mut deflated)
            .unwrap();
        let (mut state, mut input) = (flate2::Decompress::new(false), vec![0u8; 1 << 16]);
        let mut inflated = Vec::new();
        Inflate::new(deflated.as_slice(), &mut state, &mut input)
            .read_to_end(&mut inflated)
            .unwrap();
        assert!(
            inflated == data,
            "{} of {} bytes",
            inflated.len(),
            data.len()
        );
    }

    #[test]
    fn inflating_with_one_reused_state_gives_each_entry_and_refuses_a_cut_stream() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let bodies: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("entry {i} ").repeat(i * 300 + 1).into_bytes())
            .collect();
        for (i, body) in bodies.iter().enumerate() {
            zip.start_file(format!("bag/{i}"), options).unwrap();
            std::io::Write::write_all(&mut zip, body).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut state = flate2::Decompress::new(false);
        let mut input = vec![0u8; 4096];
        for (i, body) in bodies.iter().enumerate() {
            let entry = archive.by_index_raw(i).unwrap();
            let mut got = Vec::new();
            Inflate::new(entry, &mut state, &mut input)
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(&got, body, "entry {i}");
        }
        let mut raw = Vec::new();
        archive
            .by_index_raw(49)
            .unwrap()
            .read_to_end(&mut raw)
            .unwrap();
        let cut = &raw[..raw.len() / 2];
        let error = Inflate::new(cut, &mut state, &mut input)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_zip_reads_the_same_through_the_buffer() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let mut expected = Vec::new();
        for i in 0..2000 {
            let body = format!("file {i} ").repeat(i % 50 + 1);
            zip.start_file(format!("bag/data/{i}.txt"), options)
                .unwrap();
            std::io::Write::write_all(&mut zip, body.as_bytes()).unwrap();
            expected.push(body);
        }
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive =
            zip::ZipArchive::new(SeekBuffer::new(Cursor::new(bytes)).unwrap()).unwrap();
        for (i, body) in expected.iter().enumerate() {
            let mut text = String::new();
            archive
                .by_index(i)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(&text, body);
        }
    }
}
