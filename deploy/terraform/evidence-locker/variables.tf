variable "bucket_name" {
  description = "Name of the evidence-locker bucket (create it in the log-archive account)."
  type        = string
}

variable "prefix" {
  description = "Key prefix auditpack uploads under (the PREFIX of s3://BUCKET/PREFIX); empty for the whole bucket."
  type        = string
  default     = "soc2"
}

variable "retention_days" {
  description = "COMPLIANCE-mode default retention of every object, in days. auditpack refuses a bucket with less than its --min-retention-days (default 365). Keep the audit period plus the time the auditor may come back (a year or more); it can be raised later, never lowered."
  type        = number
  default     = 400
  validation {
    condition     = var.retention_days >= 1
    error_message = "retention_days must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "KMS key for server-side encryption (aws:kms); null for S3-managed keys (AES256)."
  type        = string
  default     = null
}

variable "uploader_principal_arns" {
  description = "Roles allowed to upload (e.g. the CI role that runs auditpack, in another account), granted by the bucket policy; empty to grant access by identity policy only (output uploader_policy_json)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
}
