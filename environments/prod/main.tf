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
    aws         = aws
    aws.replica = aws.replica
  }

  name_prefix             = local.name_prefix
  region                  = local.region
  replica_region          = local.replica_region
  artifacts_dir           = var.artifacts_dir
  cdn_wait_for_deployment = var.cdn_wait_for_deployment

  # Per deployment, from prod.tfvars (variables.tf).
  alarm_topic_arn = var.alarm_topic_arn
  limits          = var.limits
  cdn_domain      = var.cdn_domain
  cdn_web_acl_arn = var.cdn_web_acl_arn
  cdn_access_logs = var.cdn_access_logs

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

  # Reserve concurrency for the API once the account's limit allows it (AWS keeps 100
  # unreserved), so a burst of GIF work cannot starve it:
  # functions = {
  #   api = { reserved_concurrent_executions = 50 }
  # }
}
