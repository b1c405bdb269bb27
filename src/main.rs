//! The `auditpack` command: parses arguments, runs one command (each in its
//! own file under `commands/`), prints an error once and maps the outcome to
//! the exit code in one place (`exit`). No logic of its own.
#![forbid(unsafe_code)]

// First: its macros (`out!`, `outln!`) are used by the commands.
#[macro_use]
mod stdout;
mod commands;
mod exit;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: evaluation and the bundle build
/// and drop millions of small JSON and CEL values on every core, and glibc's
/// malloc/free took about a quarter of `report`'s time at 1,000 accounts
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SOC 2 evidence for a whole AWS Organization, packaged for auditors.
#[derive(Parser)]
#[command(name = "auditpack", version = env!("AUDITPACK_LONG_VERSION"), about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 done, 1 check failed (verify mismatch), 2 usage or input error, 3 tool failure."
)]
pub(crate) struct Cli {
    /// More log detail on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let outcome = cli.command.run();
    if let Err(failure) = &outcome {
        eprintln!("auditpack: error: {}", failure.message);
    }
    ExitCode::from(exit::code(&outcome))
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_ansi(colours_on_stderr())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Colours only for a person at a terminal: never in CI logs, never with
/// NO_COLOR set (https://no-color.org: any non-empty value).
fn colours_on_stderr() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}
