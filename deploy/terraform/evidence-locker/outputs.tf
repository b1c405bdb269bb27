output "bucket" {
  description = "The locker bucket's name."
  value       = aws_s3_bucket.locker.id
}

output "upload_url" {
  description = "What to pass to auditpack run --upload / auditpack upload."
  value       = "s3://${aws_s3_bucket.locker.id}/${trim(var.prefix, "/")}"
}

output "uploader_policy_json" {
  description = "The uploader's identity policy (the same as `auditpack iam-policy --upload`)."
  value       = data.aws_iam_policy_document.uploader.json
}
