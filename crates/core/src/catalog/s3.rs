//! The operations of the `s3` evidence source: what each calls, with which
//! IAM actions, at which scope, after which other operation, and which error codes
//! mean "this configuration does not exist". The AWS side of the source is
//! `auditpack_aws::collection::sources::s3`.

use super::CallScope::Global;
use super::{op, OperationSpec};

const PER_BUCKET: Option<&str> = Some("bucket name");
const FROM_LIST: Option<&OperationSpec> = Some(&LIST_BUCKETS);
/// The per-bucket calls go to the bucket's region, so they need its location
/// (which itself depends on the bucket list).
const AFTER_LOCATION: Option<&OperationSpec> = Some(&GET_BUCKET_LOCATION);
/// `s3:ListBuckets`.
pub const LIST_BUCKETS: OperationSpec = op(
    "s3",
    "ListBuckets",
    &["s3:ListAllMyBuckets"],
    Global,
    None,
    None,
);
/// `s3:GetBucketLocation`.
pub const GET_BUCKET_LOCATION: OperationSpec = op(
    "s3",
    "GetBucketLocation",
    &["s3:GetBucketLocation"],
    Global,
    PER_BUCKET,
    FROM_LIST,
);
/// `s3:GetObjectLockConfiguration`.
pub const GET_OBJECT_LOCK: OperationSpec = op(
    "s3",
    "GetObjectLockConfiguration",
    &["s3:GetBucketObjectLockConfiguration"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
)
.not_found(&["ObjectLockConfigurationNotFoundError"]);
/// `s3:GetBucketVersioning`.
pub const GET_BUCKET_VERSIONING: OperationSpec = op(
    "s3",
    "GetBucketVersioning",
    &["s3:GetBucketVersioning"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
);
/// `s3:GetPublicAccessBlock` (bucket level).
pub const GET_BUCKET_PUBLIC_ACCESS_BLOCK: OperationSpec = op(
    "s3",
    "GetPublicAccessBlock",
    &["s3:GetBucketPublicAccessBlock"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
)
.not_found(&["NoSuchPublicAccessBlockConfiguration"]);
/// `s3:GetBucketEncryption`.
pub const GET_BUCKET_ENCRYPTION: OperationSpec = op(
    "s3",
    "GetBucketEncryption",
    &["s3:GetEncryptionConfiguration"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
)
.not_found(&["ServerSideEncryptionConfigurationNotFoundError"]);
/// `s3:GetBucketPolicy`.
pub const GET_BUCKET_POLICY: OperationSpec = op(
    "s3",
    "GetBucketPolicy",
    &["s3:GetBucketPolicy"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
)
.not_found(&["NoSuchBucketPolicy"]);
/// `s3:GetBucketLifecycleConfiguration`.
pub const GET_BUCKET_LIFECYCLE: OperationSpec = op(
    "s3",
    "GetBucketLifecycleConfiguration",
    &["s3:GetLifecycleConfiguration"],
    Global,
    PER_BUCKET,
    AFTER_LOCATION,
)
.not_found(&["NoSuchLifecycleConfiguration"]);
/// `s3control:GetPublicAccessBlock` (account level).
pub const GET_ACCOUNT_PUBLIC_ACCESS_BLOCK: OperationSpec = op(
    "s3control",
    "GetPublicAccessBlock",
    &["s3:GetAccountPublicAccessBlock"],
    Global,
    None,
    None,
)
.not_found(&["NoSuchPublicAccessBlockConfiguration"]);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[
    LIST_BUCKETS,
    GET_BUCKET_LOCATION,
    GET_OBJECT_LOCK,
    GET_BUCKET_VERSIONING,
    GET_BUCKET_PUBLIC_ACCESS_BLOCK,
    GET_BUCKET_ENCRYPTION,
    GET_BUCKET_POLICY,
    GET_BUCKET_LIFECYCLE,
    GET_ACCOUNT_PUBLIC_ACCESS_BLOCK,
];
