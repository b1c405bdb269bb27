//! Writing an evidence tree (by `collect` or `merge`): into `<out>.partial`,
//! renamed to `<out>` only when complete, so an interrupted or crashed run
//! never leaves a folder that looks complete, and never into a folder that
//! already holds evidence (two runs' evidence must not mix).
//!
//! One run, one folder: the run holds an exclusive lock on `<out>.lock` (an OS
//! file lock, released by the system if the process dies) from before it
//! looks at the folder until the tree is in place, so a second run into the
//! same `--out` is refused instead of writing into the first one's staging
//! folder. A `<out>.partial` left by an interrupted run is removed, and said
//! so, only under that lock.

use std::path::{Path, PathBuf};

/// Why the output folder could not be prepared or written.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// The output folder exists and is not empty.
    #[error("{0} already exists and is not empty; choose a new folder (evidence of two runs must not mix)")]
    OutputExists(PathBuf),
    /// Another run holds the output folder's lock.
    #[error("another auditpack run is writing {out} (it holds {lock}); wait for it to finish or choose another folder")]
    Locked {
        /// The output folder.
        out: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// A file or folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StagingError {
    let path = path.to_path_buf();
    move |source| StagingError::Io { path, source }
}

/// A staging folder, and the lock on its output folder held while it exists.
/// Derefs to the staging folder's path.
#[derive(Debug)]
pub struct Staging {
    path: PathBuf,
    lock_path: PathBuf,
    /// Held for the run; the OS releases it if the process dies.
    _lock: std::fs::File,
}

impl std::ops::Deref for Staging {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Staging {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock of `out`, checks that `out` does not exist or is empty,
/// and creates an empty `<out>.partial`, removing (and saying so) one left by
/// an interrupted run.
pub fn prepare(out: &Path) -> Result<Staging, StagingError> {
    let lock_path = sibling(out, ".lock");
    if let Some(parent) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(StagingError::Locked {
                out: out.to_path_buf(),
                lock: lock_path,
            })
        }
        Err(std::fs::TryLockError::Error(source)) => {
            return Err(StagingError::Io {
                path: lock_path,
                source,
            })
        }
    }
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(io_error(out))?
            .next()
            .is_some()
    {
        return Err(StagingError::OutputExists(out.to_path_buf()));
    }
    let staging = staging_path(out);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
        tracing::warn!(
            "removed {}, left by an interrupted run into the same folder",
            staging.display()
        );
    }
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    Ok(Staging {
        path: staging,
        lock_path,
        _lock: lock,
    })
}

/// `<out>.partial`, beside `out` whatever the spelling of `out`: `DIR/`,
/// `DIR/.` and `DIR` all stage in `DIR.partial` (a plain string suffix would
/// put `DIR/` in `DIR/.partial`, inside the folder it is about to replace).
pub fn staging_path(out: &Path) -> PathBuf {
    sibling(out, ".partial")
}

/// `<out><suffix>` beside `out`, however `out` is spelled.
fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let normal: PathBuf = out
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let mut name = normal.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    normal.with_file_name(name)
}

/// Renames the complete `<out>.partial` to `out`, then removes the lock file
/// (the lock itself goes with the `Staging`).
pub fn finalize(staging: &Staging, out: &Path) -> Result<(), StagingError> {
    if out.exists() {
        std::fs::remove_dir(out).map_err(io_error(out))?;
    }
    std::fs::rename(&staging.path, out).map_err(io_error(out))?;
    let _ = std::fs::remove_file(&staging.lock_path);
    Ok(())
}

/// Writes `value` as pretty JSON with a final newline (`org.json`, `run.json`).
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StagingError> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serialisable");
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staging_folder_is_beside_out_however_out_is_spelled() {
        for spelling in ["runs/q4", "runs/q4/", "runs/q4/.", "./runs/q4//"] {
            assert_eq!(
                staging_path(Path::new(spelling)),
                Path::new("runs/q4.partial"),
                "{spelling}"
            );
        }
        assert_eq!(
            staging_path(Path::new("/abs/out/")),
            Path::new("/abs/out.partial")
        );
    }

    #[test]
    fn a_trailing_slash_stages_beside_and_finalizes_into_out() {
        let tmp = tempfile::tempdir().unwrap();
        let out = format!("{}/evidence/", tmp.path().display());
        let staging = prepare(Path::new(&out)).unwrap();
        assert_eq!(&*staging, tmp.path().join("evidence.partial"));
        std::fs::write(staging.join("run.json"), "{}").unwrap();
        finalize(&staging, Path::new(&out)).unwrap();
        assert!(tmp.path().join("evidence/run.json").is_file());
        assert!(!staging.exists());
    }

    /// A second run into the same folder is refused while the first holds
    /// it; once the first is done, the folder holds a run and is refused for
    /// that reason instead.
    #[test]
    fn a_second_run_into_the_same_folder_is_refused_while_the_first_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("evidence");
        let first = prepare(&out).unwrap();
        match prepare(&out) {
            Err(StagingError::Locked { lock, .. }) => {
                assert_eq!(lock, tmp.path().join("evidence.lock"))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        std::fs::write(first.join("run.json"), "{}").unwrap();
        finalize(&first, &out).unwrap();
        drop(first);
        assert!(
            !tmp.path().join("evidence.lock").exists(),
            "lock file removed"
        );
        assert!(matches!(prepare(&out), Err(StagingError::OutputExists(_))));
    }

    /// An interrupted run's staging folder is removed by the next run (which
    /// holds the lock), and that run completes.
    #[test]
    fn a_rerun_after_an_interruption_removes_the_leftover_and_completes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("evidence");
        let interrupted = prepare(&out).unwrap();
        std::fs::write(interrupted.join("stale.json"), "{}").unwrap();
        drop(interrupted); // the process died: the OS releases its lock
        let rerun = prepare(&out).unwrap();
        assert!(!rerun.join("stale.json").exists(), "the leftover is gone");
        std::fs::write(rerun.join("run.json"), "{}").unwrap();
        finalize(&rerun, &out).unwrap();
        assert!(out.join("run.json").is_file());
    }
}
