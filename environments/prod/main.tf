# The production stage: the image service's composition (environments/stack) with this stage's
# settings. Data is kept (deletion protection on, no force_destroy). Every setting, its default
# and what it allows is in environments/stack/variables.tf.

locals {
  name_prefix    = "imgsvc-prod"
  region         = "eu-west-1"
  replica_region = "eu-central-1"
  # On every resource, through the providers' default_tags.
  tags = { Project = "imgsvc", Stage = local.name_prefix }
}

module "stack" {
  source = "../stack"
  providers = {
    aws           = aws
    aws.replica   = aws.replica
    aws.us_east_1 = aws.us_east_1
  }

  name_prefix             = local.name_prefix
  region                  = local.region
  replica_region          = local.replica_region
  artifacts_dir           = var.artifacts_dir
  cdn_wait_for_deployment = var.cdn_wait_for_deployment

  # Per deployment, from prod.tfvars (variables.tf).
  alarm_topic_arn     = var.alarm_topic_arn
  cdn_alarm_topic_arn = var.cdn_alarm_topic_arn
  limits              = var.limits
  cdn_domain          = var.cdn_domain
  cdn_web_acl_arn     = var.cdn_web_acl_arn
  cdn_access_logs     = var.cdn_access_logs

  # An account setting (API Gateway's logging role): per deployment, in prod.tfvars.
  api_gateway_logging_role_enabled = var.api_gateway_logging_role_enabled

  deletion_protection_enabled = true
  force_destroy               = false
  log_level                   = "INFO"
  log_retention_in_days       = 90

  usage_plan = {
    quota_limit          = 100000
    throttle_rate_limit  = 50
    throttle_burst_limit = 100
  }

  # Origin Shield stays off (the stack's default), in prod too: a rendition is made once and
  # then kept in S3, so what the shield would answer is mostly an S3 GET, which costs less than
  # the shield's own request, and the simulation finds almost no duplicate makes to save
  # (docs/cost-and-scale.md). Turn it on ({ enabled = true }: this region has one) to take
  # load off the renditions bucket, e.g. with cdn_price_class = "PriceClass_All".

  # The resize function is capped at 200 concurrent instances: a cold cache after a big launch
  # then gets 429s for renditions (CloudFront caches none of them) instead of taking the
  # account's other functions down with it. 200 is over 60x the large example site's busiest
  # second on a steady day, and under a third of its first second after a cold launch
  # (docs/cost-and-scale.md, `python -m bench simulate --cap N`). It also reserves them, so
  # the account needs a concurrency limit of at least 300 (AWS keeps 100 unreserved). The
  # queue consumers are capped by their event sources instead (functions.*.maximum_concurrency,
  # 20 by default), which reserves nothing. Reserve some for the API too once the account's
  # limit allows it:
  #   api = { reserved_concurrent_executions = 50 }
  functions = {
    resize = { reserved_concurrent_executions = 200 }
  }
}
