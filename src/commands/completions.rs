//! `auditpack completions SHELL`: the shell's completion script, generated
//! from the same clap definitions the parser uses, so it never drifts from
//! the real flags.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack completions bash > ~/.local/share/bash-completion/completions/auditpack\n  \
    auditpack completions zsh > \"${fpath[1]}/_auditpack\"\n  \
    auditpack completions fish > ~/.config/fish/completions/auditpack.fish";

/// `auditpack completions`'s arguments.
#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Prints the completion script.
pub fn run(args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "auditpack", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(Exit::Done)
}
