# Production stage: data is kept (deletion protection on, no force_destroy).
name_prefix    = "imgsvc-prod"
region         = "eu-west-1"
replica_region = "eu-central-1"

# The API Gateway logging role is an account setting, owned by dev in the same account and
# region. Deploying prod to its own account (recommended)? Set this to true there.
api_gateway_logging_role_enabled = false

deletion_protection_enabled = true
force_destroy               = false
log_level                   = "INFO"
log_retention_in_days       = 90

usage_plan = {
  quota_limit          = 100000
  throttle_rate_limit  = 50
  throttle_burst_limit = 100
}

# Reserve concurrency for the API once the account's limit allows it (AWS keeps 100 unreserved),
# so a burst of GIF work cannot starve it:
# functions = {
#   api = { reserved_concurrent_executions = 50 }
# }
