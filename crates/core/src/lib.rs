//! auditpack's offline core: everything after the evidence store.
//!
//! This crate never depends on an AWS crate, so an auditor can build it and
//! re-run every check offline from a folder or a bundle. The AWS side
//! (discovery, collection, the KMS signer) lives in `auditpack-aws`, which
//! depends on this crate and never the other way round.
//!
//! The modules are layered; a module may use only the modules listed before it
//! (the `layers` test in `tests/` checks this against the source):
//!
//! ```text
//! org → catalog → evidence → evaluation → gate → outputs → report → custody → period
//! ```
#![forbid(unsafe_code)]

pub mod catalog;
pub mod custody;
pub mod evaluation;
pub mod evidence;
pub mod gate;
pub mod org;
pub mod outputs;
pub mod period;
pub mod report;

/// The layers of this crate, lowest first: a module may use only modules
/// listed before it. Written once, here; the layer test reads it.
pub const LAYERS: &[&str] = &[
    "org",
    "catalog",
    "evidence",
    "evaluation",
    "gate",
    "outputs",
    "report",
    "custody",
    "period",
];

/// The tool's name, as written into every evidence envelope and bundle.
pub const TOOL_NAME: &str = "auditpack";
/// The tool's version (the workspace's crates share one version).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod layer_tests {
    use std::path::{Path, PathBuf};

    /// Every `crate::<module>` a top-level module's code uses (comments skipped).
    fn uses(module: &str) -> Vec<(PathBuf, String)> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let dir = src.join(module);
        let mut files = vec![src.join(format!("{module}.rs"))];
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut found = Vec::new();
        for file in files.into_iter().filter(|f| f.is_file()) {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    found.push((file.clone(), name));
                }
            }
        }
        found
    }

    /// The layer order in `LAYERS` holds: no module uses one listed after it,
    /// so there is no import cycle between the crate's modules.
    #[test]
    fn modules_use_only_the_layers_below_them() {
        let rank = |name: &str| super::LAYERS.iter().position(|l| *l == name);
        let mut violations = Vec::new();
        for (layer, module) in super::LAYERS.iter().enumerate() {
            for (file, used) in uses(module) {
                match rank(&used) {
                    Some(r) if r > layer => violations.push(format!(
                        "{}: `{module}` uses `crate::{used}`, a higher layer",
                        file.display()
                    )),
                    // Crate-root items (TOOL_NAME, LAYERS) are below every layer.
                    _ => {}
                }
            }
        }
        assert!(violations.is_empty(), "{}", violations.join("\n"));
    }

    /// The check can fail: a module that names a higher layer is found.
    #[test]
    fn a_use_of_a_higher_layer_is_found() {
        let found = uses("report");
        assert!(found.iter().any(|(_, m)| m == "outputs"));
        assert!(!uses("org").iter().any(|(_, m)| m == "evidence"));
    }

    /// Every top-level module is in `LAYERS`, so none escapes the check.
    #[test]
    fn every_module_is_layered() {
        let lib = include_str!("lib.rs");
        for line in lib.lines().filter(|l| l.starts_with("pub mod ")) {
            let name = line.trim_start_matches("pub mod ").trim_end_matches(';');
            assert!(super::LAYERS.contains(&name), "{name} is not in LAYERS");
        }
    }
}
