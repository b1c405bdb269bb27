//! Compiles the shipped control catalog (`controls/*.toml` at the workspace
//! root) into the library, so the binary works from any working directory
//! and `cargo install` gives a complete tool. Generates
//! `$OUT_DIR/builtin_controls.rs`: a sorted slice of (file name, text).

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let catalog = manifest.join("../../controls");
    println!("cargo:rerun-if-changed={}", catalog.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&catalog)
        .unwrap_or_else(|e| panic!("the control catalog {}: {e}", catalog.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut code =
        String::from("/// The shipped control files: (file name, text), sorted by name.\n");
    code.push_str("pub(crate) const BUILTIN_CONTROLS: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name_of(file),
            file.canonicalize()
                .expect("listed just now")
                .display()
                .to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("builtin_controls.rs"), code).expect("OUT_DIR is writable");
}

fn name_of(file: &Path) -> String {
    file.file_name()
        .expect("a file")
        .to_str()
        .expect("control file names are UTF-8")
        .to_string()
}
