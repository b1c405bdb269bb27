//! `auditpack verify`: check a bundle (zip or unzipped folder): hashes,
//! signature, coverage and age; with `--reevaluate`, re-derive its results.

use std::path::PathBuf;

use auditpack_core::custody::check::{render_text, verify_bundle, VerifyOptions};
use clap::Args;

use super::TrustArgs;
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack verify out/auditpack-o-a1b2c3d4e5-2026-Q4.zip\n  \
    auditpack verify --allowed-signers team_signers --max-age 30 --reevaluate bundle.zip\n  \
    auditpack verify --pubkey kms-public-key.pem unzipped/auditpack-o-a1b2c3d4e5-2026-Q4/\n\n\
    Exit codes: 0 verified, 1 a check failed (names the file), 2 not a bundle or unreadable trust file.";

/// `auditpack verify`'s arguments.
#[derive(Args)]
pub struct VerifyArgs {
    /// The bundle zip, or the folder of an unzipped bag.
    pub bundle: PathBuf,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Fail when the evidence was collected more than DAYS days ago.
    #[arg(long, value_name = "DAYS")]
    pub max_age: Option<u64>,
    /// Re-run the bundle's controls over its evidence; fail if any result differs from its results.json.
    #[arg(long)]
    pub reevaluate: bool,
}

/// Verifies and prints every finding.
pub fn run(args: &VerifyArgs) -> Result<Exit, Failure> {
    let options = VerifyOptions {
        trust: args.trust.load()?,
        max_age_days: args.max_age,
        now: chrono::Utc::now(),
        reevaluate: args.reevaluate,
        keep_results: false,
    };
    // A period package (`auditpack period`) has checks of its own.
    let report = if auditpack_core::period::is_period_package(&args.bundle) {
        auditpack_core::period::verify::verify_period_package(&args.bundle, &options)?
    } else {
        verify_bundle(&args.bundle, &options)?
    };
    out!("{}", render_text(&args.bundle, &report));
    Ok(if report.is_ok() {
        Exit::Done
    } else {
        Exit::CheckFailed
    })
}
