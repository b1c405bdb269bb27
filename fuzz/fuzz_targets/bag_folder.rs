//! Any bytes as an unzipped bag folder: the input is split into files
//! (`name\0content\0…`) under a fresh folder, then `verify_path` checks it.
//! Names that are not safe relative paths are skipped, as a file system would
//! refuse them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut parts = data.split(|b| *b == 0);
    while let (Some(name), Some(content)) = (parts.next(), parts.next()) {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        let safe = !name.is_empty()
            && !name.starts_with('/')
            && name.split('/').all(|p| !p.is_empty() && p != "." && p != "..");
        if !safe {
            continue;
        }
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            if std::fs::create_dir_all(parent).is_err() {
                continue;
            }
        }
        let _ = std::fs::write(&path, content);
    }
    let _ = auditpack_core::custody::bag_check::verify_path(dir.path());
});
