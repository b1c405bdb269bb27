# The evidence locker: an S3 bucket in the log-archive account where
# `auditpack run --upload` / `auditpack upload` keep every run's bundle.
#
# S3 Object Lock in COMPLIANCE mode with a default retention: no one, not even
# the account's root user, can delete or overwrite an object version before
# its retention ends, and the retention cannot be shortened. auditpack checks
# this before every upload and refuses a bucket without it. Versioning is
# required by Object Lock; public access is blocked; only TLS is accepted.
#
# The uploader's permissions are exactly `auditpack iam-policy --upload
# s3://BUCKET/PREFIX` (output `uploader_policy_json`): give them to the CI
# role that runs auditpack, never to the read-only audit role.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

resource "aws_s3_bucket" "locker" {
  bucket              = var.bucket_name
  object_lock_enabled = true
  tags                = var.tags
}

resource "aws_s3_bucket_versioning" "locker" {
  bucket = aws_s3_bucket.locker.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "locker" {
  bucket = aws_s3_bucket.locker.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.locker]
}

resource "aws_s3_bucket_public_access_block" "locker" {
  bucket                  = aws_s3_bucket.locker.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "locker" {
  bucket = aws_s3_bucket.locker.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "locker" {
  bucket = aws_s3_bucket.locker.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.locker.arn,
      "${aws_s3_bucket.locker.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  dynamic "statement" {
    for_each = length(var.uploader_principal_arns) == 0 ? [] : [1]
    content {
      sid       = "AuditpackUpload"
      effect    = "Allow"
      actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
      resources = ["${aws_s3_bucket.locker.arn}/${local.prefix_path}*"]
      principals {
        type        = "AWS"
        identifiers = var.uploader_principal_arns
      }
    }
  }
  dynamic "statement" {
    for_each = length(var.uploader_principal_arns) == 0 ? [] : [1]
    content {
      sid       = "AuditpackRetentionCheck"
      effect    = "Allow"
      actions   = ["s3:GetBucketObjectLockConfiguration"]
      resources = [aws_s3_bucket.locker.arn]
      principals {
        type        = "AWS"
        identifiers = var.uploader_principal_arns
      }
    }
  }
}

resource "aws_s3_bucket_policy" "locker" {
  bucket     = aws_s3_bucket.locker.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.locker]
}

locals {
  prefix_path = var.prefix == "" ? "" : "${trim(var.prefix, "/")}/"
}

# The uploader's identity policy: the same statements `auditpack iam-policy
# --upload s3://BUCKET/PREFIX` prints (a test compares the two).
data "aws_iam_policy_document" "uploader" {
  statement {
    sid       = "AuditpackLockerRetention"
    actions   = ["s3:GetBucketObjectLockConfiguration"]
    resources = [aws_s3_bucket.locker.arn]
  }
  statement {
    sid       = "AuditpackLockerWriteOnce"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${aws_s3_bucket.locker.arn}/${local.prefix_path}*"]
  }
}
