# Properties of the function module, planned and applied against a mocked AWS provider.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/imgsvc-test-api"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/imgsvc-test-api"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api"
      qualified_arn = "arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api:$LATEST"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api/invocations"
    }
  }

  mock_resource "aws_lambda_function_url" {
    defaults = {
      function_url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
    }
  }
}

variables {
  function_name = "imgsvc-test-api"
  handler       = "imgsvc.handlers.api.handler"
  filename      = "tests/fixtures/handler.zip"
}

run "defaults_are_arm64_python312_traced_with_30_day_logs" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The default architecture must be arm64."
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12"
    error_message = "The default runtime must be python3.12."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "The log group must keep logs 30 days by default."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/imgsvc-test-api"
    error_message = "The log group must be the one Lambda writes to: /aws/lambda/<function_name>."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "X-Ray tracing must be off by default (README: Tracing)."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "No concurrency must be reserved unless asked for."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/handler.zip")
    error_message = "Without source_code_hash the module must hash the artifact itself."
  }

  assert {
    condition     = length(aws_lambda_function_url.this) == 0 && output.function_url == null
    error_message = "No function URL unless function_url_enabled."
  }

  assert {
    condition     = length(aws_lambda_function.this.environment) == 0
    error_message = "An empty environment map must not create an environment block."
  }
}

# IAM is global, Lambda regional: the same stack in two regions of one account gets two roles.
run "role_name_carries_the_region" {
  command = plan

  assert {
    condition     = aws_iam_role.this.name == "imgsvc-test-api-eu-west-1"
    error_message = "The role is named <function>-<region>, so the same function in another region gets its own."
  }
}

run "role_name_of_a_long_function_name_fits_iams_64_characters" {
  command = plan

  variables {
    function_name = "imgsvc-a-very-long-stage-name-for-testing-effect-zoom-function1"
  }

  assert {
    condition     = length(aws_iam_role.this.name) <= 64 && endswith(aws_iam_role.this.name, "-eu-west-1") && aws_iam_role.this.name != "imgsvc-a-very-long-stage-name-for-testing-effect-zoom-function1"
    error_message = "A role name over 64 characters keeps the region and a hash of the function name."
  }
}

run "role_is_assumable_by_lambda_only" {
  command = plan

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.assume_role.statement :
      s.actions == toset(["sts:AssumeRole"]) && alltrue([
        for p in s.principals : p.type == "Service" && p.identifiers == toset(["lambda.amazonaws.com"])
      ])
    ])
    error_message = "Only the Lambda service may assume the function's role."
  }
}

run "role_policy_is_least_privilege" {
  command = apply

  variables {
    policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadOriginals\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::originals/*\"}]}"
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement :
      !(contains(s.actions, "*") && contains(s.resources, "*"))
    ])
    error_message = "No statement may allow \"*\" actions on \"*\"."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.this.statement : [for a in s.actions : !endswith(a, "*")]
    ]))
    error_message = "Every action must be named: no service-wide wildcards such as logs:*."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "WriteOwnLogs"
    ]) == toset(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/imgsvc-test-api:*"])
    error_message = "Log writes must be scoped to the function's own log group."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.this.statement : s.actions if s.sid == "WriteOwnLogs"
    ]) == toset(["logs:CreateLogStream", "logs:PutLogEvents"])
    error_message = "The function may only create streams and put events (the module creates the log group)."
  }

  assert {
    condition     = data.aws_iam_policy_document.this.source_policy_documents == tolist([var.policy_json])
    error_message = "The caller's policy_json must be merged into the role's policy."
  }

  assert {
    condition     = aws_iam_role_policy.this.role == aws_iam_role.this.id && aws_lambda_function.this.role == aws_iam_role.this.arn
    error_message = "The inline policy must be attached to the function's own role."
  }
}

run "tracing_off_by_default_without_the_xray_statement" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.this.statement : s if s.sid == "WriteTraces"]) == 0
    error_message = "Without tracing the role must not be allowed to write traces."
  }
}

run "tracing_on_adds_the_xray_statement" {
  command = plan

  variables {
    tracing_enabled = true
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "tracing_enabled = true must turn active tracing on."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.this.statement : s if s.sid == "WriteTraces"]) == 1
    error_message = "With tracing the role must be allowed to write traces."
  }
}

run "caller_settings_are_applied" {
  command = apply

  variables {
    architecture                   = "x86_64"
    runtime                        = "python3.13"
    memory_size                    = 1536
    timeout                        = 60
    reserved_concurrent_executions = 10
    log_retention_in_days          = 7
    layers                         = ["arn:aws:lambda:eu-west-1:123456789012:layer:imgsvc-deps:3"]
    environment_variables          = { IMGSVC_TABLE_NAME = "images" }
    source_code_hash               = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    function_url_enabled           = true
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.runtime == "python3.13"
    error_message = "architecture and runtime must be passed through."
  }

  assert {
    condition     = aws_lambda_function.this.memory_size == 1536 && aws_lambda_function.this.timeout == 60
    error_message = "memory_size and timeout must be passed through."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 10
    error_message = "reserved_concurrent_executions must be passed through."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 7
    error_message = "log_retention_in_days must be passed through."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ IMGSVC_TABLE_NAME = "images" })
    error_message = "environment_variables must reach the function."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    error_message = "A given source_code_hash must be used as is."
  }

  assert {
    condition     = aws_lambda_function_url.this[0].authorization_type == "AWS_IAM" && aws_lambda_function_url.this[0].invoke_mode == "BUFFERED"
    error_message = "The function URL must require IAM (CloudFront OAC signs) and buffer responses."
  }

  assert {
    condition     = output.function_url == "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
    error_message = "function_url must be output when enabled."
  }

  assert {
    condition     = output.function_invoke_arn == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api/invocations"
    error_message = "function_invoke_arn must be the function's invoke ARN."
  }
}

run "missing_artifact_fails_the_plan" {
  command = plan

  variables {
    filename = "tests/fixtures/not-built.zip"
  }

  expect_failures = [var.filename]
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    architecture = "arm32"
  }

  expect_failures = [var.architecture]
}

run "rejects_unsupported_runtime" {
  command = plan

  variables {
    runtime = "python3.9"
  }

  expect_failures = [var.runtime]
}

run "rejects_memory_below_128" {
  command = plan

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}

run "rejects_memory_above_10240" {
  command = plan

  variables {
    memory_size = 10241
  }

  expect_failures = [var.memory_size]
}

run "rejects_timeout_above_900" {
  command = plan

  variables {
    timeout = 901
  }

  expect_failures = [var.timeout]
}

run "rejects_timeout_of_zero" {
  command = plan

  variables {
    timeout = 0
  }

  expect_failures = [var.timeout]
}

run "rejects_retention_cloudwatch_does_not_offer" {
  command = plan

  variables {
    log_retention_in_days = 31
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_reserved_environment_variable" {
  command = plan

  variables {
    environment_variables = { AWS_REGION = "eu-west-1" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_negative_reserved_concurrency" {
  command = plan

  variables {
    reserved_concurrent_executions = -1
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_a_reservation_leaving_fewer_than_100_unreserved" {
  command = plan

  variables {
    reserved_concurrent_executions = 901
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_any_reservation_in_an_account_with_a_quota_of_100_or_less" {
  command = plan

  variables {
    account_concurrency_limit      = 100
    reserved_concurrent_executions = 1
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "accepts_a_reservation_leaving_exactly_100_unreserved" {
  command = plan

  variables {
    account_concurrency_limit      = 150
    reserved_concurrent_executions = 50
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 50
    error_message = "A reservation leaving 100 unreserved is allowed."
  }
}

run "rejects_a_bad_layer_arn" {
  command = plan

  variables {
    layers = ["imgsvc-deps"]
  }

  expect_failures = [var.layers]
}
