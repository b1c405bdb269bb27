//! Helpers shared by the CLI-level integration tests: the repository root, the
//! real binary with a clean environment, and a run's exit code and output.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
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
        .env_remove("AUDITPACK_SIGN_KEY_PASSPHRASE")
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

/// The bundle zip `report` wrote into `dir`.
pub fn find_zip(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .expect("a bundle zip was written")
}

/// Unzips with the zip crate (the test machine may lack `unzip`); returns the bag folder.
pub fn unzip(zip_path: &Path, dir: &Path) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    archive.extract(dir).unwrap();
    let bag = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(bag.join("bagit.txt").is_file());
    bag
}

/// `target/test-artifacts/<name>/`, emptied: what a test leaves there is kept
/// for later steps (the browser check of scripts/test.sh) and for people to
/// look at.
pub fn kept_artifacts(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target folder")
        .join("test-artifacts")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, in walk order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

/// Status of each control for each account and region (`global` when none), from results.json.
pub fn verdicts(
    results: &auditpack::evaluation::Results,
) -> BTreeMap<(String, String, String), auditpack::evaluation::Status> {
    let mut map = BTreeMap::new();
    for control in &results.controls {
        for item in &control.results {
            let region = item.region.clone().unwrap_or_else(|| "global".into());
            map.insert(
                (control.id.clone(), item.account_id.clone(), region),
                item.status,
            );
        }
    }
    map
}
