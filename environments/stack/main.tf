# The image service's composition: every module of one stage, wired together. Both stage roots
# (environments/dev, environments/prod) call it once with their settings and providers; see
# README.md.
#
#   API Gateway (openapi.yaml) -> api, resize        CloudFront -> renditions bucket
#                                                                 `-> resize (function URL, on a miss)
#   uploads bucket -> SQS -> uploads -> originals bucket -> SNS -> SQS per effect -> effect-<name>
#                                       `-> replica bucket (second region)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The regions resources really go to are the providers'. ARNs the stack builds itself (the queue
# ARNs in iam.tf) use these; var.region and var.replica_region, which reach the functions'
# environment and the alarm topic's validation, must name the same regions.
data "aws_region" "current" {
  lifecycle {
    postcondition {
      condition     = self.name == var.region
      error_message = "region must be the aws provider's region (${self.name}): the functions, queues and the API are created there."
    }
  }
}

data "aws_region" "replica" {
  provider = aws.replica

  lifecycle {
    postcondition {
      condition     = self.name == var.replica_region
      error_message = "replica_region must be the aws.replica provider's region (${self.name}): the replica bucket is created there."
    }
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # S3 names are global: the account id keeps two accounts' stages apart.
  bucket_prefix = "${var.name_prefix}-${local.account_id}"

  # Paths into the repository, from the stage root (Terraform's working directory,
  # environments/<stage>). They are relative to it, as they were when each stage root held this
  # code, so the file names Terraform keeps in the state (function and layer zips, web files) did
  # not change when it moved here.
  repository_dir = "${path.root}/../.."
}

module "originals" {
  source = "../../modules/storage-with-replication"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  bucket_name         = "${local.bucket_prefix}-originals"
  replica_bucket_name = "${local.bucket_prefix}-replica"
  force_destroy       = var.force_destroy
}

module "renditions" {
  source = "../../modules/bucket"

  bucket_name = "${local.bucket_prefix}-renditions"
  # Renditions and GIFs are derived data: one version each, made again when missing.
  versioning_enabled = false
  policy_documents   = [module.cdn.renditions_bucket_policy_json]
  force_destroy      = var.force_destroy
}

module "uploads" {
  source = "../../modules/bucket"

  bucket_name        = "${local.bucket_prefix}-uploads"
  versioning_enabled = false
  # A direct upload moves to the originals within seconds; what is left after a day failed.
  expiration_rules = [{ prefix = "uploads/", days = 1 }]
  # Browsers POST the presigned form straight to the bucket.
  cors_rules = [{
    allowed_methods = ["POST"]
    allowed_origins = local.browser_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Location"]
    max_age_seconds = 3000
  }]
  force_destroy = var.force_destroy
}

module "table" {
  source = "../../modules/metadata-table"

  table_name                  = "${var.name_prefix}-images"
  deletion_protection_enabled = var.deletion_protection_enabled
}

module "cdn" {
  source = "../../modules/cdn"

  name = var.name_prefix
  renditions_bucket = {
    name                 = module.renditions.bucket_name
    arn                  = module.renditions.bucket_arn
    regional_domain_name = module.renditions.bucket_regional_domain_name
  }
  resize_function = {
    function_name = module.resize.function_name
    function_url  = module.resize.function_url
  }
  avif_enabled = var.avif_enabled
  price_class  = var.cdn_price_class
  # The region only matters (and is only checked) when Origin Shield is on.
  origin_shield = {
    enabled = var.cdn_origin_shield.enabled
    region  = var.cdn_origin_shield.enabled ? coalesce(var.cdn_origin_shield.region, var.region) : null
  }
  wait_for_deployment = var.cdn_wait_for_deployment
  # Cache hit rate and origin latency on the dashboard (monitoring.tf).
  additional_metrics_enabled = var.cdn_additional_metrics_enabled
  force_destroy              = var.force_destroy

  # A domain of its own also raises the viewers' minimum TLS from 1.0 (CloudFront's default
  # certificate) to 1.2.
  aliases             = var.cdn_domain == null ? [] : var.cdn_domain.aliases
  acm_certificate_arn = var.cdn_domain == null ? null : var.cdn_domain.acm_certificate_arn
  route53_zone_id     = var.cdn_domain == null ? null : var.cdn_domain.route53_zone_id
  web_acl_arn         = var.cdn_web_acl_arn

  access_logs_bucket_domain_name = var.cdn_access_logs == null ? null : var.cdn_access_logs.bucket_domain_name
  access_logs_prefix             = coalesce(var.cdn_access_logs == null ? null : var.cdn_access_logs.prefix, "cloudfront/${var.name_prefix}/")
}

locals {
  cdn_base_url = module.cdn.cdn_base_url
  # The web page is served by the CDN; other origins (a local page) come from the stage.
  browser_origins = distinct(concat([local.cdn_base_url], var.cors_origins))
}

module "api" {
  source = "../../modules/api"

  name = "${var.name_prefix}-api"
  # openapi.yaml within what API Gateway's import supports, derived by build.py (`make build`).
  openapi_spec = file("${local.artifacts_dir}/openapi-apigateway.json")
  functions = {
    api    = { invoke_arn = module.function["api"].function_invoke_arn, function_name = module.function["api"].function_name }
    resize = { invoke_arn = module.resize.function_invoke_arn, function_name = module.resize.function_name }
  }
  # resize is also the CDN's origin, so the CDN's URL cannot be in its environment (a cycle):
  # API Gateway hands it to the function in event.stageVariables instead.
  stage_variables       = { cdnBaseUrl = local.cdn_base_url }
  api_key_required      = var.api_key_required
  usage_plan            = var.usage_plan
  log_retention_in_days = var.log_retention_in_days

  # API Gateway's own answers (403 without the key, 429, 413, ...) can carry one fixed
  # Access-Control-Allow-Origin: the CDN's, which serves the web page, so that the page can read
  # them whatever other origins the stage allows. Those (a local page in dev) get CORS from the
  # api function on everything it answers (browser_origins); only these errors stay opaque.
  cors_allowed_origins = [local.cdn_base_url]

  account_logging_role_enabled = var.api_gateway_logging_role_enabled
}

# Every new original version fans out to one queue per GIF effect.
module "effects_fanout" {
  source = "../../modules/fanout"

  name            = "${var.name_prefix}-originals"
  bucket_name     = module.originals.bucket_name
  filter_prefix   = "originals/"
  alarm_topic_arn = var.alarm_topic_arn
  consumers = {
    for effect in var.gif_effects : effect => {
      function_name              = module.function["effect-${effect}"].function_name
      batch_size                 = 1
      max_receive_count          = local.max_receive_count
      visibility_timeout_seconds = local.effects_visibility_timeout
      maximum_concurrency        = local.sizing.effects.maximum_concurrency
    }
  }
}

# Direct uploads land in the uploads bucket; one queue feeds the uploads function.
module "uploads_pipeline" {
  source = "../../modules/fanout"

  name            = "${var.name_prefix}-uploads"
  bucket_name     = module.uploads.bucket_name
  filter_prefix   = "uploads/"
  topic_enabled   = false
  alarm_topic_arn = var.alarm_topic_arn
  consumers = {
    uploads = {
      function_name              = module.function["uploads"].function_name
      batch_size                 = 5
      max_receive_count          = local.max_receive_count
      visibility_timeout_seconds = local.uploads_visibility_timeout
      maximum_concurrency        = local.sizing.uploads.maximum_concurrency
    }
  }
}
