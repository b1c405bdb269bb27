//! Any text as a control file: parsed, linted and its CEL compiled (the
//! `cel` parser panicked past column 65,535 before #15).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = auditpack_core::evaluation::parse_control(std::path::Path::new("fuzz.toml"), text);
    }
});
