variable "name" {
  description = "Prefix of every name the module creates: the dashboard `<name>` and the alarms `<name>-...`. Include the stage (for example `imgsvc-dev`)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1 to 200 letters, digits, hyphens or underscores (dashboard and alarm names)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's own metrics (the functions' POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "imgsvc"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1 to 255 characters of letters, digits and . _ / # : - and must not start with AWS/ (reserved for AWS services)."
  }
}

variable "metrics_stage" {
  description = "Value of the Stage dimension on the service's own metrics (the functions' IMGSVC_STAGE); null uses name."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_stage == null || can(regex("^[A-Za-z0-9_-]{1,200}$", coalesce(var.metrics_stage, "x")))
    error_message = "metrics_stage must be null or 1 to 200 letters, digits, hyphens or underscores."
  }
}

variable "api" {
  description = "The API Gateway REST API: its name and stage (the ApiName and Stage dimensions of AWS/ApiGateway). null leaves out the API's widgets and alarm."
  type = object({
    name  = string
    stage = string
  })
  default = null
}

variable "functions" {
  description = "The Lambda functions shown on the dashboard: function name by a short key (api, resize, ...)."
  type        = map(string)
  nullable    = false
  default     = {}
}

variable "alarmed_functions" {
  description = "Keys of functions whose errors and throttles alarm: `<name>-<key>-fn-errors` and `<name>-<key>-fn-throttles`. Each must be a key of functions."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for key in var.alarmed_functions : contains(keys(var.functions), key)])
    error_message = "alarmed_functions must name keys of functions."
  }
}

variable "queues" {
  description = "SQS queues by a short key: the queue's name and its dead-letter queue's. Each gets the alarm `<name>-<key>-oldest-message-age`; the dashboard shows the age of its oldest message and the DLQ's depth."
  type = map(object({
    name     = string
    dlq_name = string
  }))
  nullable = false
  default  = {}
}

variable "cdn" {
  description = "The CloudFront distribution: its ID (an object, so that whether there is one is known at plan even when the ID is not). null leaves out the CDN's widgets and alarm. Cache hit rate and origin latency need the distribution's additional metrics (modules/cdn: additional_metrics_enabled)."
  type = object({
    distribution_id = string
  })
  default = null
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when an alarm fires and recovers, in the module's region (CloudWatch alarms notify topics of their own region). null creates the alarms without notifications."
  type        = string
  default     = null
}

variable "cdn_alarm_topic_arn" {
  description = "SNS topic in us-east-1 notified by the CDN's alarm (CloudFront's metrics, so its alarm, are in us-east-1). null uses alarm_topic_arn when that topic is in us-east-1, else the CDN alarm notifies nobody."
  type        = string
  default     = null

  validation {
    condition     = var.cdn_alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:us-east-1:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.cdn_alarm_topic_arn, "x")))
    error_message = "cdn_alarm_topic_arn must be null or the ARN of a standard SNS topic in us-east-1."
  }
}

variable "thresholds" {
  description = "When the alarms fire. Function errors and throttles: more than this many in a period. API and CDN 5xx rates: percent of requests, the API's only once it served min_api_requests in the period. Queue age: seconds the oldest message has waited. Each alarm fires after evaluation_periods periods of period_seconds in breach."
  type = object({
    function_errors            = optional(number, 0)
    function_throttles         = optional(number, 0)
    api_5xx_rate_percent       = optional(number, 1)
    min_api_requests           = optional(number, 20)
    cdn_5xx_rate_percent       = optional(number, 1)
    oldest_message_age_seconds = optional(number, 900)
    period_seconds             = optional(number, 300)
    evaluation_periods         = optional(number, 1)
  })
  nullable = false
  default  = {}

  validation {
    condition     = var.thresholds.function_errors >= 0 && var.thresholds.function_throttles >= 0 && var.thresholds.min_api_requests >= 0
    error_message = "thresholds.function_errors, function_throttles and min_api_requests must be 0 or more."
  }

  validation {
    condition = alltrue([
      for rate in [var.thresholds.api_5xx_rate_percent, var.thresholds.cdn_5xx_rate_percent] : rate > 0 && rate <= 100
    ])
    error_message = "thresholds.api_5xx_rate_percent and cdn_5xx_rate_percent are percentages: more than 0, at most 100."
  }

  validation {
    # SQS keeps a message at most 14 days (1,209,600 s): an older age cannot happen.
    condition     = var.thresholds.oldest_message_age_seconds >= 60 && var.thresholds.oldest_message_age_seconds <= 1209600
    error_message = "thresholds.oldest_message_age_seconds must be from 60 to 1209600 (SQS's longest retention, 14 days)."
  }

  validation {
    # Standard-resolution metrics: periods of 60 s or a multiple of 60.
    condition     = var.thresholds.period_seconds >= 60 && var.thresholds.period_seconds % 60 == 0 && var.thresholds.period_seconds <= 86400
    error_message = "thresholds.period_seconds must be a multiple of 60 from 60 to 86400."
  }

  validation {
    condition     = var.thresholds.evaluation_periods >= 1 && floor(var.thresholds.evaluation_periods) == var.thresholds.evaluation_periods && var.thresholds.evaluation_periods * var.thresholds.period_seconds <= 86400
    error_message = "thresholds.evaluation_periods must be a whole number of at least 1, and evaluation_periods x period_seconds at most one day."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  nullable    = false
  default     = {}
}
