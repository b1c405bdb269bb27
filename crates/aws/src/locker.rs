//! Uploading a bundle to the evidence locker: the one write auditpack ever
//! makes to AWS, with permissions of its own (`auditpack iam-policy
//! --upload`). The bucket's Object Lock retention is checked first (see
//! `auditpack_core::custody::locker`); the object is written only if no
//! object has that key (`If-None-Match: *`, so a key is never overwritten,
//! even by a concurrent run), with its SHA-256 checked by S3 on arrival and
//! read back afterwards.

use std::path::Path;

use auditpack_core::custody::locker::{retention_problem, LockerTarget, Retention};
use aws_config::BehaviorVersion;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ObjectLockEnabled};
use base64::Engine as _;

/// S3's limit for one PutObject; larger bundles would need a multipart upload.
const SINGLE_PUT_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// AWS profile, or the default credential chain.
    pub profile: Option<String>,
    /// The retention the bucket must give every object, in days.
    pub min_retention_days: u32,
    /// Upload even to a bucket whose retention does not protect the evidence
    /// (`--accept-deletable-evidence`); the outcome says so.
    pub accept_deletable: bool,
    /// Path-style addressing (emulators).
    pub s3_path_style: bool,
}

/// What was stored.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// `s3://bucket/key`.
    pub location: String,
    /// The object version S3 assigned.
    pub version_id: Option<String>,
    /// Object Lock mode and retain-until date S3 reports for it.
    pub locked_until: Option<String>,
    /// Why the bucket does not protect the evidence, when accepted anyway.
    pub weak_retention: Option<String>,
}

/// Why the upload did not happen; `input` errors are the user's (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct LockerError {
    /// `s3://bucket/key`, or the bucket.
    pub location: String,
    /// What went wrong.
    pub message: String,
    /// The destination is unsuitable (not locked, key exists, too large),
    /// rather than the tool or AWS failing.
    pub input: bool,
}

/// Uploads `bundle` (SHA-256 `sha256_hex`) to `target` under `key`.
pub fn upload(
    bundle: &Path,
    sha256_hex: &str,
    target: &LockerTarget,
    key: &str,
    settings: &UploadSettings,
) -> Result<Uploaded, LockerError> {
    let location = format!("s3://{}/{key}", target.bucket);
    let fail = |message: String, input: bool| LockerError {
        location: location.clone(),
        message,
        input,
    };
    let size = std::fs::metadata(bundle)
        .map_err(|e| fail(format!("{}: {e}", bundle.display()), true))?
        .len();
    if size > SINGLE_PUT_LIMIT {
        return Err(fail(
            format!("the bundle is {size} bytes, over S3's 5 GiB limit for one upload"),
            true,
        ));
    }
    let digest = hex::decode(sha256_hex).map_err(|e| fail(format!("bad SHA-256: {e}"), false))?;
    let checksum = base64::engine::general_purpose::STANDARD.encode(digest);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}"), false))?;
    runtime.block_on(async {
        let client = s3_client(settings.profile.as_deref(), settings.s3_path_style).await;
        let weak_retention = check_bucket(&client, target, settings.min_retention_days)
            .await
            .map_err(|(message, input)| fail(message, input))?;
        if weak_retention.is_some() && !settings.accept_deletable {
            let why = weak_retention.unwrap_or_default();
            return Err(fail(
                format!("refusing the bucket {}: {why} (--accept-deletable-evidence uploads anyway)", target.bucket),
                true,
            ));
        }
        let body = ByteStream::from_path(bundle)
            .await
            .map_err(|e| fail(format!("{}: {e}", bundle.display()), true))?;
        let put = client
            .put_object()
            .bucket(&target.bucket)
            .key(key)
            .body(body)
            .content_type("application/zip")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(&checksum)
            .if_none_match("*")
            .metadata("auditpack-sha256", sha256_hex)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("PreconditionFailed") | Some("ConditionalRequestConflict") => fail(
                    "an object with this key already exists; the locker never overwrites evidence".into(),
                    true,
                ),
                _ => fail(format!("s3:PutObject failed: {}", describe(&e)), false),
            })?;
        let head = client
            .head_object()
            .bucket(&target.bucket)
            .key(key)
            .set_version_id(put.version_id().map(String::from))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| fail(format!("s3:HeadObject (reading the upload back) failed: {}", describe(&e)), false))?;
        if head.checksum_sha256() != Some(checksum.as_str()) || head.content_length() != Some(size as i64) {
            return Err(fail(
                format!(
                    "the stored object does not match the bundle (SHA-256 {:?}, {:?} bytes; expected {checksum}, {size})",
                    head.checksum_sha256(),
                    head.content_length()
                ),
                false,
            ));
        }
        let locked_until = head.object_lock_retain_until_date().map(|until| {
            let mode = head.object_lock_mode().map(|m| m.as_str().to_string()).unwrap_or_default();
            format!("{mode} until {until}")
        });
        Ok(Uploaded {
            location: location.clone(),
            version_id: put.version_id().map(String::from),
            locked_until,
            weak_retention,
        })
    })
}

/// An S3 client for the locker: the profile (or the default credential
/// chain), path-style addressing for emulators. Uploading and reading the
/// locker back (`locker_read`) use the same.
pub(crate) async fn s3_client(profile: Option<&str>, path_style: bool) -> aws_sdk_s3::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    let shared = loader.load().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The bucket's Object Lock default retention, judged: `Ok(None)` when it
/// protects the evidence, `Ok(Some(why not))` when it does not, `Err` when it
/// cannot be read.
async fn check_bucket(
    client: &aws_sdk_s3::Client,
    target: &LockerTarget,
    min_days: u32,
) -> Result<Option<String>, (String, bool)> {
    let answer = client
        .get_object_lock_configuration()
        .bucket(&target.bucket)
        .send()
        .await;
    let retention = match answer {
        Ok(answer) => answer.object_lock_configuration().and_then(|c| {
            let enabled = c.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled);
            enabled.then(|| {
                let rule = c.rule().and_then(|r| r.default_retention());
                Retention {
                    mode: rule.and_then(|r| r.mode()).map(|m| m.as_str().to_string()),
                    days: rule.and_then(|r| r.days()),
                    years: rule.and_then(|r| r.years()),
                }
            })
        }),
        Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => None,
        Err(e) if e.code() == Some("NoSuchBucket") => {
            return Err((format!("the bucket {} does not exist", target.bucket), true))
        }
        Err(e) => {
            return Err((
                format!(
                    "s3:GetObjectLockConfiguration on {} failed: {}",
                    target.bucket,
                    describe(&e)
                ),
                false,
            ))
        }
    };
    Ok(retention_problem(retention.as_ref(), min_days))
}

/// An SDK error as `Code: message`.
pub(crate) fn describe<E: ProvideErrorMetadata + std::fmt::Display>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}
