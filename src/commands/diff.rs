//! `auditpack diff`: what changed between two verified bundles (accounts,
//! verdicts, parameters and control definitions).

use std::path::PathBuf;

use auditpack_core::custody::diff::{self, DiffError};
use clap::Args;

use super::TrustArgs;
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack diff audit-2026-Q3/bundle.zip audit-2026-Q4/bundle.zip\n  \
    auditpack diff old.zip new.zip --format html > changes.html\n\n\
    Exit codes: 0 compared (whether or not anything changed), 1 a bundle does not verify, 2 bad input.";

/// `auditpack diff`'s arguments.
#[derive(Args)]
pub struct DiffArgs {
    /// The older bundle (zip or unzipped bag).
    pub old: PathBuf,
    /// The newer bundle.
    pub new: PathBuf,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
}

/// How the changes are printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    /// Lines for a person.
    Text,
    /// JSON for tools.
    Json,
    /// A self-contained HTML page.
    Html,
}

/// Compares and prints; a bundle that does not verify is a failed check (1).
pub fn run(args: &DiffArgs) -> Result<Exit, Failure> {
    let trust = args.trust.load()?;
    let facts = diff::read_facts(&args.old, &trust)
        .and_then(|old| Ok((old, diff::read_facts(&args.new, &trust)?)));
    let (old, new) = match facts {
        Ok(facts) => facts,
        Err(e @ DiffError::NotVerified { .. }) => {
            eprintln!("auditpack: {e}");
            return Ok(Exit::CheckFailed);
        }
        Err(e) => return Err(e.into()),
    };
    let changes = diff::diff(&old, &new);
    let text = match args.format {
        DiffFormat::Text => diff::render_text(&changes),
        DiffFormat::Json => diff::render_json(&changes),
        DiffFormat::Html => diff::render_html(&changes).map_err(Failure::tool)?,
    };
    out!("{text}");
    Ok(Exit::Done)
}
