//! `auditpack iam-policy`: the least-privilege read-only IAM policy that
//! collection needs, generated from the operation catalog; with `--upload
//! s3://…`, the separate policy of the evidence-locker upload instead.

use auditpack_core::custody::locker::{upload_policy, LockerTarget};

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str =
    "Examples:\n  auditpack iam-policy > deploy/terraform/audit-role-policy.json\n  \
    auditpack iam-policy --upload s3://acme-evidence-locker/soc2   (the locker upload's own policy)";

/// `auditpack iam-policy`'s arguments.
#[derive(clap::Args)]
pub struct IamPolicyArgs {
    /// Print the policy of the evidence-locker upload to this s3://BUCKET/PREFIX instead
    /// (the one write auditpack makes; give it to the CI role, not the audit role).
    #[arg(long, value_name = "S3_URL")]
    upload: Option<String>,
}

/// Prints the policy as JSON.
pub fn run(args: &IamPolicyArgs) -> Result<Exit, Failure> {
    let policy = match &args.upload {
        Some(url) => upload_policy(
            &LockerTarget::parse(url).map_err(|e| Failure::input(format!("--upload: {e}")))?,
        ),
        None => auditpack_core::catalog::iam_policy::audit_role_policy(),
    };
    let text = serde_json::to_string_pretty(&policy)
        .map_err(|e| Failure::tool(format!("cannot serialise the policy: {e}")))?;
    outln!("{text}");
    Ok(Exit::Done)
}
