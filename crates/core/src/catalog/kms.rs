//! The operations of the `kms` evidence source: the keys of each account ×
//! region, what each key is, and whether automatic rotation is on. The AWS side
//! of the source is `auditpack_aws::collection::sources::kms`.

use super::CallScope::Regional;
use super::{op, OperationSpec};

/// `kms:ListKeys`.
pub const LIST_KEYS: OperationSpec = op("kms", "ListKeys", &["kms:ListKeys"], Regional, None, None);
/// `kms:DescribeKey` (per key: its manager, state, spec and origin).
pub const DESCRIBE_KEY: OperationSpec = op(
    "kms",
    "DescribeKey",
    &["kms:DescribeKey"],
    Regional,
    Some("key id"),
    Some(&LIST_KEYS),
);
/// `kms:GetKeyRotationStatus`, asked only of the keys automatic rotation
/// applies to (customer managed, symmetric, key material from KMS, enabled):
/// AWS refuses it for the others.
pub const GET_KEY_ROTATION_STATUS: OperationSpec = op(
    "kms",
    "GetKeyRotationStatus",
    &["kms:GetKeyRotationStatus"],
    Regional,
    Some("key id"),
    Some(&DESCRIBE_KEY),
);
/// Operations of this source.
pub const OPERATIONS: &[OperationSpec] = &[LIST_KEYS, DESCRIBE_KEY, GET_KEY_ROTATION_STATUS];
