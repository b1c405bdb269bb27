//! Reading ahead: the kernel is told which evidence files will be read next,
//! so that it reads them in the background, many at a time, before
//! `report` asks for them.
//!
//! Why: `report` reads every evidence file (a few hundred bytes to a few kB
//! each, ~84 an account at 4 regions) three times: to index it, to evaluate
//! it, to bag it. A file that is not in the page cache costs a wait on the
//! disk, and the readers (rayon's threads, one a core) keep only two such
//! reads in flight. On the 2-core benchmark machine, reading the 251,188
//! files of 3,000 accounts × 4 regions with the page cache dropped took
//! 43.6 s (`cat`, 32 s of it system time); told first with
//! `posix_fadvise(POSIX_FADV_WILLNEED)` (11.1 s, one thread), the same read
//! took 7.5 s. The advice holds nothing in this process's memory (the pages
//! are the kernel's cache, which it may drop again), and it never changes
//! what is read: a file that cannot be opened here is skipped, and the real
//! read reports it.
//!
//! Telling is itself mostly waiting (opening a file not in the caches reads
//! its folder and inode from the disk), so a few threads share the asks, in
//! small pieces taken in order: started on the first request, stopped when
//! the [`ReadAhead`] is dropped (without finishing what they were still
//! asked).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// Threads that tell the kernel, side by side.
const THREADS: usize = 2;
/// Files in one piece of an ask, taken by one thread.
const FILES_A_PIECE: usize = 64;

/// What to read ahead: files, or every file below a folder.
enum Ask {
    Files(Vec<PathBuf>),
    Folder(PathBuf),
}

/// The background threads and how to reach them.
#[derive(Debug)]
struct Worker {
    /// None once closed: the threads end when they have done what they were asked.
    asks: Mutex<Option<Sender<Ask>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Tells the kernel which files will be read next (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    worker: OnceLock<Worker>,
    /// Set when dropped: the thread stops at its next file.
    stop: Arc<AtomicBool>,
    /// Files the kernel was told of (for the tests and the debug log).
    advised: Arc<AtomicUsize>,
}

impl ReadAhead {
    /// Reads ahead `files`, in their order, after what was asked before.
    pub(crate) fn files(&self, files: Vec<PathBuf>) {
        let mut files = files.into_iter();
        loop {
            let piece: Vec<PathBuf> = files.by_ref().take(FILES_A_PIECE).collect();
            if piece.is_empty() {
                return;
            }
            self.send(Ask::Files(piece));
        }
    }

    /// Reads ahead every file below each of `folders` (those that exist).
    pub(crate) fn folders(&self, folders: Vec<PathBuf>) {
        for folder in folders {
            self.send(Ask::Folder(folder));
        }
    }

    /// Waits until everything asked is done; how many files were advised.
    #[cfg(test)]
    fn finish(self) -> usize {
        self.close_and_join();
        self.advised.load(Ordering::Relaxed)
    }

    fn send(&self, ask: Ask) {
        let worker = self.worker.get_or_init(|| self.start());
        // A send fails only once the thread has ended, when reading ahead
        // does not matter any more.
        if let Some(asks) = worker.asks.lock().expect("read-ahead poisoned").as_ref() {
            let _ = asks.send(ask);
        }
    }

    /// Lets the threads end once they have done what they were asked (or
    /// were told to stop), and waits for them.
    fn close_and_join(&self) {
        if let Some(worker) = self.worker.get() {
            worker.asks.lock().expect("read-ahead poisoned").take();
            let threads = std::mem::take(&mut *worker.threads.lock().expect("read-ahead poisoned"));
            for thread in threads {
                let _ = thread.join();
            }
        }
    }

    fn start(&self) -> Worker {
        let (asks, received) = channel::<Ask>();
        let received = Arc::new(Mutex::new(received));
        let threads = (0..THREADS).filter_map(|_| {
            let (received, stop, advised) =
                (received.clone(), self.stop.clone(), self.advised.clone());
            std::thread::Builder::new()
                .name("auditpack-read-ahead".into())
                .spawn(move || loop {
                    // The lock is held only to take the next piece.
                    let ask = received
                        .lock()
                        .map_err(|_| ())
                        .and_then(|r| r.recv().map_err(|_| ()));
                    let done = match ask {
                        Ok(Ask::Files(files)) => advise_each(files.iter(), &stop, &advised),
                        Ok(Ask::Folder(folder)) => advise_below(&folder, &stop, &advised),
                        Err(()) => return,
                    };
                    if done.is_err() {
                        return;
                    }
                })
                .ok()
        });
        Worker {
            asks: Mutex::new(Some(asks)),
            threads: Mutex::new(threads.collect()),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.close_and_join();
    }
}

/// Stopped: the [`ReadAhead`] was dropped.
struct Stopped;

/// Advises each of `files`, until told to stop.
fn advise_each<'p>(
    files: impl Iterator<Item = &'p PathBuf>,
    stop: &AtomicBool,
    advised: &AtomicUsize,
) -> Result<(), Stopped> {
    for file in files {
        if stop.load(Ordering::Relaxed) {
            return Err(Stopped);
        }
        if advise(file) {
            advised.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Advises every file below `folder`, until told to stop.
fn advise_below(folder: &Path, stop: &AtomicBool, advised: &AtomicUsize) -> Result<(), Stopped> {
    let files = walkdir::WalkDir::new(folder)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect::<Vec<_>>();
    advise_each(files.iter(), stop, advised)
}

/// Tells the kernel `file` will be read whole soon; whether it could.
#[cfg(target_os = "linux")]
fn advise(file: &std::path::Path) -> bool {
    std::fs::File::open(file)
        .is_ok_and(|f| rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::WillNeed).is_ok())
}

/// Elsewhere there is no such advice to give; reads are as they were.
#[cfg(not(target_os = "linux"))]
fn advise(_file: &std::path::Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file asked for, listed or below a folder, is advised once, a
    /// missing one is skipped, and nothing is advised when nothing is asked.
    #[test]
    #[cfg(target_os = "linux")]
    fn advises_each_file_asked_and_skips_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.json", "b.json", "sub/c.json", "sub/deeper/d.json"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"{}").unwrap();
        }
        let read_ahead = ReadAhead::default();
        read_ahead.files(vec![
            dir.path().join("a.json"),
            dir.path().join("missing.json"),
        ]);
        read_ahead.folders(vec![
            dir.path().join("sub"),
            dir.path().join("no-such-folder"),
        ]);
        read_ahead.files(vec![dir.path().join("b.json")]);
        assert_eq!(read_ahead.finish(), 4);
        assert_eq!(ReadAhead::default().finish(), 0);
    }

    /// Dropped while it still has files to advise, it stops without
    /// advising them all.
    #[test]
    fn a_dropped_read_ahead_stops() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, b"{}").unwrap();
        let read_ahead = ReadAhead::default();
        read_ahead.files(vec![file; 200_000]);
        let advised = read_ahead.advised.clone();
        drop(read_ahead);
        assert!(advised.load(Ordering::Relaxed) < 200_000);
    }
}
