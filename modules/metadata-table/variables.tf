variable "table_name" {
  description = "Name of the table. Include the stage (for example `imgsvc-dev-images`) so stages never collide."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters: letters, digits, underscore, hyphen and dot."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key to encrypt the table. null uses the AWS managed key `aws/dynamodb`."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse to delete the table (DeleteTable fails until this is turned off). Turn off only for throwaway stages."
  type        = bool
  default     = true
  nullable    = false
}

variable "ttl_attribute_name" {
  description = "Name of a numeric attribute holding an expiry time in epoch seconds; DynamoDB deletes items some time after it (within days). The default is the attribute the service writes on upload tickets only (image versions never carry it). null turns TTL off."
  type        = string
  default     = "purge_at"

  validation {
    condition     = var.ttl_attribute_name == null || try(length(var.ttl_attribute_name) >= 1 && length(var.ttl_attribute_name) <= 255 && !contains(["id", "version"], var.ttl_attribute_name), false)
    error_message = "ttl_attribute_name must be null (off) or a 1-255 character attribute name other than the keys id and version."
  }
}

variable "stream_view_type" {
  description = "What the table's stream records carry: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES. null turns the stream off."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null || contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], coalesce(var.stream_view_type, "-"))
    error_message = "stream_view_type must be null (no stream) or one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES."
  }
}

variable "tags" {
  description = "Tags for the table."
  type        = map(string)
  default     = {}
  nullable    = false
}
