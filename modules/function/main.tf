data "aws_partition" "current" {}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.${data.aws_partition.current.dns_suffix}"]
    }
  }
}

data "aws_region" "current" {}

locals {
  # IAM is global to the account, Lambda is regional: the same function name in two regions of
  # one account (a stage deployed twice, or a second region) needs two roles. The region goes
  # into the name; when that is over IAM's 64 characters, a hash of the whole function name
  # keeps it unique.
  role_name_full = "${var.function_name}-${data.aws_region.current.name}"
  role_name = length(local.role_name_full) <= 64 ? local.role_name_full : format(
    "%s-%s-%s",
    substr(var.function_name, 0, 64 - length(data.aws_region.current.name) - 10),
    substr(sha1(var.function_name), 0, 8),
    data.aws_region.current.name,
  )
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Execution role of the ${var.function_name} Lambda function."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn
  tags                 = var.tags

  # A role name change (roles used to be named after the function alone) replaces the role: the
  # new one and its policy exist before the function switches to it, so no invocation runs
  # without permissions; then the old one goes.
  lifecycle {
    create_before_destroy = true
  }
}

# The role's only policy: the caller's statements plus writing to this function's own log group
# (and X-Ray when tracing). No managed policies: AWSLambdaBasicExecutionRole allows logs on "*".
data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []

    content {
      sid = "WriteTraces"
      # X-Ray's write actions have no resource-level permissions: "*" is the only resource.
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json

  # With the role (above): the old role keeps its policy until the function has switched.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days) chosen per stage; a year of debug logs is cost without use.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:No dead-letter queue: API and function-URL calls are synchronous and SQS consumers use their queue's redrive policy.
  #checkov:skip=CKV_AWS_117:No VPC: the functions only call AWS APIs (S3, DynamoDB, SNS, SQS) and a VPC would add NAT cost and cold-start time.
  #checkov:skip=CKV_AWS_50:X-Ray is off by default (tracing_enabled): the code emits no traces, and the SDK that would doubles a cold start (README, Tracing).
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  filename                       = var.filename
  source_code_hash               = coalesce(var.source_code_hash, filebase64sha256(var.filename))
  layers                         = var.layers
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = coalesce(var.reserved_concurrent_executions, -1)
  publish                        = var.publish
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn
  tags                           = var.tags

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [1] : []

    content {
      variables = var.environment_variables
    }
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  # The log group must exist (with its retention) before the first invocation, or Lambda would
  # create it with infinite retention; the role policy must exist before the first log write.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_function_url" "this" {
  count = var.function_url_enabled ? 1 : 0

  function_name      = aws_lambda_function.this.function_name
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED"
}
