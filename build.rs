//! Stamps the commit into `auditpack --version` when the binary is built from
//! a git checkout (`0.1.0 (a1b2c3d4e5f6)`), so whoever runs it can name the
//! exact source. Built elsewhere (a source tarball, no git), the version is
//! the crate's alone. Results and bundles keep the crate version: the same
//! evidence evaluated by two builds of one release gives the same bytes.

use std::path::Path;
use std::process::Command;

fn main() {
    // Rebuild when the checked-out commit moves (files that do not exist
    // would make cargo rerun this script on every build, so only existing ones).
    let mut watched = vec![".git/HEAD".to_string(), ".git/packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]).map(|r| format!(".git/{r}")));
    for path in watched.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    let version = env!("CARGO_PKG_VERSION");
    let long = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => format!("{version} ({commit})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=AUDITPACK_LONG_VERSION={long}");
}

/// A git command's trimmed output, or none when git or the repository is absent.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
