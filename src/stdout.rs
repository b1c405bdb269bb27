//! Standard output that a closed pipe cannot crash.
//!
//! `println!` panics when the reader has gone (`auditpack controls list |
//! head -1`): Rust ignores SIGPIPE, so the write fails with EPIPE and the
//! panic exits 101. Every command prints through [`outln!`] / [`out!`]
//! instead: after a broken pipe the rest of the output is dropped and the
//! command finishes, so its exit code is still its own (a failing `gate` piped
//! into `head` still exits 1). Any other write error ends the process with
//! exit 3, the tool's failure, naming standard output.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the reader of standard output has gone.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to standard output (see the module's documentation).
pub fn write(args: fmt::Arguments) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
        }
        Err(e) => {
            eprintln!("auditpack: error: cannot write to standard output: {e}");
            std::process::exit(3);
        }
    }
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` through [`write`].
macro_rules! outln {
    () => { $crate::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}
