variable "bucket_name" {
  description = "Name of the bucket. Include the stage (for example `imgsvc-dev-renditions`) so stages never collide."
  type        = string

  validation {
    condition = alltrue([
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name)),
      !startswith(var.bucket_name, "xn--"),
      !startswith(var.bucket_name, "sthree-"),
      !endswith(var.bucket_name, "-s3alias"),
      !endswith(var.bucket_name, "--ol-s3"),
      !endswith(var.bucket_name, "--x-s3"),
    ])
    error_message = "bucket_name must be 3-63 lowercase letters, digits and hyphens, start and end with a letter or digit, and not use the reserved xn--/sthree- prefixes or -s3alias/--ol-s3/--x-s3 suffixes. Dots are not allowed: they break TLS for virtual-hosted URLs."
  }
}

variable "versioning_enabled" {
  description = "Keep every version of every object. false: a new bucket is never versioned; on a bucket that was versioned, versioning is suspended (S3 cannot un-version a bucket)."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for SSE-KMS (with an S3 Bucket Key). null uses SSE-S3 (AES256). A CloudFront or other reader then also needs kms:Decrypt on the key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "policy_documents" {
  description = "Extra bucket policy documents (JSON, for example a CloudFront origin access control grant) merged with the module's TLS-only statement. Statement ids must be unique and must not be `DenyInsecureTransport`."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for doc in var.policy_documents : can(jsondecode(doc).Statement)])
    error_message = "Each entry of policy_documents must be a JSON IAM policy document with a Statement list."
  }
}

variable "expiration_rules" {
  description = "Delete current objects under a key prefix this many days after they were written (for example `{ prefix = \"uploads/\", days = 1 }`). An empty prefix applies to the whole bucket."
  type = list(object({
    prefix = string
    days   = number
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for rule in var.expiration_rules : rule.days >= 1 && floor(rule.days) == rule.days])
    error_message = "Each expiration rule needs days as a whole number of at least 1."
  }

  validation {
    condition     = length(distinct([for rule in var.expiration_rules : rule.prefix])) == length(var.expiration_rules)
    error_message = "Each expiration rule needs a different prefix."
  }

  validation {
    condition     = alltrue([for rule in var.expiration_rules : length(rule.prefix) <= 1024])
    error_message = "An expiration rule prefix can be at most 1024 characters."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Delete versions this many days after they stop being current (and then the leftover delete markers). null keeps old versions forever. Only used when versioning is enabled."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days == null || try(var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days, false)
    error_message = "noncurrent_version_expiration_days must be null (keep forever) or a whole number of at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Abort multipart uploads still unfinished this many days after they started, so their parts stop costing storage."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of at least 1."
  }
}

variable "cors_rules" {
  description = "CORS rules, for example to let browsers on the configured origins POST presigned uploads. Empty means no CORS configuration."
  type = list(object({
    allowed_methods = list(string)
    allowed_origins = list(string)
    allowed_headers = optional(list(string), [])
    expose_headers  = optional(list(string), [])
    max_age_seconds = optional(number, 3000)
  }))
  default  = []
  nullable = false

  validation {
    condition     = length(var.cors_rules) <= 100
    error_message = "S3 allows at most 100 CORS rules."
  }

  validation {
    condition = alltrue([
      for rule in var.cors_rules : length(rule.allowed_methods) > 0 && alltrue([
        for method in rule.allowed_methods : contains(["GET", "PUT", "POST", "DELETE", "HEAD"], method)
      ])
    ])
    error_message = "Each CORS rule needs allowed_methods from GET, PUT, POST, DELETE and HEAD (upper case)."
  }

  validation {
    condition = alltrue([
      for rule in var.cors_rules : length(rule.allowed_origins) > 0 && alltrue([
        for origin in rule.allowed_origins : origin == "*" || can(regex("^https?://[^/\\s]+$", origin))
      ])
    ])
    error_message = "Each CORS rule needs allowed_origins, each \"*\" or a scheme and host without a path, for example \"https://app.example.com\" or \"http://127.0.0.1:8080\"."
  }

  validation {
    condition     = alltrue([for rule in var.cors_rules : rule.max_age_seconds >= 0 && floor(rule.max_age_seconds) == rule.max_age_seconds])
    error_message = "A CORS rule's max_age_seconds must be a whole number of at least 0."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects and versions in it. Keep false outside throwaway stages."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}
