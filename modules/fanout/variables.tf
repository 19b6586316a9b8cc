variable "name" {
  description = "Prefix of every name the module creates: the topic `<name>`, queues `<name>-<consumer>` and `<name>-<consumer>-dlq`, alarms `<name>-<consumer>-...`. Include the stage (for example `imgsvc-dev-originals`)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,32}$", var.name))
    error_message = "name must be 1-32 letters, digits, hyphens or underscores (queue names are limited to 80 characters)."
  }
}

variable "bucket_name" {
  description = "The S3 bucket whose object-created events fan out. This module owns the bucket's notification configuration: S3 keeps one per bucket, so nothing else may manage it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "filter_prefix" {
  description = "Only objects whose key starts with this prefix produce events. An empty string means every object."
  type        = string
  default     = "originals/"
  nullable    = false

  validation {
    condition     = length(var.filter_prefix) <= 1024 && !startswith(var.filter_prefix, "/")
    error_message = "filter_prefix must be at most 1024 characters and must not start with \"/\" (S3 keys have no leading slash)."
  }
}

variable "topic_enabled" {
  description = "Fan out through an SNS topic to every consumer (true). false sends the bucket's events straight to the queue of the single consumer (S3 -> SQS -> Lambda), for example the uploads pipeline."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the topic. null creates a dedicated key whose policy lets S3 publish. The AWS managed key alias/aws/sns cannot be used: its policy can't grant S3, so S3 could not publish to the topic."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null (a key is created) or the ARN of a customer managed KMS key (arn:aws:kms:<region>:<account>:key/<id>); aliases such as alias/aws/sns are not accepted."
  }
}

variable "consumers" {
  description = "One queue (and dead-letter queue) per consumer, keyed by a short name, each drained by a Lambda function (its name, not ARN). visibility_timeout_seconds must be at least the function's timeout (AWS recommends 6x)."
  type = map(object({
    function_name              = string
    batch_size                 = optional(number, 5)
    max_receive_count          = optional(number, 3)
    visibility_timeout_seconds = optional(number, 120)
    maximum_concurrency        = optional(number, null)
  }))
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.consumers) : can(regex("^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$", key))])
    error_message = "Consumer names must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : can(regex("^[A-Za-z0-9_-]{1,64}$", c.function_name))])
    error_message = "Each consumer's function_name must be a Lambda function name (1-64 letters, digits, hyphens, underscores), not an ARN."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.batch_size >= 1 && c.batch_size <= 10 && floor(c.batch_size) == c.batch_size])
    error_message = "Each consumer's batch_size must be a whole number from 1 to 10."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.max_receive_count >= 1 && c.max_receive_count <= 1000 && floor(c.max_receive_count) == c.max_receive_count])
    error_message = "Each consumer's max_receive_count must be a whole number from 1 to 1000."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.visibility_timeout_seconds >= 1 && c.visibility_timeout_seconds <= 43200 && floor(c.visibility_timeout_seconds) == c.visibility_timeout_seconds])
    error_message = "Each consumer's visibility_timeout_seconds must be a whole number from 1 to 43200 (12 hours)."
  }

  validation {
    condition = alltrue([
      for c in values(var.consumers) :
      c.maximum_concurrency == null || try(c.maximum_concurrency >= 2 && c.maximum_concurrency <= 1000 && floor(c.maximum_concurrency) == c.maximum_concurrency, false)
    ])
    error_message = "Each consumer's maximum_concurrency must be null (no limit) or a whole number from 2 to 1000."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic ARN notified when an alarm fires and recovers. null creates the alarms without actions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
  nullable    = false
}
