//! Any bytes as an OpenSSH `allowed_signers` file given with `--allowed-signers`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    std::fs::write(file.path(), data).expect("write input");
    let _ = auditpack_core::custody::signature::Trust::load(Some(file.path()), &[]);
});
