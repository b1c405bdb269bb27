//! S3: buckets and their protection settings (log-archive immutability), and the
//! account-level Block Public Access setting (served by the `s3control` endpoint,
//! but an `s3:` IAM action, so it is listed under `s3`).

use super::op;
use crate::collection::{CallScope::Global, OperationSpec};

const PER_BUCKET: Option<&str> = Some("bucket name");
const FROM_LIST: Option<&str> = Some("s3:ListBuckets");

/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    op("s3", "ListBuckets", &["s3:ListAllMyBuckets"], Global, None, None),
    op("s3", "GetBucketLocation", &["s3:GetBucketLocation"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetObjectLockConfiguration", &["s3:GetBucketObjectLockConfiguration"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetBucketVersioning", &["s3:GetBucketVersioning"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetBucketPolicy", &["s3:GetBucketPolicy"], Global, PER_BUCKET, FROM_LIST),
    op("s3", "GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"], Global, PER_BUCKET, FROM_LIST),
    op("s3control", "GetPublicAccessBlock", &["s3:GetAccountPublicAccessBlock"], Global, None, None),
];
