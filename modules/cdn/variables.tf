variable "name" {
  description = "Name of this CDN (lowercase, include the stage): names the policies, origin access controls and the edge function, and prefixes the site bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,29}$", var.name))
    error_message = "name must be 1-30 characters of lowercase letters, digits and hyphens, starting with a letter or digit."
  }
}

variable "renditions_bucket" {
  description = "The private renditions bucket (bucket module outputs): name, ARN and regional domain name. It is read through origin access control; attach renditions_bucket_policy_json to it."
  type        = object({ name = string, arn = string, regional_domain_name = string })
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.renditions_bucket.arn)) && endswith(var.renditions_bucket.arn, ":${var.renditions_bucket.name}")
    error_message = "renditions_bucket.arn must be the ARN of the bucket called renditions_bucket.name."
  }

  validation {
    condition     = startswith(var.renditions_bucket.regional_domain_name, "${var.renditions_bucket.name}.s3.") && endswith(var.renditions_bucket.regional_domain_name, ".amazonaws.com")
    error_message = "renditions_bucket.regional_domain_name must be the bucket's regional S3 domain (<name>.s3.<region>.amazonaws.com), not a website endpoint."
  }
}

variable "resize_function" {
  description = "The resize Lambda: its name and its function URL (AWS_IAM auth), the failover origin that makes a missing rendition. The module grants CloudFront the invoke permissions."
  type        = object({ function_name = string, function_url = string })
  nullable    = false

  validation {
    condition     = can(regex("^https://[a-z0-9]+\\.lambda-url\\.[a-z0-9-]+\\.on\\.aws/?$", var.resize_function.function_url))
    error_message = "resize_function.function_url must be a Lambda function URL, https://<id>.lambda-url.<region>.on.aws/."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.resize_function.function_name))
    error_message = "resize_function.function_name must be a Lambda function name."
  }
}

variable "avif_enabled" {
  description = "Serve AVIF to viewers that accept it (before WebP). Turn on only when the resize function can encode AVIF."
  type        = bool
  default     = false
  nullable    = false
}

variable "site_bucket_name" {
  description = "Name of the bucket for the web page; null picks a unique name starting with the CDN name."
  type        = string
  default     = null

  validation {
    condition     = var.site_bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.site_bucket_name))
    error_message = "site_bucket_name must be a valid S3 bucket name without dots: 3-63 lowercase letters, digits and hyphens."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the site bucket with its objects (dev stages only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "site_noncurrent_version_expiration_days" {
  description = "Days old versions of the web page's files are kept."
  type        = number
  default     = 30

  validation {
    condition     = var.site_noncurrent_version_expiration_days >= 1 && floor(var.site_noncurrent_version_expiration_days) == var.site_noncurrent_version_expiration_days
    error_message = "site_noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "aliases" {
  description = "Domain names served besides the CloudFront domain; they need acm_certificate_arn."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.aliases : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", a))])
    error_message = "Each alias must be a lowercase domain name (a leading *. is allowed)."
  }

  validation {
    condition     = length(var.aliases) == 0 || var.acm_certificate_arn != null
    error_message = "aliases need acm_certificate_arn: a certificate in us-east-1 covering every alias."
  }
}

variable "acm_certificate_arn" {
  description = "ACM certificate for the aliases, which CloudFront requires to be in us-east-1; null serves only the CloudFront domain with its default certificate."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from us-east-1)."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone in which to create A and AAAA alias records for every alias; null creates none."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone ID (Z followed by letters and digits)."
  }

  validation {
    condition     = var.route53_zone_id == null || length(var.aliases) > 0
    error_message = "route53_zone_id needs aliases to create records for."
  }
}

variable "price_class" {
  description = "Edge locations used: PriceClass_100 (North America, Europe), PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "wait_for_deployment" {
  description = "Wait until the distribution is deployed to every edge (several minutes). Tests against moto set false."
  type        = bool
  default     = true
  nullable    = false
}

variable "renditions_ttl" {
  description = "Cache TTLs in seconds of /r/* and /gifs/*: the origin's Cache-Control (max-age=1209600 from the resize function) wins within min and max; default applies when it sends none. min must stay 0, so that CloudFront honours the resize function's Cache-Control: no-store."
  type        = object({ min = optional(number, 0), default = optional(number, 1209600), max = optional(number, 31536000) })
  default     = {}
  nullable    = false

  validation {
    condition     = var.renditions_ttl.min >= 0 && var.renditions_ttl.min <= var.renditions_ttl.default && var.renditions_ttl.default <= var.renditions_ttl.max
    error_message = "renditions_ttl must satisfy 0 <= min <= default <= max."
  }

  # A rendition too large for a Lambda response is answered by the resize function with a 302
  # to the same /r/ path and Cache-Control: no-store (the next request finds it in S3).
  # CloudFront keeps a response at least min_ttl seconds whatever its Cache-Control says, so any
  # other min would cache that redirect at the edge: a loop until it expires.
  validation {
    condition     = var.renditions_ttl.min == 0
    error_message = "renditions_ttl.min must be 0: CloudFront ignores Cache-Control: no-store when the minimum TTL is above 0, and would cache the resize function's redirect of a large rendition to its own /r/ path (a redirect loop at the edge)."
  }
}

variable "site_ttl" {
  description = "Cache TTLs in seconds of the web page (default behavior): short, so a new deployment shows quickly."
  type        = object({ min = optional(number, 0), default = optional(number, 300), max = optional(number, 3600) })
  default     = {}
  nullable    = false

  validation {
    condition     = var.site_ttl.min >= 0 && var.site_ttl.min <= var.site_ttl.default && var.site_ttl.default <= var.site_ttl.max
    error_message = "site_ttl must satisfy 0 <= min <= default <= max."
  }
}

variable "error_caching_min_ttl" {
  description = "Seconds CloudFront caches an error (403, 404, 500, 502, 503, 504). Short, so a rendition that was missing a moment ago is not served as missing for long."
  type        = number
  default     = 5

  validation {
    condition     = var.error_caching_min_ttl >= 0 && var.error_caching_min_ttl <= 60 && floor(var.error_caching_min_ttl) == var.error_caching_min_ttl
    error_message = "error_caching_min_ttl must be a whole number of seconds from 0 to 60."
  }
}

variable "resize_origin_read_timeout" {
  description = "Seconds CloudFront waits for the resize function to answer (more than 60 needs a CloudFront quota increase)."
  type        = number
  default     = 30

  validation {
    condition     = var.resize_origin_read_timeout >= 1 && var.resize_origin_read_timeout <= 180 && floor(var.resize_origin_read_timeout) == var.resize_origin_read_timeout
    error_message = "resize_origin_read_timeout must be a whole number of seconds from 1 to 180."
  }
}

variable "content_security_policy" {
  description = "Content-Security-Policy header of every response. The default allows the page's own scripts (no inline script), inline styles, and calls and images over HTTPS (API, presigned uploads); null sends none."
  type        = string
  default     = "default-src 'self'; img-src 'self' data: blob: https:; connect-src 'self' https:; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self' https:; frame-ancestors 'none'"

  validation {
    condition     = var.content_security_policy == null || try(length(var.content_security_policy) > 0 && length(var.content_security_policy) <= 1783, false)
    error_message = "content_security_policy must be null or a non-empty policy of at most 1783 characters."
  }
}

variable "access_logs_bucket_domain_name" {
  description = "Bucket for standard access logs, as its domain name (name.s3.amazonaws.com; the bucket must allow ACLs for CloudFront's log delivery); null disables access logs."
  type        = string
  default     = null

  validation {
    condition     = var.access_logs_bucket_domain_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com$", var.access_logs_bucket_domain_name))
    error_message = "access_logs_bucket_domain_name must be an S3 bucket domain name such as my-logs.s3.amazonaws.com."
  }
}

variable "access_logs_prefix" {
  description = "Key prefix of the access logs in their bucket."
  type        = string
  default     = "cloudfront/"
  nullable    = false
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) to attach; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$", var.web_acl_arn))
    error_message = "web_acl_arn must be a WAFv2 web ACL ARN with global (CLOUDFRONT) scope."
  }
}

variable "additional_metrics_enabled" {
  description = "Turn on the distribution's additional CloudWatch metrics (cache hit rate, origin latency, error rate per status code), charged per metric: modules/monitoring's dashboard shows them."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource of the module that takes tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

# The regions CloudFront offers Origin Shield in: those with a regional edge cache (CloudFront
# Developer Guide, "Choosing the AWS Region for Origin Shield",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html). For an
# origin in another region the guide names the nearest of these.
variable "origin_shield" {
  description = "CloudFront Origin Shield in front of the renditions bucket and the resize function: enabled, and the region (one of CloudFront's Origin Shield regions, the one nearest the origins: their own region where it is one). A rendition missed at every edge is then made once, not once per regional edge cache; it adds a charge per request that reaches Origin Shield (docs/cost-and-scale.md). Off by default."
  type = object({
    enabled = optional(bool, false)
    region  = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = !var.origin_shield.enabled || var.origin_shield.region != null
    error_message = "origin_shield.region is required when origin_shield.enabled is true: the AWS region nearest the renditions bucket and the resize function."
  }

  validation {
    condition = var.origin_shield.region == null || contains([
      "us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
      "ap-southeast-1", "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
    ], coalesce(var.origin_shield.region, "-"))
    error_message = "origin_shield.region must be a region CloudFront offers Origin Shield in: us-east-1, us-east-2, us-west-2, ap-south-1, ap-northeast-1, ap-northeast-2, ap-southeast-1, ap-southeast-2, eu-central-1, eu-west-1, eu-west-2 or sa-east-1 (for an origin elsewhere, the nearest of them)."
  }
}
