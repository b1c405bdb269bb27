//! `auditpack run`: collect, then report, into one folder (OUT/evidence,
//! results, report and bundle); with `--gate`, then gate on the results.

use clap::Args;

use super::collect::CollectArgs;
use super::report::ReportArgs;
use super::{is_non_empty_dir, FailOn, SigningArgs};
use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack run --regions us-east-1,eu-west-1 --period 2026-Q4 --out audit-2026-Q4\n  \
    auditpack run --regions us-east-1 --out audit --waivers waivers.toml --gate --fail-on high\n  \
    auditpack run --regions all --out audit --gate --upload s3://acme-evidence-locker/soc2   (the bundle into the evidence locker)";

/// `auditpack run`'s arguments: `collect`'s, plus gating and signing.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// After the report, gate on the results: exit 1 when a control fails or is not assessed.
    #[arg(long)]
    pub gate: bool,
    /// With --gate: lowest severity that fails the gate.
    #[arg(long, value_enum, default_value = "low", requires = "gate")]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub locker: super::upload::LockerArgs,
}

/// Collects into OUT/evidence, reports into OUT, and gates when asked.
pub fn run(args: RunArgs) -> Result<Exit, Failure> {
    let RunArgs {
        mut collect,
        gate,
        fail_on,
        signing,
        locker,
    } = args;
    let out = collect.out.clone();
    if is_non_empty_dir(&out) {
        return Err(Failure::input(format!(
            "{} already exists and is not empty; choose a new folder",
            out.display()
        )));
    }
    // Signing keys are checked before collection, not after it.
    let signers = signing.load(collect.profile.as_deref())?;
    collect.out = out.join("evidence");
    let evidence = super::collect::run(&collect)?;
    let report_args = ReportArgs {
        evidence,
        out: out.clone(),
        controls: collect.controls,
        signing,
    };
    super::report::report(&report_args, signers.as_ref(), fail_on.into())?;
    // Into the locker before the gate decides: a failing run is evidence too.
    if locker.destination.is_some() {
        let bundle = bundle_in(&out)?;
        super::upload::store(
            &bundle,
            &locker,
            collect.profile.as_deref(),
            collect.s3_path_style,
        )?;
    }
    if !gate {
        return Ok(Exit::Done);
    }
    super::gate::gate_path(
        &out.join("results.json"),
        fail_on,
        super::gate::GateFormat::Text,
    )
}

/// The bundle zip `report` wrote into `out` (a new folder: exactly one).
fn bundle_in(out: &std::path::Path) -> Result<std::path::PathBuf, Failure> {
    let zips: Vec<_> = std::fs::read_dir(out)
        .map_err(|e| Failure::tool(format!("{}: {e}", out.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    match zips.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Failure::tool(format!(
            "{}: expected one bundle zip, found {}",
            out.display(),
            zips.len()
        ))),
    }
}
