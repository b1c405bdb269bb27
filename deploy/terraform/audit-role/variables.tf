variable "role_name" {
  description = "Name of the audit role; pass the same name to auditpack --role-name."
  type        = string
  default     = "AuditpackReadOnly"
}

variable "auditor_principal_arn" {
  description = "ARN of the role or user that runs auditpack (in the management or a delegated audit account)."
  type        = string
}

variable "external_id" {
  description = "External id the auditor must present (auditpack --external-id); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
