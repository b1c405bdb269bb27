//! Writing an evidence tree (by `collect` or `merge`): into `<out>.partial`,
//! renamed to `<out>` only when complete, so an interrupted or crashed run
//! never leaves a folder that looks complete, and never into a folder that
//! already holds evidence (two runs' evidence must not mix).

use std::path::{Path, PathBuf};

/// Why the output folder could not be prepared or written.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// The output folder exists and is not empty.
    #[error("{0} already exists and is not empty; choose a new folder (evidence of two runs must not mix)")]
    OutputExists(PathBuf),
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

/// Creates an empty `<out>.partial` (removing a leftover one) after checking
/// that `out` does not exist or is empty.
pub fn prepare(out: &Path) -> Result<PathBuf, StagingError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(io_error(out))?
            .next()
            .is_some()
    {
        return Err(StagingError::OutputExists(out.to_path_buf()));
    }
    let staging = PathBuf::from(format!("{}.partial", out.display()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    Ok(staging)
}

/// Renames the complete `<out>.partial` to `out`.
pub fn finalize(staging: &Path, out: &Path) -> Result<(), StagingError> {
    if out.exists() {
        std::fs::remove_dir(out).map_err(io_error(out))?;
    }
    std::fs::rename(staging, out).map_err(io_error(out))
}

/// Writes `value` as pretty JSON with a final newline (`org.json`, `run.json`).
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StagingError> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serialisable");
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(io_error(path))
}
