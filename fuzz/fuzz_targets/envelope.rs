//! Any bytes as an evidence envelope, read as the evidence store reads one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = serde_json::from_slice::<auditpack_core::evidence::Envelope>(data) {
        let _ = envelope.is_usable();
    }
});
