//! Helpers shared by the integration tests, and only here: the repository
//! root and its samples, the real binary with a clean environment, a run's
//! exit code and output, `auditpack report`, bundles and folder trees. The
//! evidence envelope builder is in [`evidence`]; the moto emulator harness in
//! `emulator` (with the `emulator` feature).

// Some helpers serve only the emulator tests, which the `emulator` feature
// turns on.
#![cfg_attr(not(feature = "emulator"), allow(dead_code))]

#[cfg(feature = "emulator")]
pub mod emulator;
pub mod evidence;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use auditpack_core::evaluation::{Results, Verdict};
use serde_json::Value;

/// The repository root (the samples, controls and docs live here).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped control files (`controls/*.toml`), which the binary carries
/// as its built-in catalog.
pub fn catalog_files() -> Vec<PathBuf> {
    std::fs::read_dir(repo().join("controls"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect()
}

/// The bundled sample evidence, `evidence-samples/`.
pub fn samples() -> PathBuf {
    repo().join("evidence-samples")
}

/// The `auditpack` binary, run from the repository root, with no log filter
/// and no CI variables inherited from the machine running the tests.
pub fn auditpack() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditpack"));
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

/// What a successful `auditpack report` printed and wrote.
pub struct Reported {
    /// The command's run.
    pub run: Run,
    /// Its `--out` folder.
    pub out: PathBuf,
}

impl Reported {
    /// The bundle zip.
    pub fn zip(&self) -> PathBuf {
        find_zip(&self.out)
    }

    /// `results.json`.
    pub fn results(&self) -> Value {
        read_json(&self.out.join("results.json"))
    }

    /// `results.json`, typed.
    pub fn typed_results(&self) -> Results {
        serde_json::from_value(self.results()).expect("results.json parses as Results")
    }
}

/// `auditpack report --evidence <evidence> --out <out>` followed by `extra`
/// (the controls are the repository's `controls/` unless `extra` names others);
/// panics unless it exits 0.
pub fn report(evidence: &Path, out: &Path, extra: &[&str]) -> Reported {
    report_by(auditpack(), evidence, out, extra)
}

/// [`report`], run by `cmd` (the binary with an emulator's environment).
pub fn report_by(mut cmd: Command, evidence: &Path, out: &Path, extra: &[&str]) -> Reported {
    let r = run(cmd
        .args(["report", "--evidence"])
        .arg(evidence)
        .arg("--out")
        .arg(out)
        .args(extra));
    assert_eq!(r.code, 0, "report failed:\n{}\n{}", r.stdout, r.stderr);
    Reported {
        run: r,
        out: out.to_path_buf(),
    }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes pretty JSON with a final newline (as auditpack writes its files).
pub fn write_json(path: &Path, value: &Value) {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap();
    bytes.push(b'\n');
    std::fs::write(path, bytes).unwrap();
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

/// `path` relative to `root`, with `/` separators (as manifests and messages name files).
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Copies a folder tree (creating `to`).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Verdict of each control for each account and region (`global` when none), from results.json.
pub fn verdicts(results: &Results) -> BTreeMap<(String, String, String), Verdict> {
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

/// Recomputes the manifests after a hand edit of `file` (what a careful forger does).
pub fn rehash(bag: &Path, file: &str) {
    let sha = |path: &Path| auditpack_core::outputs::bagit::file_sha256(path).unwrap();
    let fix = |manifest: &str, entry: &str| {
        let path = bag.join(manifest);
        let text = std::fs::read_to_string(&path).unwrap();
        let digest = sha(&bag.join(entry));
        let fixed: String = text
            .lines()
            .map(|line| {
                if line.ends_with(&format!("  {entry}")) {
                    format!("{digest}  {entry}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(&path, fixed).unwrap();
    };
    fix("manifest-sha256.txt", file);
    fix("tagmanifest-sha256.txt", "manifest-sha256.txt");
}

/// A fresh ed25519 key pair from the system's ssh-keygen: (private, public).
pub fn keygen(dir: &Path, name: &str, comment: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen is installed");
    assert!(made.status.success(), "{made:?}");
    (key.clone(), key.with_extension("pub"))
}
