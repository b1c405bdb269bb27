//! `auditpack man`: the man page (roff), generated from the clap definitions:
//! `auditpack man > auditpack.1`, or `--out DIR` for one page per command
//! (`auditpack-report.1`, …), as packagers install them.

use std::path::PathBuf;

use clap::CommandFactory;

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str =
    "Examples:\n  auditpack man > auditpack.1 && man ./auditpack.1\n  \
    auditpack man --out /usr/local/share/man/man1";

/// `auditpack man`'s arguments.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write auditpack.1 and one page per command into this folder instead of
    /// printing the main page.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Prints the main page, or writes every page into `--out`.
pub fn run(args: &ManArgs) -> Result<Exit, Failure> {
    let command = crate::Cli::command();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Failure::tool(format!("cannot render the man page: {e}")))?;
        out!("{}", String::from_utf8_lossy(&page));
        return Ok(Exit::Done);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::input(format!("{}: cannot create the folder: {e}", dir.display())))?;
    clap_mangen::generate_to(command, dir).map_err(|e| {
        Failure::tool(format!(
            "{}: cannot write the man pages: {e}",
            dir.display()
        ))
    })?;
    outln!("wrote the man pages to {}", dir.display());
    Ok(Exit::Done)
}
