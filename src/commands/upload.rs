//! `auditpack upload BUNDLE s3://BUCKET/PREFIX`: stores a verified bundle in
//! the evidence locker, an S3 bucket with Object Lock in COMPLIANCE mode, under
//! `PREFIX/<organization>/<yyyy>/<mm>/<dd>/<bundle file>`. The one write
//! auditpack makes to AWS, with its own permissions (`auditpack iam-policy
//! --upload s3://…`); `run --upload` does it after the report.

use std::path::{Path, PathBuf};

use auditpack_aws::locker::{upload, UploadSettings};
use auditpack_core::custody::bag_check::verify_path;
use auditpack_core::custody::locker::{bundle_origin, LockerTarget};
use auditpack_core::outputs::bagit::file_sha256;
use clap::Args;

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack upload audit/auditpack-o-a1b2c3d4e5-2026-Q4.zip s3://acme-evidence-locker/soc2\n  \
    auditpack run --regions all --out audit --gate --upload s3://acme-evidence-locker/soc2\n\n\
    The bucket must have S3 Object Lock with a COMPLIANCE default retention of at least\n\
    --min-retention-days (deploy/terraform/evidence-locker/ makes one). An existing key is never\n\
    overwritten. Exit codes: 0 stored and read back, 2 the bundle does not verify or the bucket or\n\
    key is refused, 3 AWS or the upload failed.";

/// Where and how to upload (shared with `run`).
#[derive(Args, Clone)]
pub struct LockerArgs {
    /// The evidence locker: s3://BUCKET/PREFIX (a bucket with Object Lock in COMPLIANCE mode).
    #[arg(long = "upload", value_name = "S3_URL")]
    pub destination: Option<String>,
    /// The least default retention, in days, the locker bucket must give each object.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub min_retention_days: u32,
    /// Upload even when the bucket's retention does not protect the evidence
    /// (no Object Lock, GOVERNANCE mode, or shorter than --min-retention-days).
    #[arg(long)]
    pub accept_deletable_evidence: bool,
}

/// `auditpack upload`'s arguments.
#[derive(Args)]
pub struct UploadArgs {
    /// The bundle zip.
    pub bundle: PathBuf,
    /// The evidence locker: s3://BUCKET/PREFIX.
    #[arg(value_name = "S3_URL")]
    pub destination: String,
    /// The least default retention, in days, the bucket must give each object.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub min_retention_days: u32,
    /// Upload even when the bucket's retention does not protect the evidence.
    #[arg(long)]
    pub accept_deletable_evidence: bool,
    /// AWS profile to use instead of the default credential chain.
    #[arg(long)]
    pub profile: Option<String>,
    /// Path-style S3 addressing (emulators).
    #[arg(long, hide = true)]
    pub s3_path_style: bool,
}

/// Runs `auditpack upload`.
pub fn run(args: &UploadArgs) -> Result<Exit, Failure> {
    let locker = LockerArgs {
        destination: Some(args.destination.clone()),
        min_retention_days: args.min_retention_days,
        accept_deletable_evidence: args.accept_deletable_evidence,
    };
    store(
        &args.bundle,
        &locker,
        args.profile.as_deref(),
        args.s3_path_style,
    )
}

/// Verifies `bundle` and uploads it as `locker` says; prints where it went.
pub fn store(
    bundle: &Path,
    locker: &LockerArgs,
    profile: Option<&str>,
    s3_path_style: bool,
) -> Result<Exit, Failure> {
    let destination = locker.destination.as_deref().unwrap_or_default();
    let target =
        LockerTarget::parse(destination).map_err(|e| Failure::input(format!("--upload: {e}")))?;
    if !bundle.is_file() {
        return Err(Failure::input(format!(
            "{}: the locker stores bundle zips (an unzipped bag folder is not uploaded)",
            bundle.display()
        )));
    }
    let verification = verify_path(bundle)?;
    if !verification.is_intact() {
        let first = verification
            .problems
            .first()
            .map(|p| p.to_string())
            .unwrap_or_default();
        return Err(Failure::input(format!(
            "{} does not verify ({first}); only an intact bundle goes into the locker",
            bundle.display()
        )));
    }
    let (organization, day) = bundle_origin(&verification)
        .map_err(|e| Failure::input(format!("{}: {e}", bundle.display())))?;
    let file_name = bundle
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::input(format!("{}: not a file name", bundle.display())))?;
    let key = target.key(&organization, &day, file_name);
    let sha256 =
        file_sha256(bundle).map_err(|e| Failure::input(format!("{}: {e}", bundle.display())))?;
    let settings = UploadSettings {
        profile: profile.map(String::from),
        min_retention_days: locker.min_retention_days,
        accept_deletable: locker.accept_deletable_evidence,
        s3_path_style,
    };
    let stored = upload(bundle, &sha256, &target, &key, &settings)?;
    outln!("uploaded: {} (sha256 {sha256})", stored.location);
    if let Some(version) = &stored.version_id {
        outln!("version: {version}");
    }
    match (&stored.locked_until, &stored.weak_retention) {
        (_, Some(why)) => outln!("WARNING: the locker does not protect this evidence: {why}"),
        (Some(lock), None) => outln!("object lock: {lock}"),
        (None, None) => outln!("object lock: none reported for the object"),
    }
    Ok(Exit::Done)
}
