//! Any text as `auditpack.toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = auditpack_core::evaluation::config::Config::parse(
            std::path::Path::new("auditpack.toml"),
            text,
        );
    }
});
