provider "aws" {
  region = "eu-west-1"
}

data "aws_region" "current" {}

# The function behind the routes: every operation of the document names it in
# x-imgsvc-function.
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "api" {
  name               = "imgsvc-example-api-${data.aws_region.current.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_lambda_function" "api" {
  function_name    = "imgsvc-example-api"
  role             = aws_iam_role.api.arn
  handler          = "handler.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  filename         = "${path.module}/fixtures/handler.zip"
  source_code_hash = filebase64sha256("${path.module}/fixtures/handler.zip")
}

module "api" {
  source = "../../"

  name = "imgsvc-example-api"
  # Within what API Gateway's import supports. In the service: "${path.root}/../../dist/openapi-apigateway.json",
  # which `make build` derives from openapi.yaml.
  openapi_spec = file("${path.module}/fixtures/openapi.yaml")
  functions = {
    api = { invoke_arn = aws_lambda_function.api.invoke_arn, function_name = aws_lambda_function.api.function_name }
  }

  api_key_required       = true
  usage_plan             = { quota_limit = 5000, quota_period = "DAY" }
  throttling_rate_limit  = 20
  throttling_burst_limit = 40
  # account_logging_role_enabled defaults to true: the account's CloudWatch role for API
  # Gateway's logs is set up here, as a fresh account needs (README: sharing the setting).
}
