# What is not a setting of the stage (those are in main.tf):
# - per run: `terraform plan -var=...` sets them;
# - per deployment (the account's domain, certificate, alarm topic, ...): prod.tfvars sets them,
#   git-ignored, from terraform.tfvars.example; `make plan` passes it when it exists.
# Each is handed to the stack unchanged; types, defaults and validations are the stack's
# (environments/stack/variables.tf). Unset, each keeps the stack's default.

variable "artifacts_dir" {
  description = "Directory with build.py's output (manifest.json, the function zips and the layer), relative to this directory or absolute. `make build` writes it."
  type        = string
  default     = "../../dist"
  nullable    = false
}

variable "cdn_wait_for_deployment" {
  description = "Wait for CloudFront to finish deploying (up to ~15 minutes) before apply returns."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "SNS topic, in this stage's region, notified when an alarm fires and recovers; null: alarms notify nobody. Per deployment (prod.tfvars)."
  type        = string
  default     = null
}

variable "cdn_alarm_topic_arn" {
  description = "SNS topic in us-east-1 notified by the CDN's alarm (CloudFront's metrics are in us-east-1); null: it notifies nobody. Per deployment (prod.tfvars)."
  type        = string
  default     = null
}

variable "limits" {
  description = "The service's limits (max_pixels, max_body_bytes, max_upload_bytes, upload_url_expires); an unset one keeps lambda_src/imgsvc/config.py's default. Per deployment (prod.tfvars)."
  type = object({
    max_pixels         = optional(number)
    max_body_bytes     = optional(number)
    max_upload_bytes   = optional(number)
    upload_url_expires = optional(number)
  })
  default  = {}
  nullable = false
}

variable "cdn_domain" {
  description = "The CDN's own domain: aliases (the first is the CDN's URL), an ACM certificate in us-east-1 and optionally the Route 53 zone for their records; null: the CloudFront domain. Per deployment (prod.tfvars)."
  type = object({
    aliases             = list(string)
    acm_certificate_arn = string
    route53_zone_id     = optional(string)
  })
  default = null
}

variable "cdn_web_acl_arn" {
  description = "WAFv2 web ACL (CLOUDFRONT scope, us-east-1) attached to the CDN; null: none. Per deployment (prod.tfvars)."
  type        = string
  default     = null
}

variable "cdn_access_logs" {
  description = "Bucket (domain name) and optional key prefix for the CDN's access logs; null: none. Per deployment (prod.tfvars)."
  type = object({
    bucket_domain_name = string
    prefix             = optional(string)
  })
  default = null
}

variable "api_gateway_logging_role_enabled" {
  description = "Create API Gateway's logging role and register it in the account's API Gateway settings (one per account and region), which the API's access logs need. true (the default) suits a stage in its own account. Where dev and prod share an account and region, set it to false in dev.tfvars: prod then owns the setting, and destroying dev leaves prod's logs alone. Per deployment (prod.tfvars)."
  type        = bool
  default     = true
  nullable    = false
}
