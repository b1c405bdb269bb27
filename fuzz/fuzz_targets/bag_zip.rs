//! Any bytes as a bundle zip: `verify_path` reads and checks them without
//! panicking, within the caps of docs/limits.md (small here, so a zip bomb
//! costs the fuzzer nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    std::fs::write(file.path(), data).expect("write input");
    std::env::set_var("AUDITPACK_BAG_MAX_FILE_BYTES", "1000000");
    std::env::set_var("AUDITPACK_BAG_MAX_TOTAL_BYTES", "4000000");
    let _ = auditpack_core::custody::bag_check::verify_path(file.path());
});
