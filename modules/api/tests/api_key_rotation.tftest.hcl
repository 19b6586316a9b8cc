# Rotating the API key (`make rotate-api-key`, docs/operations.md): `-replace` of the key makes a
# new key, and the usage plan follows it; an apply without it keeps the key. Same mocked provider
# and fixtures as api.tftest.hcl.

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

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      id            = "a1b2c3d4e5"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
    }
  }

  mock_resource "aws_api_gateway_stage" {
    defaults = {
      arn        = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/v1"
      invoke_url = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/imgsvc-test/v1/access"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-1"
    }
  }
}

variables {
  name         = "imgsvc-test"
  openapi_spec = file("tests/fixtures/openapi.yaml")
  functions = {
    api = {
      function_name = "imgsvc-test-api"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api/invocations"
    }
    resize = {
      function_name = "imgsvc-test-resize"
      invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-resize/invocations"
    }
  }
}

run "creates_the_key" {
  command = apply

  assert {
    condition     = output.api_key_id != null && output.api_key_value != null
    error_message = "The stage has an API key."
  }
}

run "an_apply_without_replace_keeps_the_key" {
  command = apply

  assert {
    condition     = output.api_key_id == run.creates_the_key.api_key_id
    error_message = "A plain apply must not change the API key."
  }
}

run "replace_makes_a_new_key_on_the_same_usage_plan" {
  command = apply

  plan_options {
    replace = [aws_api_gateway_api_key.this[0]]
  }

  assert {
    condition     = output.api_key_id != run.creates_the_key.api_key_id
    error_message = "-replace of aws_api_gateway_api_key.this[0] must make a new key."
  }

  assert {
    condition     = aws_api_gateway_usage_plan_key.this[0].key_id == output.api_key_id
    error_message = "The usage plan must hold the new key."
  }

  assert {
    condition     = aws_api_gateway_usage_plan_key.this[0].usage_plan_id == aws_api_gateway_usage_plan.this[0].id
    error_message = "The new key must be on the stage's usage plan."
  }
}
