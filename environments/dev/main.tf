# The development stage: the image service's composition (environments/stack) with this stage's
# settings. Throwaway data, small quotas. Every setting, its default and what it allows is in
# environments/stack/variables.tf.

locals {
  name_prefix    = "imgsvc-dev"
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

  # Per deployment, from dev.tfvars (variables.tf).
  alarm_topic_arn     = var.alarm_topic_arn
  cdn_alarm_topic_arn = var.cdn_alarm_topic_arn
  limits              = var.limits
  cdn_domain          = var.cdn_domain
  cdn_web_acl_arn     = var.cdn_web_acl_arn
  cdn_access_logs     = var.cdn_access_logs

  # The page served by `make run` may call the dev API too.
  cors_origins = ["http://127.0.0.1:8080", "http://localhost:8080"]

  # An account setting (API Gateway's logging role): per deployment, in dev.tfvars.
  api_gateway_logging_role_enabled = var.api_gateway_logging_role_enabled

  deletion_protection_enabled = false
  force_destroy               = true
  log_level                   = "DEBUG"
  log_retention_in_days       = 14

  # Origin Shield stays off (the stack's default): a dev stage's few requests come from few
  # edges, and each request through the shield is charged. No reserved concurrency either: a
  # new account's limit may be too low to reserve any (AWS keeps 100 unreserved).

  usage_plan = {
    quota_limit          = 2000
    throttle_rate_limit  = 5
    throttle_burst_limit = 10
  }
}
