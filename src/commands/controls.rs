//! `auditpack controls list | lint | sources`: show and check control files,
//! and list the evidence sources a control can read.

use auditpack_core::catalog::operations;
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
    }
}

fn list(args: &ListArgs) -> Result<Exit, Failure> {
    let ListArgs { controls, format } = args;
    let (controls, _) =
        load_controls_and_config(&controls.controls, controls.config_path().as_deref())?;
    if let ListFormat::Markdown = format {
        out!("{}", controls_table(&controls));
        return Ok(Exit::Done);
    }
    outln!("{:<34} {:<9} {:<22} TITLE", "ID", "SEVERITY", "CRITERIA");
    for c in &controls {
        outln!(
            "{:<34} {:<9} {:<22} {}",
            c.id,
            c.severity.as_str(),
            c.tsc.join(","),
            c.title
        );
    }
    Ok(Exit::Done)
}

fn lint(args: &ControlsArgs) -> Result<Exit, Failure> {
    let (controls, _) = load_controls_and_config(&args.controls, args.config_path().as_deref())?;
    if let Some(path) = args.waivers_path() {
        load_waivers(&path, &controls)?;
    }
    let assertions: usize = controls.iter().map(|c| c.assertions.len()).sum();
    outln!(
        "OK: {} controls, {} assertions in {}",
        controls.len(),
        assertions,
        args.controls.display()
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
