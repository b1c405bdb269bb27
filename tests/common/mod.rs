//! Helpers shared by the CLI-level integration tests: the repository root, the
//! real binary with a clean environment, and a run's exit code and output.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

/// The repository root (the samples, controls and docs live here).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `auditpack` binary, run from the repository root, with no log filter
/// and no CI variables inherited from the machine running the tests.
pub fn auditpack() -> Command {
    let mut cmd = Command::cargo_bin("auditpack").unwrap();
    cmd.current_dir(repo())
        .env_remove("RUST_LOG")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR");
    cmd
}

/// What a command did.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The last line of standard output (the gate's verdict line).
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

/// Runs a command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `auditpack report` over the bundled samples into `out`, with extra
/// arguments; panics unless it succeeds.
pub fn report_samples_with(out: &Path, extra: &[&str]) -> Run {
    let r = run(auditpack()
        .args(["report", "--evidence", "evidence-samples", "--out"])
        .arg(out)
        .args(extra));
    assert_eq!(r.code, 0, "report failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
