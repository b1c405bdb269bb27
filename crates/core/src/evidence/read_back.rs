//! A temporary file that `report` writes once and reads back many times
//! (the evidence index, the results' items), so that what it describes is
//! on disk rather than in memory.
//!
//! The readers of such a file are the outputs, deep inside iterators that
//! cannot return an error; a failed read is therefore kept here, the read
//! that failed gives nothing, and [`ReadBack::check`] returns the failure:
//! `report` checks before it publishes anything, so a failure fails the run
//! (exit 3) instead of leaving an output that quietly lacks part of it.

use std::sync::Mutex;

/// A temporary file read back, with the first read of it that failed.
pub struct ReadBack {
    file: tempfile::NamedTempFile,
    /// What the file holds, for the error (`the evidence index`).
    what: &'static str,
    failure: Mutex<Option<std::io::Error>>,
}

impl ReadBack {
    /// A new, empty temporary file holding `what`.
    pub fn new(prefix: &str, what: &'static str) -> std::io::Result<ReadBack> {
        Ok(ReadBack {
            file: temporary(prefix)?,
            what,
            failure: Mutex::new(None),
        })
    }

    /// The temporary file, to write and to open.
    pub fn file(&self) -> &tempfile::NamedTempFile {
        &self.file
    }

    /// The bytes from `start` to `end`.
    pub fn read(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.read_onto(&mut bytes, start, end)?;
        Ok(bytes)
    }

    /// The bytes from `start` to `end`, added at the end of `bytes`.
    pub fn read_onto(&self, bytes: &mut Vec<u8>, start: u64, end: u64) -> std::io::Result<()> {
        let at = bytes.len();
        bytes.resize(at + (end - start) as usize, 0);
        read_exact_at(self.file.as_file(), &mut bytes[at..], start)
    }

    /// What `read` gave, or none with its failure kept for [`ReadBack::check`].
    pub fn kept<T>(&self, read: std::io::Result<T>) -> Option<T> {
        read.map_err(|error| {
            if let Ok(mut failure) = self.failure.lock() {
                failure.get_or_insert(error);
            }
        })
        .ok()
    }

    /// The first read that failed since the last check, if any: the outputs
    /// that read the file since then are incomplete.
    pub fn check(&self) -> std::io::Result<()> {
        match self.failure.lock().map(|mut f| f.take()) {
            Ok(Some(error)) => Err(std::io::Error::new(
                error.kind(),
                format!(
                    "reading {} back from {}: {error}",
                    self.what,
                    self.file.path().display()
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A temporary file named `<prefix>…` in the system's temporary folder.
pub fn temporary(prefix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(prefix).tempfile()
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    let mut file = file.try_clone()?;
    file.seek(std::io::SeekFrom::Start(offset))?;
    file.read_exact(buf)
}
