//! `auditpack merge`: join the shards of one run (collected with `--ou` /
//! `--accounts` by separate jobs) into one evidence folder.

use std::path::PathBuf;

use clap::Args;

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Example:\n  auditpack collect --ou Root/Workloads --regions us-east-1 --period 2026-Q4 --out shard-workloads\n  \
    auditpack collect --ou Root/Security --ou Root/Infrastructure --accounts 111111111111 --regions us-east-1 --period 2026-Q4 --out shard-core\n  \
    auditpack merge --evidence shard-workloads --evidence shard-core --out evidence\n  \
    auditpack report --evidence evidence --out out\n\n\
    Shards must be of the same run (tool version, period, regions, organization) and must not overlap.\n\
    Exit codes: 0 merged, 2 the shards cannot be merged (the message names the shard), 3 cannot write.";

/// `auditpack merge`'s arguments.
#[derive(Args)]
pub struct MergeArgs {
    /// A shard's evidence folder; give each shard once, in any order.
    #[arg(long = "evidence", required = true, value_name = "FOLDER")]
    pub evidence: Vec<PathBuf>,
    /// The merged evidence folder (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

/// Merges and prints what came from where.
pub fn run(args: &MergeArgs) -> Result<Exit, Failure> {
    super::out_must_be_a_folder(&args.out)?;
    let summary = auditpack_core::evidence::merge::merge(
        &args.evidence,
        &args.out,
        std::env::args().collect(),
    )?;
    outln!(
        "merged: {} shards, {} evidence files into {}",
        summary.run.shards.len(),
        summary.files,
        args.out.display()
    );
    for shard in &summary.run.shards {
        let skipped = if shard.files_not_copied.is_empty() {
            String::new()
        } else {
            format!(
                "; {} of its files not copied (another shard's copy kept; listed in run.json)",
                shard.files_not_copied.len()
            )
        };
        outln!(
            "  {}: {} account folder(s){skipped}",
            shard.folder,
            shard.accounts.len()
        );
    }
    for id in &summary.not_collected {
        outln!("not collected by any shard: {id} (its controls will be NOT ASSESSED)");
    }
    Ok(Exit::Done)
}
