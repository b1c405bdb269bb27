//! Any text as `waivers.toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = auditpack_core::evaluation::Waivers::parse(std::path::Path::new("waivers.toml"), text);
    }
});
