# The Lambda functions: one package (dist/<name>.zip from build.py), handlers from the manifest,
# Pillow and friends from the shared layer. Each gets the environment variables its handler
# reads (lambda_src/imgsvc/config.py) and the IAM policy from iam.tf.

locals {
  sizing = var.functions
  # Attempts at a queued message before it goes to the dead-letter queue. The consumers read
  # it too (IMGSVC_MAX_RECEIVE_COUNT): on the last attempt they record the failure first.
  max_receive_count = 5
  # AWS recommends a queue's visibility timeout of 6x its function's timeout
  # (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
  effects_visibility_timeout = 6 * local.sizing.effects.timeout
  uploads_visibility_timeout = 6 * local.sizing.uploads.timeout
  # How long a queue keeps retrying one event (every receive, each up to its visibility
  # timeout), plus 16 minutes for the event's delivery and a racing commit. Past it the api
  # reports a GIF or an upload still pending as given up: its consumer died on the last receive
  # (a timeout or out of memory skips the code that records the failure) or the event never came.
  gif_retry_window    = local.max_receive_count * local.effects_visibility_timeout + 960
  upload_retry_window = local.max_receive_count * local.uploads_visibility_timeout + 960

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
    IMGSVC_RENDITION_SIZES   = join(",", [for side in var.rendition_sides : tostring(side)])
    POWERTOOLS_LOG_LEVEL     = var.log_level
    # The service's metrics (lambda_src/imgsvc/metrics.py): namespace and Stage dimension,
    # what monitoring.tf's dashboard searches for.
    POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    IMGSVC_STAGE                 = local.metrics_stage
    # Every function decodes images: api and uploads check new ones, resize and the effects
    # open the originals.
    IMGSVC_MAX_PIXELS = tostring(var.limits.max_pixels)
  }

  function_defaults = {
    runtime               = local.manifest.runtime
    architecture          = local.manifest.arch
    layers                = [aws_lambda_layer_version.dependencies.arn]
    log_retention_in_days = var.log_retention_in_days
  }

  # Every function but resize (below), by key: the function is named <name_prefix>-<key>.
  # `artifact` is its package in the manifest (every effect runs the effects package), `sizing`
  # its entry in var.functions, `environment` what it reads on top of common_environment.
  functions = merge(
    {
      api = {
        artifact    = "api"
        description = "Image service API: images, versions, uploads, GIF status."
        sizing      = local.sizing.api
        policy_json = data.aws_iam_policy_document.api.json
        environment = {
          IMGSVC_CDN_BASE_URL = local.cdn_base_url
          # DELETE /images/{id} invalidates the image's renditions and GIFs at the edges.
          IMGSVC_CDN_DISTRIBUTION_ID = module.cdn.distribution_id
          IMGSVC_CORS_ORIGINS        = join(",", local.browser_origins)
          # Images in request bodies, and the direct uploads' presigned forms.
          IMGSVC_MAX_BODY_BYTES     = tostring(var.limits.max_body_bytes)
          IMGSVC_MAX_UPLOAD_BYTES   = tostring(var.limits.max_upload_bytes)
          IMGSVC_UPLOAD_URL_EXPIRES = tostring(var.limits.upload_url_expires)
          # GET /images/{id}/gifs and GET /uploads/{id}: when pending has been given up on.
          IMGSVC_GIF_RETRY_WINDOW    = tostring(local.gif_retry_window)
          IMGSVC_UPLOAD_RETRY_WINDOW = tostring(local.upload_retry_window)
        }
      }
      uploads = {
        artifact    = "uploads"
        description = "Image service direct uploads: checks an uploaded file and stores it as an image."
        sizing      = local.sizing.uploads
        policy_json = data.aws_iam_policy_document.uploads.json
        environment = {
          IMGSVC_MAX_RECEIVE_COUNT = tostring(local.max_receive_count)
          # The presigned form (api) caps an upload's size, and this function reads no more.
          IMGSVC_MAX_UPLOAD_BYTES = tostring(var.limits.max_upload_bytes)
        }
      }
    },
    # One function per GIF effect, each draining its own queue.
    {
      for effect in var.gif_effects : "effect-${effect}" => {
        artifact    = "effects"
        description = "Image service GIF effect ${effect}: animates every new image version."
        sizing      = local.sizing.effects
        policy_json = data.aws_iam_policy_document.effects[effect].json
        environment = {
          IMGSVC_EFFECT            = effect
          IMGSVC_MAX_RECEIVE_COUNT = tostring(local.max_receive_count)
        }
      }
    },
  )
}

module "function" {
  source   = "../../modules/function"
  for_each = local.functions

  function_name    = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  handler          = local.manifest.functions[each.value.artifact].handler
  filename         = "${local.artifacts_dir}/${local.manifest.functions[each.value.artifact].zip}"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${local.manifest.functions[each.value.artifact].zip}")
  runtime          = local.function_defaults.runtime
  architecture     = local.function_defaults.architecture
  layers           = local.function_defaults.layers

  memory_size                    = each.value.sizing.memory_size
  timeout                        = each.value.sizing.timeout
  reserved_concurrent_executions = each.value.sizing.reserved_concurrent_executions
  account_concurrency_limit      = var.lambda_concurrency_limit
  log_retention_in_days          = local.function_defaults.log_retention_in_days

  policy_json           = each.value.policy_json
  environment_variables = merge(local.common_environment, each.value.environment)
}

# resize is its own call, not an entry of local.functions: the CDN's failover origin is its
# function URL, and the api function's environment names the CDN. Terraform orders a module
# call as a whole, not instance by instance, so one call holding both would be a dependency
# cycle (function -> CDN -> function).
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
  account_concurrency_limit      = var.lambda_concurrency_limit
  log_retention_in_days          = local.function_defaults.log_retention_in_days
  function_url_enabled           = true

  policy_json = data.aws_iam_policy_document.resize.json
  # No IMGSVC_CDN_BASE_URL: see stage_variables in main.tf.
  environment_variables = local.common_environment
}
