# The read-only audit role auditpack assumes in a member account.
#
# The permissions are exactly `auditpack iam-policy` (policy.json beside this
# file; a test fails if it drifts from what the collector calls). The trust
# policy lets one auditing principal assume the role, with an external id.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "AuditpackAssume"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.auditor_principal_arn]
    }
    dynamic "condition" {
      for_each = var.external_id == null ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_iam_role" "audit" {
  name                 = var.role_name
  description          = "Read-only role assumed by auditpack to collect SOC 2 evidence"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "evidence" {
  name   = "auditpack-read-only-evidence"
  role   = aws_iam_role.audit.id
  policy = file("${path.module}/policy.json")
}
