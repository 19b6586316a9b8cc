data "aws_partition" "current" {}

data "aws_caller_identity" "current" {
  count = var.account_logging_role_enabled ? 1 : 0
}

locals {
  spec         = yamldecode(var.openapi_spec)
  http_methods = ["get", "put", "post", "delete", "patch", "head", "options"]

  integrations = {
    for key, fn in var.functions : key => {
      type                = "aws_proxy"
      httpMethod          = "POST"
      uri                 = fn.invoke_arn
      passthroughBehavior = "when_no_match"
      timeoutInMillis     = var.integration_timeout_ms
    }
  }

  # CORS preflight: browsers never send an API key with it, and the api function answers it
  # (Powertools CORS, origins from IMGSVC_CORS_ORIGINS).
  preflight = {
    summary                           = "CORS preflight, answered by the api function."
    responses                         = { "204" = { description = "The allowed methods, headers and origin." } }
    "x-amazon-apigateway-integration" = local.integrations["api"]
  }

  # Every operation is made self-contained: the path item's shared parameters move into each
  # operation (same meaning in OpenAPI), x-imgsvc-function becomes the integration, security is
  # dropped when no key is required, and each path gets an OPTIONS operation.
  paths = {
    for path, item in local.spec.paths : path => merge(
      {
        for method, op in item : method => merge(
          {
            for key, value in op : key => value
            if key != "x-imgsvc-function" && key != "parameters" && (key != "security" || var.api_key_required)
          },
          length(concat(try(item.parameters, []), try(op.parameters, []))) == 0 ? {} : {
            parameters = concat(try(item.parameters, []), try(op.parameters, []))
          },
          { "x-amazon-apigateway-integration" = local.integrations[op["x-imgsvc-function"]] },
        ) if contains(local.http_methods, method)
      },
      {
        for method in ["options"] : method => merge(
          local.preflight,
          length(try(item.parameters, [])) == 0 ? {} : { parameters = item.parameters },
        ) if !contains(keys(item), method)
      },
    )
  }

  # The document API Gateway imports: the spec with the routes above, the API's name, no local
  # servers list (the stage is the server), the binary types, the key source and API Gateway's
  # own error responses.
  body = jsonencode(merge(
    { for key, value in local.spec : key => value if !contains(["paths", "servers", "security", "info"], key) },
    var.api_key_required ? { for key, value in local.spec : key => value if key == "security" } : {},
    {
      info                                     = merge(local.spec.info, { title = var.name })
      paths                                    = local.paths
      "x-amazon-apigateway-binary-media-types" = var.binary_media_types
      "x-amazon-apigateway-api-key-source"     = "HEADER"
      "x-amazon-apigateway-gateway-responses"  = local.gateway_responses_extension
    },
  ))

  # API Gateway's own answers (no route, bad key, throttled, Lambda failed) in the service's
  # error shape: {"error": {"code": "...", "message": "..."}}. messageString is the JSON-quoted
  # message API Gateway generated. Not REQUEST_TOO_LARGE (a body over 10 MB): "Customization of
  # the 413 REQUEST_TOO_LARGE gateway response isn't currently supported" (API Gateway developer
  # guide, "Gateway response types"), so a template for it would only promise what AWS ignores;
  # the service's limits are in docs/api-limits.md.
  gateway_responses = {
    DEFAULT_4XX = {
      status_code = null
      code        = "bad_request"
      message     = "$context.error.messageString"
    }
    DEFAULT_5XX = {
      status_code = null
      code        = "internal_error"
      message     = "$context.error.messageString"
    }
    MISSING_AUTHENTICATION_TOKEN = {
      # What API Gateway answers for a path or method the API does not have.
      status_code = "404"
      code        = "not_found"
      message     = jsonencode("No such route. The OpenAPI document lists the paths and methods.")
    }
    INVALID_API_KEY = {
      status_code = "403"
      code        = "forbidden"
      message     = jsonencode("This operation needs a valid API key in the x-api-key header.")
    }
    THROTTLED = {
      status_code = "429"
      code        = "too_many_requests"
      message     = jsonencode("Too many requests: retry after a short wait.")
    }
    QUOTA_EXCEEDED = {
      status_code = "429"
      code        = "quota_exceeded"
      message     = jsonencode("The API key's quota for this period is used up.")
    }
    INTEGRATION_TIMEOUT = {
      status_code = "504"
      code        = "timeout"
      message     = jsonencode("The service took too long to answer; retry the request.")
    }
  }

  cors_origin_header = length(var.cors_allowed_origins) == 1 ? {
    "gatewayresponse.header.Access-Control-Allow-Origin" = "'${var.cors_allowed_origins[0]}'"
  } : {}

  # The responses live in the document, not in aws_api_gateway_gateway_response resources: an
  # import in overwrite mode replaces the whole API definition, gateway responses included, so
  # separately managed ones would be reset to API Gateway's defaults by every change of the
  # document (and the deployment taken right after would serve the defaults).
  gateway_responses_extension = {
    for type, r in local.gateway_responses : type => merge(
      r.status_code == null ? {} : { statusCode = r.status_code },
      length(local.cors_origin_header) == 0 ? {} : { responseParameters = local.cors_origin_header },
      {
        responseTemplates = {
          "application/json" = format("{\"error\":{\"code\":%s,\"message\":%s}}", jsonencode(r.code), r.message)
        }
      },
    )
  }

  access_log_format = {
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    sourceIp           = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    apiKeyId           = "$context.identity.apiKeyId"
    httpMethod         = "$context.httpMethod"
    resourcePath       = "$context.resourcePath"
    path               = "$context.path"
    protocol           = "$context.protocol"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationStatus  = "$context.integration.status"
    integrationLatency = "$context.integration.latency"
    errorType          = "$context.error.responseType"
    errorMessage       = "$context.error.message"
    xrayTraceId        = "$context.xrayTraceId"
  }
}

resource "aws_api_gateway_rest_api" "this" {
  name              = var.name
  description       = var.description
  body              = local.body
  put_rest_api_mode = "overwrite"
  # A warning means API Gateway ignored part of the document (an unsupported form, a missing
  # model): fail the import, and the apply, rather than change the API silently (AWS: "Errors
  # and warnings during import").
  fail_on_warnings = true
  tags             = var.tags

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Gateway responses used to be resources of their own; they are in the document now (see
# gateway_responses_extension). Forget them without deleting: deleting would reset them on the
# API, racing the import that sets them.
removed {
  from = aws_api_gateway_gateway_response.this

  lifecycle {
    destroy = false
  }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Routes from the OpenAPI document, sha1 ${sha1(local.body)}"

  # A deployment is a snapshot: take a new one whenever the document (routes and API Gateway's
  # own error responses) changes.
  # Hash the configuration, not attributes read back from AWS (those can change on refresh and
  # would redeploy on every apply).
  triggers = {
    redeployment = sha1(local.body)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days) chosen per stage.
  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# API Gateway writes execution logs to this fixed name; creating it first gives it a retention
# instead of the infinite one API Gateway would create.
resource "aws_cloudwatch_log_group" "execution" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days) chosen per stage.
  count = var.execution_logging_level == "OFF" ? 0 : 1

  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120:No response caching: responses are per image and per key, and renditions are cached by CloudFront.
  #checkov:skip=CKV2_AWS_51:Clients authenticate with API keys over TLS; the integrations are Lambda, not HTTP backends needing a client certificate.
  #checkov:skip=CKV2_AWS_29:WAF is attached by the environment (aws_wafv2_web_acl_association on stage_arn) where wanted.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  description          = "Stage ${var.stage_name} of ${var.name}"
  xray_tracing_enabled = var.xray_tracing_enabled
  variables            = var.stage_variables
  tags                 = var.tags

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = jsonencode(local.access_log_format)
  }

  # Logging needs the account's CloudWatch role in place, and the log groups with their retention.
  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "this" {
  #checkov:skip=CKV_AWS_225:No response caching: see the stage.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = var.metrics_enabled
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false # would log request and response bodies: images and keys
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    caching_enabled        = false
  }
}

resource "aws_lambda_permission" "this" {
  for_each = var.functions

  statement_id  = "AllowApiGateway-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  principal     = "apigateway.amazonaws.com"
  # This API's stage only: <execution arn>/<stage>/<method>/<path>.
  source_arn = "${aws_api_gateway_rest_api.this.execution_arn}/${var.stage_name}/*/*"
}

resource "aws_api_gateway_api_key" "this" {
  count = var.api_key_required ? 1 : 0

  name        = var.name
  description = "Key for the write operations of ${var.name}."
  enabled     = true
  tags        = var.tags
}

resource "aws_api_gateway_usage_plan" "this" {
  count = var.api_key_required ? 1 : 0

  name        = var.name
  description = "Quota and throttling of the ${var.name} API key."
  tags        = var.tags

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  quota_settings {
    limit  = var.usage_plan.quota_limit
    period = var.usage_plan.quota_period
  }

  throttle_settings {
    rate_limit  = var.usage_plan.throttle_rate_limit
    burst_limit = var.usage_plan.throttle_burst_limit
  }
}

resource "aws_api_gateway_usage_plan_key" "this" {
  count = var.api_key_required ? 1 : 0

  key_id        = aws_api_gateway_api_key.this[0].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this[0].id
}

# Account-wide (one per region): the role API Gateway writes access and execution logs with.
data "aws_iam_policy_document" "account_logging_assume" {
  count = var.account_logging_role_enabled ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.${data.aws_partition.current.dns_suffix}"]
    }
  }
}

resource "aws_iam_role" "account_logging" {
  count = var.account_logging_role_enabled ? 1 : 0

  name_prefix        = "apigateway-cloudwatch-"
  description        = "Lets API Gateway write access and execution logs (account setting)."
  assume_role_policy = data.aws_iam_policy_document.account_logging_assume[0].json
  tags               = var.tags
}

# What AmazonAPIGatewayPushToCloudWatchLogs grants minus reading logs back. The role serves every
# API of the account and region, and execution log groups are named by API Gateway: the
# resource is every log group of the account.
data "aws_iam_policy_document" "account_logging" {
  count = var.account_logging_role_enabled ? 1 : 0

  statement {
    sid = "WriteApiGatewayLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:logs:*:${data.aws_caller_identity.current[0].account_id}:*"]
  }
}

resource "aws_iam_role_policy" "account_logging" {
  count = var.account_logging_role_enabled ? 1 : 0

  name   = "write-logs"
  role   = aws_iam_role.account_logging[0].id
  policy = data.aws_iam_policy_document.account_logging[0].json
}

resource "aws_api_gateway_account" "this" {
  count = var.account_logging_role_enabled ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.account_logging[0].arn

  depends_on = [aws_iam_role_policy.account_logging]
}
