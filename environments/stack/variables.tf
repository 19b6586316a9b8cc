variable "name_prefix" {
  description = "Prefix of every resource name, unique per stage and account (for example `imgsvc-dev`). Bucket names add the account id, since S3 names are global."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits and hyphens, start with a letter and end with a letter or digit (it goes into bucket, function and queue names)."
  }
}

variable "region" {
  description = "Main AWS region: the API, the functions, the table and the originals. The same as the aws provider's."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "replica_region" {
  description = "Region of the originals' replica bucket, the same as the aws.replica provider's; must differ from region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.replica_region)) && var.replica_region != var.region
    error_message = "replica_region must be an AWS region name such as eu-central-1, different from region."
  }
}

variable "artifacts_dir" {
  description = "Directory with build.py's output (manifest.json, the function zips, the layer and the OpenAPI document API Gateway imports), relative to the stage root's directory (environments/<stage>, where Terraform runs) or absolute."
  type        = string
  default     = "../../dist"
  nullable    = false

  validation {
    condition     = fileexists("${var.artifacts_dir}/manifest.json")
    error_message = "There are no Lambda artifacts (manifest.json is missing in artifacts_dir): run `make build` first."
  }

  validation {
    condition = !fileexists("${var.artifacts_dir}/manifest.json") || try(alltrue(concat(
      [for name in ["api", "resize", "uploads", "effects"] : fileexists("${var.artifacts_dir}/${jsondecode(file("${var.artifacts_dir}/manifest.json")).functions[name].zip}")],
      [fileexists("${var.artifacts_dir}/${jsondecode(file("${var.artifacts_dir}/manifest.json")).layer.zip}")],
      [fileexists("${var.artifacts_dir}/openapi-apigateway.json")],
    )), false)
    error_message = "The Lambda artifacts are incomplete (a function zip or the dependencies layer listed in manifest.json, or openapi-apigateway.json, is missing): run `make build` first."
  }
}

variable "gif_effects" {
  description = "GIF effects to produce for every new image version; one SQS consumer function each. Names are those registered in lambda_src/imgsvc/effects.py."
  type        = list(string)
  default     = ["zoom", "spin", "hue"]
  nullable    = false

  validation {
    condition     = alltrue([for e in var.gif_effects : contains(["zoom", "spin", "hue"], e)]) && length(distinct(var.gif_effects)) == length(var.gif_effects)
    error_message = "gif_effects must be distinct names from: zoom, spin, hue."
  }
}

variable "gif_settings" {
  description = "Size of the GIFs: the square box they fit in (pixels), the number of frames and each frame's duration (ms)."
  type = object({
    box      = optional(number, 400)
    frames   = optional(number, 16)
    frame_ms = optional(number, 80)
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      var.gif_settings.box >= 16 && var.gif_settings.box <= 2048,
      var.gif_settings.frames >= 2 && var.gif_settings.frames <= 240,
      var.gif_settings.frame_ms >= 20 && var.gif_settings.frame_ms <= 655350,
    ])
    error_message = "gif_settings: box 16-2048 pixels, frames 2-240, frame_ms 20-655350."
  }
}

variable "avif_enabled" {
  description = "Serve AVIF renditions to browsers that accept them (before WebP). Smaller files, but slower to encode on a cache miss. Sets both the CDN's format negotiation and the resize function's."
  type        = bool
  default     = false
  nullable    = false
}

variable "rendition_sides" {
  description = "The sides (pixels) a rendition may have: /resize/{size} and the CDN's /r/... take WxH, Wx, xH and WxH-cover sizes of these only. Adding one is all it takes to serve it: renditions are made on their first request (docs/operations.md)."
  type        = list(number)
  default     = [64, 100, 128, 200, 256, 400, 512, 800, 1024, 1600, 2048]
  nullable    = false

  validation {
    condition     = length(var.rendition_sides) > 0 && alltrue([for s in var.rendition_sides : s == floor(s) && s >= 1 && s <= 99999])
    error_message = "rendition_sides must be whole numbers of pixels from 1 to 99999 (a size in a URL has at most 5 digits per side), at least one."
  }
}

variable "cors_origins" {
  description = "Extra browser origins allowed to call the API and POST direct uploads (the CDN's own origin, which serves the web page, is always allowed). For example [\"http://127.0.0.1:8080\"] for a page served locally."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "Each CORS origin must be scheme://host[:port] without a path or trailing slash."
  }
}

variable "api_key_required" {
  description = "Require the API key (x-api-key) on write operations. Read it with `terraform output -raw api_key`."
  type        = bool
  default     = true
  nullable    = false
}

variable "usage_plan" {
  description = "Quota and throttling of the API key: requests per quota_period (DAY, WEEK or MONTH), steady rate per second and burst."
  type = object({
    quota_limit          = optional(number, 10000)
    quota_period         = optional(string, "DAY")
    throttle_rate_limit  = optional(number, 10)
    throttle_burst_limit = optional(number, 20)
  })
  default  = {}
  nullable = false
}

variable "api_gateway_logging_role_enabled" {
  description = "Create the IAM role API Gateway writes its logs with and register it in the account's API Gateway settings (one setting per account and region). API Gateway refuses the stage's logging without it, so true (the default) applies in a fresh account. Where stages share an account and region, keep it true in one (prod) and set it to false in the others; false where the account already has the setting from elsewhere (modules/api/README.md: sharing the setting)."
  type        = bool
  default     = true
  nullable    = false
}

variable "functions" {
  description = "Sizing of each function: memory in MB (CPU scales with it), timeout in seconds, reserved concurrency (null: unreserved; a number both guarantees and caps the function's concurrency, and AWS keeps 100 of the account's concurrency unreserved) and, for the queue consumers (uploads and each effect), maximum_concurrency: the most instances their SQS event source runs at once (2-1000; null: up to the account's limit). The effects entry applies to every effect function. What each costs and protects: docs/cost-and-scale.md."
  type = object({
    api = optional(object({
      memory_size                    = optional(number, 1024)
      timeout                        = optional(number, 29)
      reserved_concurrent_executions = optional(number)
    }), {})
    resize = optional(object({
      memory_size                    = optional(number, 2048)
      timeout                        = optional(number, 29)
      reserved_concurrent_executions = optional(number)
    }), {})
    uploads = optional(object({
      memory_size                    = optional(number, 1024)
      timeout                        = optional(number, 60)
      reserved_concurrent_executions = optional(number)
      # A bulk import must not take the whole account: see docs/cost-and-scale.md.
      maximum_concurrency = optional(number, 20)
    }), {})
    effects = optional(object({
      memory_size                    = optional(number, 2048)
      timeout                        = optional(number, 120)
      reserved_concurrent_executions = optional(number)
      # A bulk import must not take the whole account: see docs/cost-and-scale.md.
      maximum_concurrency = optional(number, 20)
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for c in [var.functions.uploads.maximum_concurrency, var.functions.effects.maximum_concurrency] :
      c == null || try(c >= 2 && c <= 1000 && floor(c) == c, false)
    ])
    error_message = "functions.uploads.maximum_concurrency and functions.effects.maximum_concurrency must be null (no cap) or a whole number from 2 to 1000 (what an SQS event source mapping accepts)."
  }

  validation {
    condition     = var.functions.api.timeout <= 29 && var.functions.resize.timeout <= 29
    error_message = "functions.api.timeout and functions.resize.timeout can be at most 29 seconds: API Gateway gives up after 29."
  }

  # Lambda refuses reservations that leave fewer than 100 executions unreserved in the account
  # and region (PutFunctionConcurrency), at apply, one function at a time: the stage's together
  # are checked here, at plan. The effects entry reserves once per GIF effect.
  validation {
    condition = sum([
      coalesce(var.functions.api.reserved_concurrent_executions, 0),
      coalesce(var.functions.resize.reserved_concurrent_executions, 0),
      coalesce(var.functions.uploads.reserved_concurrent_executions, 0),
      coalesce(var.functions.effects.reserved_concurrent_executions, 0) * length(var.gif_effects),
    ]) <= var.lambda_concurrency_limit - 100
    error_message = "The functions' reserved_concurrent_executions together (effects counted once per GIF effect) must leave at least 100 of the account's concurrent executions (lambda_concurrency_limit) unreserved: Lambda refuses the reservations otherwise. Lower them, or raise the account's quota and lambda_concurrency_limit with it."
  }
}

variable "lambda_concurrency_limit" {
  description = "The account's concurrent executions quota for Lambda in this region (Service Quotas L-B99A9384): 1000 by default, lower in new accounts. The functions' reservations are checked against it at plan; reservations of other functions in the account count against it too."
  type        = number
  default     = 1000
  nullable    = false

  validation {
    condition     = var.lambda_concurrency_limit >= 10 && floor(var.lambda_concurrency_limit) == var.lambda_concurrency_limit
    error_message = "lambda_concurrency_limit must be a whole number, at least 10 (the quota of a new account)."
  }
}

variable "log_level" {
  description = "Level of the functions' structured logs (POWERTOOLS_LOG_LEVEL)."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "deletion_protection_enabled" {
  description = "Protect the metadata table from deletion (turn on in production)."
  type        = bool
  default     = true
  nullable    = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Only for throwaway stages: it deletes every image."
  type        = bool
  default     = false
  nullable    = false
}

variable "log_retention_in_days" {
  description = "Retention of the functions' and the API's log groups, in days."
  type        = number
  default     = 30
  nullable    = false
}

variable "cdn_price_class" {
  description = "CloudFront price class: PriceClass_100 (North America, Europe), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"
  nullable    = false

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cdn_price_class)
    error_message = "cdn_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cdn_wait_for_deployment" {
  description = "Wait for CloudFront to finish deploying (up to ~15 minutes) before apply returns."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when an alarm of the stage fires and when it recovers: a dead-letter queue holds messages, a queue consumer (uploads, each GIF effect) fails or is throttled. It must be in region, as CloudWatch alarms only notify topics of their own region. null creates the alarms without notifications."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or a standard SNS topic ARN, arn:aws:sns:<region>:<account>:<name>."
  }

  validation {
    condition     = var.alarm_topic_arn == null || try(split(":", var.alarm_topic_arn)[3] == var.region, false)
    error_message = "alarm_topic_arn must be a topic in region (the stage's main region): CloudWatch alarms cannot notify a topic in another region."
  }
}

variable "cdn_alarm_topic_arn" {
  description = "SNS topic in us-east-1 notified by the CDN's 5xx-rate alarm, which lives in us-east-1 with CloudFront's metrics. null: alarm_topic_arn when region is us-east-1, else the CDN alarm notifies nobody."
  type        = string
  default     = null

  validation {
    condition     = var.cdn_alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:us-east-1:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", coalesce(var.cdn_alarm_topic_arn, "x")))
    error_message = "cdn_alarm_topic_arn must be null or a standard SNS topic ARN in us-east-1."
  }
}

variable "alarm_thresholds" {
  description = "When the stage's alarms fire (modules/monitoring: thresholds): function errors and throttles per period, the API's and the CDN's 5xx rates in percent, the age in seconds of a queue's oldest message, the period and how many periods in breach. An unset one keeps the module's default."
  type = object({
    function_errors            = optional(number)
    function_throttles         = optional(number)
    api_5xx_rate_percent       = optional(number)
    min_api_requests           = optional(number)
    cdn_5xx_rate_percent       = optional(number)
    oldest_message_age_seconds = optional(number)
    period_seconds             = optional(number)
    evaluation_periods         = optional(number)
  })
  default  = {}
  nullable = false
}

variable "cdn_additional_metrics_enabled" {
  description = "Turn on CloudFront's additional metrics for the CDN (cache hit rate, origin latency; charged per metric), which the dashboard shows."
  type        = bool
  default     = true
  nullable    = false
}

variable "limits" {
  description = "What the service accepts (lambda_src/imgsvc/config.py, whose defaults these are): max_pixels of an image (width x height, every GIF frame too), max_body_bytes of an image sent through the API (POST and PUT /images; at most 4500000, what a Lambda event holds after base64), max_upload_bytes of a direct upload (POST /uploads; the uploads function holds it in memory, so it must stay below functions.uploads.memory_size) and upload_url_expires, the seconds a direct upload's presigned form stays valid (at most 604800, SigV4's limit)."
  type = object({
    max_pixels         = optional(number, 50000000)
    max_body_bytes     = optional(number, 4500000)
    max_upload_bytes   = optional(number, 26214400)
    upload_url_expires = optional(number, 600)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for v in values(var.limits) : v >= 1 && floor(v) == v])
    error_message = "Every limit must be a whole number, at least 1."
  }

  # A Lambda event carries at most 6 MB; base64 (4/3) and the request's own headers leave about
  # 4.5 MB of image. A bigger setting would only move the failure from the service's 413 to
  # API Gateway's and Lambda's errors.
  validation {
    condition     = var.limits.max_body_bytes <= 4500000
    error_message = "limits.max_body_bytes can be at most 4500000: an image sent through the API arrives base64-encoded in a Lambda event of at most 6 MB. Larger images use direct uploads (limits.max_upload_bytes)."
  }

  validation {
    condition     = var.limits.max_upload_bytes < var.functions.uploads.memory_size * 1048576
    error_message = "limits.max_upload_bytes must be below the uploads function's memory (functions.uploads.memory_size MB): it reads the whole file into memory."
  }

  validation {
    condition     = var.limits.upload_url_expires <= 604800
    error_message = "limits.upload_url_expires can be at most 604800 seconds (7 days), the longest a SigV4 presigned form is valid."
  }
}

variable "cdn_domain" {
  description = "The CDN's own domain: the names it serves (aliases; the first becomes the URL of the web page and the renditions, so it cannot be a wildcard), an ACM certificate for them in us-east-1 (CloudFront only uses certificates from there) and optionally the Route 53 hosted zone to create their A and AAAA records in. Viewers then need TLS 1.2 or later; null serves the CloudFront domain with CloudFront's default certificate, which also accepts TLS 1.0."
  type = object({
    aliases             = list(string)
    acm_certificate_arn = string
    route53_zone_id     = optional(string)
  })
  default = null

  validation {
    condition = var.cdn_domain == null ? true : (
      length(var.cdn_domain.aliases) > 0 &&
      alltrue([for a in var.cdn_domain.aliases : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", a))]) &&
      !startswith(try(var.cdn_domain.aliases[0], ""), "*.")
    )
    error_message = "cdn_domain.aliases must be one or more lowercase domain names (a leading *. is allowed after the first, which is the CDN's URL)."
  }

  validation {
    condition     = var.cdn_domain == null ? true : can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.cdn_domain.acm_certificate_arn))
    error_message = "cdn_domain.acm_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from us-east-1)."
  }

  validation {
    condition     = var.cdn_domain == null ? true : var.cdn_domain.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.cdn_domain.route53_zone_id))
    error_message = "cdn_domain.route53_zone_id must be null or a hosted zone ID (Z followed by capital letters and digits)."
  }
}

variable "cdn_web_acl_arn" {
  description = "WAFv2 web ACL attached to the CDN (scope CLOUDFRONT, so created in us-east-1); null attaches none."
  type        = string
  default     = null

  validation {
    condition     = var.cdn_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$", var.cdn_web_acl_arn))
    error_message = "cdn_web_acl_arn must be a WAFv2 web ACL ARN with global (CLOUDFRONT) scope: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>."
  }
}

variable "cdn_access_logs" {
  description = "Where CloudFront writes its standard access logs: the bucket's domain name (<bucket>.s3.amazonaws.com; the bucket must have ACLs enabled for CloudFront's log delivery) and a key prefix (null: cloudfront/<name_prefix>/, so stages can share a bucket). null writes none."
  type = object({
    bucket_domain_name = string
    prefix             = optional(string)
  })
  default = null

  validation {
    condition     = var.cdn_access_logs == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com$", var.cdn_access_logs.bucket_domain_name))
    error_message = "cdn_access_logs.bucket_domain_name must be an S3 bucket's domain name such as my-logs.s3.amazonaws.com."
  }

  validation {
    condition     = var.cdn_access_logs == null ? true : var.cdn_access_logs.prefix == null || try(length(var.cdn_access_logs.prefix) > 0 && !startswith(var.cdn_access_logs.prefix, "/"), false)
    error_message = "cdn_access_logs.prefix must be null or a non-empty key prefix that does not start with /."
  }
}

variable "cdn_origin_shield" {
  description = "CloudFront Origin Shield in front of the renditions bucket and the resize function: enabled, and region (null: the stage's region, which must then be one CloudFront offers Origin Shield in; see modules/cdn). Off by default: it adds a charge per request through it, which a small stage does not win back. Turn it on where many edge locations miss the same renditions (prod): each missing rendition is then made once, not once per regional edge cache. docs/cost-and-scale.md has the figures."
  type = object({
    enabled = optional(bool, false)
    region  = optional(string)
  })
  default  = {}
  nullable = false

  # The cdn module checks the region too; this says which setting to change.
  validation {
    condition = !var.cdn_origin_shield.enabled || contains([
      "us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
      "ap-southeast-1", "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
    ], coalesce(var.cdn_origin_shield.region, var.region))
    error_message = "cdn_origin_shield: CloudFront offers Origin Shield in us-east-1, us-east-2, us-west-2, ap-south-1, ap-northeast-1, ap-northeast-2, ap-southeast-1, ap-southeast-2, eu-central-1, eu-west-1, eu-west-2 and sa-east-1 only. Where the stage's region is not one of them, set cdn_origin_shield.region to the nearest (CloudFront Developer Guide, \"Choosing the AWS Region for Origin Shield\")."
  }
}
