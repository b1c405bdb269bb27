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
    let staging = staging_path(out);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    Ok(staging)
}

/// `<out>.partial`, beside `out` whatever the spelling of `out`: `DIR/`,
/// `DIR/.` and `DIR` all stage in `DIR.partial` (a plain string suffix would
/// put `DIR/` in `DIR/.partial`, inside the folder it is about to replace).
pub fn staging_path(out: &Path) -> PathBuf {
    let normal: PathBuf = out
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let mut name = normal.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    normal.with_file_name(name)
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
        assert_eq!(staging, tmp.path().join("evidence.partial"));
        std::fs::write(staging.join("run.json"), "{}").unwrap();
        finalize(&staging, Path::new(&out)).unwrap();
        assert!(tmp.path().join("evidence/run.json").is_file());
        assert!(!staging.exists());
    }
}
