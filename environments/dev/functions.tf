# The Lambda functions: one package (dist/<name>.zip from build.py), handlers from the manifest,
# Pillow and friends from the shared layer. Each gets the environment variables its handler
# reads (lambda_src/imgsvc/config.py) and the IAM policy from iam.tf.

locals {
  sizing = var.functions
  # Attempts at a queued message before it goes to the dead-letter queue. The consumers read
  # it too (IMGSVC_MAX_RECEIVE_COUNT): on the last attempt they record the failure first.
  max_receive_count = 5

  common_environment = {
    IMGSVC_TABLE_NAME        = module.table.table_name
    IMGSVC_ORIGINALS_BUCKET  = module.originals.bucket_name
    IMGSVC_REPLICA_BUCKET    = module.originals.replica_bucket_name
    IMGSVC_REPLICA_REGION    = var.replica_region
    IMGSVC_RENDITIONS_BUCKET = module.renditions.bucket_name
    IMGSVC_UPLOADS_BUCKET    = module.uploads.bucket_name
    IMGSVC_GIF_EFFECTS       = join(",", var.gif_effects)
    IMGSVC_GIF_BOX           = tostring(var.gif_settings.box)
    IMGSVC_GIF_FRAMES        = tostring(var.gif_settings.frames)
    IMGSVC_GIF_FRAME_MS      = tostring(var.gif_settings.frame_ms)
    IMGSVC_AVIF_ENABLED      = tostring(var.avif_enabled)
    POWERTOOLS_LOG_LEVEL     = var.log_level
  }

  function_defaults = {
    runtime               = local.manifest.runtime
    architecture          = local.manifest.arch
    layers                = [aws_lambda_layer_version.dependencies.arn]
    log_retention_in_days = var.log_retention_in_days
  }
}

module "api_function" {
  source = "../../modules/function"

  function_name    = "${var.name_prefix}-api"
  description      = "Image service API: images, versions, uploads, GIF status."
  handler          = local.manifest.functions.api.handler
  filename         = "${local.artifacts_dir}/${local.manifest.functions.api.zip}"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${local.manifest.functions.api.zip}")
  runtime          = local.function_defaults.runtime
  architecture     = local.function_defaults.architecture
  layers           = local.function_defaults.layers

  memory_size                    = local.sizing.api.memory_size
  timeout                        = local.sizing.api.timeout
  reserved_concurrent_executions = local.sizing.api.reserved_concurrent_executions
  log_retention_in_days          = local.function_defaults.log_retention_in_days

  policy_json = data.aws_iam_policy_document.api.json
  environment_variables = merge(local.common_environment, {
    IMGSVC_CDN_BASE_URL = local.cdn_base_url
    IMGSVC_CORS_ORIGINS = join(",", local.browser_origins)
  })
}

# Both the API's /resize route and the CDN's failover origin (through its function URL).
module "resize" {
  source = "../../modules/function"

  function_name    = "${var.name_prefix}-resize"
  description      = "Image service renditions: makes a missing size, for the API and the CDN."
  handler          = local.manifest.functions.resize.handler
  filename         = "${local.artifacts_dir}/${local.manifest.functions.resize.zip}"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${local.manifest.functions.resize.zip}")
  runtime          = local.function_defaults.runtime
  architecture     = local.function_defaults.architecture
  layers           = local.function_defaults.layers

  memory_size                    = local.sizing.resize.memory_size
  timeout                        = local.sizing.resize.timeout
  reserved_concurrent_executions = local.sizing.resize.reserved_concurrent_executions
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  function_url_enabled           = true

  policy_json = data.aws_iam_policy_document.resize.json
  # No IMGSVC_CDN_BASE_URL: see stage_variables in main.tf.
  environment_variables = local.common_environment
}

module "uploads_function" {
  source = "../../modules/function"

  function_name    = "${var.name_prefix}-uploads"
  description      = "Image service direct uploads: checks an uploaded file and stores it as an image."
  handler          = local.manifest.functions.uploads.handler
  filename         = "${local.artifacts_dir}/${local.manifest.functions.uploads.zip}"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${local.manifest.functions.uploads.zip}")
  runtime          = local.function_defaults.runtime
  architecture     = local.function_defaults.architecture
  layers           = local.function_defaults.layers

  memory_size                    = local.sizing.uploads.memory_size
  timeout                        = local.sizing.uploads.timeout
  reserved_concurrent_executions = local.sizing.uploads.reserved_concurrent_executions
  log_retention_in_days          = local.function_defaults.log_retention_in_days

  policy_json = data.aws_iam_policy_document.uploads.json
  environment_variables = merge(local.common_environment, {
    IMGSVC_MAX_RECEIVE_COUNT = tostring(local.max_receive_count)
  })
}

# One function per GIF effect, each draining its own queue.
module "effects" {
  source   = "../../modules/function"
  for_each = toset(var.gif_effects)

  function_name    = "${var.name_prefix}-effect-${each.key}"
  description      = "Image service GIF effect ${each.key}: animates every new image version."
  handler          = local.manifest.functions.effects.handler
  filename         = "${local.artifacts_dir}/${local.manifest.functions.effects.zip}"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${local.manifest.functions.effects.zip}")
  runtime          = local.function_defaults.runtime
  architecture     = local.function_defaults.architecture
  layers           = local.function_defaults.layers

  memory_size                    = local.sizing.effects.memory_size
  timeout                        = local.sizing.effects.timeout
  reserved_concurrent_executions = local.sizing.effects.reserved_concurrent_executions
  log_retention_in_days          = local.function_defaults.log_retention_in_days

  policy_json = data.aws_iam_policy_document.effects[each.key].json
  environment_variables = merge(local.common_environment, {
    IMGSVC_EFFECT            = each.key
    IMGSVC_MAX_RECEIVE_COUNT = tostring(local.max_receive_count)
  })
}
