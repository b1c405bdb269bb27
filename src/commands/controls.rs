//! `auditpack controls list | lint | sources | export`: show and check
//! control files, list the evidence sources a control can read, and write the
//! built-in catalog out for editing.

use std::path::PathBuf;

use auditpack_core::catalog::operations;
use auditpack_core::evaluation::builtin_control_files;
use auditpack_core::outputs::catalog_markdown::controls_table;
use auditpack_core::report::{load_controls_and_config, load_waivers};
use clap::Subcommand;

use super::ControlsArgs;
use crate::exit::{Exit, Failure};

/// `auditpack controls …`.
#[derive(Subcommand)]
pub enum ControlsCommand {
    /// List the controls with their criteria and severity.
    #[command(
        after_help = "Examples:\n  auditpack controls list --controls controls/\n  \
        auditpack controls list --format markdown   (the catalog table of docs/controls.md)"
    )]
    List(ListArgs),
    /// Check every control file (and the config); names file, line and field of each problem.
    #[command(
        after_help = "Example:\n  auditpack controls lint --controls controls/ --config auditpack.toml"
    )]
    Lint(ControlsArgs),
    /// List the evidence sources (service:Operation) a control can read, with their IAM actions.
    Sources,
    /// Write the built-in control files into DIR, to edit and use with
    /// --no-builtin-controls --controls DIR (existing files are never overwritten).
    #[command(
        after_help = "Example:\n  auditpack controls export my-controls/ && \\\n  auditpack report --evidence ev/ --out out/ --no-builtin-controls --controls my-controls/"
    )]
    Export(ExportArgs),
}

/// `auditpack controls export`'s arguments.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The folder to write into (created when missing).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// `auditpack controls list`'s arguments.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    controls: ControlsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ListFormat,
}

/// How `controls list` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned columns for a terminal.
    Text,
    /// The Markdown table `docs/controls.md` carries.
    Markdown,
}

/// Runs the subcommand.
pub fn run(command: &ControlsCommand) -> Result<Exit, Failure> {
    match command {
        ControlsCommand::List(args) => list(args),
        ControlsCommand::Lint(args) => lint(args),
        ControlsCommand::Sources => sources(),
        ControlsCommand::Export(args) => export(args),
    }
}

fn list(args: &ListArgs) -> Result<Exit, Failure> {
    let ListArgs { controls, format } = args;
    let (controls, _) =
        load_controls_and_config(&controls.set(), controls.config_path().as_deref())?;
    if let ListFormat::Markdown = format {
        out!("{}", controls_table(&controls));
        return Ok(Exit::Done);
    }
    outln!(
        "{:<34} {:<9} {:<22} {:<9} TITLE",
        "ID",
        "SEVERITY",
        "CRITERIA",
        "ORIGIN"
    );
    for c in &controls {
        outln!(
            "{:<34} {:<9} {:<22} {:<9} {}",
            c.id,
            c.severity.as_str(),
            c.tsc.join(","),
            c.origin.as_str(),
            c.title
        );
    }
    Ok(Exit::Done)
}

fn lint(args: &ControlsArgs) -> Result<Exit, Failure> {
    let (controls, _) = load_controls_and_config(&args.set(), args.config_path().as_deref())?;
    if let Some(path) = args.waivers_path() {
        load_waivers(&path, &controls)?;
    }
    let assertions: usize = controls.iter().map(|c| c.assertions.len()).sum();
    let from = match (&args.controls, args.no_builtin_controls) {
        (Some(dir), true) => dir.display().to_string(),
        (Some(dir), false) => format!("the built-in catalog and {}", dir.display()),
        (None, _) => "the built-in catalog".to_string(),
    };
    outln!(
        "OK: {} controls, {} assertions in {from}",
        controls.len(),
        assertions
    );
    Ok(Exit::Done)
}

fn sources() -> Result<Exit, Failure> {
    outln!(
        "{:<52} {:<8} {:<14} IAM ACTIONS",
        "SOURCE",
        "SCOPE",
        "ONE PER"
    );
    for op in operations() {
        let scope = format!("{:?}", op.scope).to_lowercase();
        outln!(
            "{:<52} {:<8} {:<14} {}",
            op.source_name(),
            scope,
            op.qualified_by.unwrap_or("-"),
            op.iam_actions.join(", ")
        );
    }
    Ok(Exit::Done)
}

/// Writes the built-in catalog into `args.dir`. Refuses (exit 2) before
/// writing anything when one of the files already exists there, so an edited
/// copy is never overwritten.
fn export(args: &ExportArgs) -> Result<Exit, Failure> {
    let files = builtin_control_files();
    let existing: Vec<&str> = files
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| args.dir.join(name).exists())
        .collect();
    if !existing.is_empty() {
        return Err(Failure::input(format!(
            "{}: {} already there ({}); export into an empty folder",
            args.dir.display(),
            if existing.len() == 1 {
                "a control file is"
            } else {
                "control files are"
            },
            existing.join(", ")
        )));
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| {
        Failure::input(format!(
            "{}: cannot create the folder: {e}",
            args.dir.display()
        ))
    })?;
    for (name, text) in files {
        let path = args.dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Failure::tool(format!("{}: cannot write: {e}", path.display())))?;
    }
    outln!(
        "wrote {} built-in control files to {}",
        files.len(),
        args.dir.display()
    );
    Ok(Exit::Done)
}
