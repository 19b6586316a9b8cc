variable "bucket_name" {
  description = "Name of the originals bucket in the default provider's region. Include the stage (for example `imgsvc-dev-originals`) so stages never collide."
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

variable "replica_bucket_name" {
  description = "Name of the replica bucket in the `aws.replica` provider's region (for example `imgsvc-dev-originals-replica`)."
  type        = string

  validation {
    condition = alltrue([
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.replica_bucket_name)),
      !startswith(var.replica_bucket_name, "xn--"),
      !startswith(var.replica_bucket_name, "sthree-"),
      !endswith(var.replica_bucket_name, "-s3alias"),
      !endswith(var.replica_bucket_name, "--ol-s3"),
      !endswith(var.replica_bucket_name, "--x-s3"),
    ])
    error_message = "replica_bucket_name must be 3-63 lowercase letters, digits and hyphens, start and end with a letter or digit, and not use the reserved xn--/sthree- prefixes or -s3alias/--ol-s3/--x-s3 suffixes. Dots are not allowed: they break TLS for virtual-hosted URLs."
  }
}

variable "replica_storage_class" {
  description = "Storage class of the replicas. Only classes that serve reads immediately are allowed, because the service reads the replica when the main region fails."
  type        = string
  default     = "ONEZONE_IA"
  nullable    = false

  validation {
    condition     = contains(["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.replica_storage_class)
    error_message = "replica_storage_class must be one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR (archive classes cannot serve failover reads)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Delete versions in the main bucket this many days after they stop being current (the replica keeps its own copies, see replica_noncurrent_version_expiration_days)."
  type        = number
  default     = 6
  nullable    = false

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "replica_noncurrent_version_expiration_days" {
  description = "Delete versions in the replica this many days after they stop being current. null (the default) keeps every version in the replica forever."
  type        = number
  default     = null

  validation {
    condition     = var.replica_noncurrent_version_expiration_days == null || try(var.replica_noncurrent_version_expiration_days >= 1 && floor(var.replica_noncurrent_version_expiration_days) == var.replica_noncurrent_version_expiration_days, false)
    error_message = "replica_noncurrent_version_expiration_days must be null (never) or a whole number of at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Abort multipart uploads still unfinished this many days after they started, in both buckets."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key in the main region for SSE-KMS on the main bucket. null uses SSE-S3 (AES256). When set, replica_kms_key_arn must be set too."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "replica_kms_key_arn" {
  description = "ARN of a KMS key in the replica region for SSE-KMS on the replica bucket and its replicas. null uses SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.replica_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.replica_kms_key_arn))
    error_message = "replica_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete both buckets with every object version in them. Keep false outside throwaway stages."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for both buckets and the replication role."
  type        = map(string)
  default     = {}
  nullable    = false
}
