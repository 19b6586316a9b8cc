# Properties of the api module against a mocked AWS provider, with a slice of the service's
# OpenAPI document (tests/fixtures/openapi.yaml: the module's tests need nothing outside the
# module) and a small inline one.

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

run "every_operation_is_integrated_with_the_function_it_names" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for path, item in yamldecode(file("tests/fixtures/openapi.yaml")).paths : [
        for method, op in item : (
          jsondecode(aws_api_gateway_rest_api.this.body).paths[path][method]["x-amazon-apigateway-integration"].uri
          == var.functions[op["x-imgsvc-function"]].invoke_arn
        ) if method != "parameters"
      ]
    ]))
    error_message = "Every OpenAPI operation must be integrated with the invoke ARN of its x-imgsvc-function."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body).paths["/resize/{size}/{id}"].get["x-amazon-apigateway-integration"].uri == var.functions.resize.invoke_arn
    error_message = "GET /resize/{size}/{id} must invoke the resize function."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body).paths["/images"].post["x-amazon-apigateway-integration"].uri == var.functions.api.invoke_arn
    error_message = "POST /images must invoke the api function."
  }

  assert {
    condition = alltrue(flatten([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths : [
        for method, op in item : (
          op["x-amazon-apigateway-integration"].type == "aws_proxy" &&
          op["x-amazon-apigateway-integration"].httpMethod == "POST"
        )
      ]
    ]))
    error_message = "Every integration must be a Lambda proxy (aws_proxy, POST)."
  }

  assert {
    condition = length(flatten([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths : [
        for method, op in item : method if contains(keys(op), "x-imgsvc-function")
      ]
    ])) == 0
    error_message = "x-imgsvc-function is the module's input, not something to send to API Gateway."
  }
}

run "every_path_has_a_preflight_route_to_the_api_function" {
  command = plan

  assert {
    condition = alltrue([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths :
      item.options["x-amazon-apigateway-integration"].uri == var.functions.api.invoke_arn && !contains(keys(item.options), "security")
    ])
    error_message = "Every path must have an OPTIONS route, without an API key, to the api function."
  }

  assert {
    condition = (
      keys(jsondecode(aws_api_gateway_rest_api.this.body).paths) ==
      keys(yamldecode(file("tests/fixtures/openapi.yaml")).paths)
    )
    error_message = "The API must have exactly the spec's paths."
  }
}

run "path_parameters_reach_every_operation" {
  command = plan

  assert {
    condition = alltrue([
      for method in ["get", "put", "delete", "options"] :
      contains([for p in jsondecode(aws_api_gateway_rest_api.this.body).paths["/images/{id}"][method].parameters : "${p.in}:${p.name}:${p.required}"], "path:id:true")
    ])
    error_message = "The path item's parameters must apply to each of its operations."
  }

  assert {
    condition = alltrue([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths : !contains(keys(item), "parameters")
    ])
    error_message = "Parameters must live in the operations only."
  }

  assert {
    condition     = length(jsondecode(aws_api_gateway_rest_api.this.body).paths["/images/{id}"].put.parameters) == 2
    error_message = "An operation keeps its own parameters besides the shared ones (PUT /images/{id}: id and name)."
  }
}

run "api_key_only_on_write_methods_when_required" {
  command = plan

  assert {
    condition = toset(flatten([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths : [
        for method, op in item : "${upper(method)} ${path}" if contains(keys(op), "security")
      ]
    ])) == toset(["POST /images", "PUT /images/{id}", "DELETE /images/{id}", "POST /uploads"])
    error_message = "Exactly the write operations must require the API key."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-api-key-source"] == "HEADER"
    error_message = "The API key must come from the x-api-key header."
  }

  assert {
    condition     = length(aws_api_gateway_api_key.this) == 1 && length(aws_api_gateway_usage_plan.this) == 1 && length(aws_api_gateway_usage_plan_key.this) == 1
    error_message = "A required key needs the key, a usage plan and the plan's key binding."
  }

  assert {
    condition     = [for s in aws_api_gateway_usage_plan.this[0].api_stages : s.stage] == ["v1"]
    error_message = "The usage plan must be bound to the stage."
  }

  assert {
    condition     = aws_api_gateway_usage_plan.this[0].quota_settings[0].limit == 10000 && aws_api_gateway_usage_plan.this[0].quota_settings[0].period == "DAY"
    error_message = "The usage plan must carry the default quota."
  }
}

run "no_api_key_anywhere_when_not_required" {
  command = plan

  variables {
    api_key_required = false
  }

  assert {
    condition = length(flatten([
      for path, item in jsondecode(aws_api_gateway_rest_api.this.body).paths : [
        for method, op in item : method if contains(keys(op), "security")
      ]
    ])) == 0
    error_message = "Without a required key no operation may carry security."
  }

  assert {
    condition     = length(aws_api_gateway_api_key.this) == 0 && length(aws_api_gateway_usage_plan.this) == 0
    error_message = "No API key or usage plan when no key is required."
  }
}

run "outputs_without_api_key" {
  command = apply

  variables {
    api_key_required = false
  }

  assert {
    condition     = output.api_key_id == null && output.api_key_value == null
    error_message = "api_key_id and api_key_value must be null without a key."
  }

  assert {
    condition     = output.stage_invoke_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"
    error_message = "stage_invoke_url must be the stage's base URL without a trailing slash."
  }
}

run "binary_media_types_and_regional_endpoint" {
  command = plan

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-binary-media-types"] == ["image/*", "multipart/form-data", "application/octet-stream"]
    error_message = "Images and multipart bodies must reach Lambda as base64, and nothing else by default."
  }

  assert {
    condition     = aws_api_gateway_rest_api.this.endpoint_configuration[0].types == tolist(["REGIONAL"])
    error_message = "The API must be regional (CloudFront sits in front of the renditions, not the API)."
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_api_gateway_rest_api.this.body)), "servers")
    error_message = "The local mode's servers list must not reach API Gateway."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body).info.title == "imgsvc-test"
    error_message = "The document's title must be the API's name."
  }
}

run "stage_is_throttled_logged_and_traced" {
  command = apply

  assert {
    condition     = aws_api_gateway_method_settings.this.method_path == "*/*"
    error_message = "Method settings must cover every method."
  }

  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].throttling_rate_limit == 50 && aws_api_gateway_method_settings.this.settings[0].throttling_burst_limit == 100
    error_message = "The stage must be throttled with the default rate and burst."
  }

  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].metrics_enabled && !aws_api_gateway_method_settings.this.settings[0].data_trace_enabled
    error_message = "Metrics on, and request/response bodies never logged."
  }

  assert {
    condition     = aws_api_gateway_stage.this.xray_tracing_enabled
    error_message = "X-Ray must be on by default."
  }

  assert {
    condition     = aws_api_gateway_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn
    error_message = "Access logs must go to the module's log group."
  }

  assert {
    condition     = can(jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).requestId)
    error_message = "Access logs must be JSON with the request id."
  }

  assert {
    condition     = aws_cloudwatch_log_group.access.retention_in_days == 30 && aws_cloudwatch_log_group.execution[0].retention_in_days == 30
    error_message = "The access and execution log groups must keep 30 days by default."
  }

  assert {
    condition     = aws_cloudwatch_log_group.execution[0].name == "API-Gateway-Execution-Logs_a1b2c3d4e5/v1"
    error_message = "The execution log group must be the one API Gateway writes to."
  }
}

run "custom_throttling" {
  command = plan

  variables {
    throttling_rate_limit  = 5
    throttling_burst_limit = 10
  }

  assert {
    condition     = aws_api_gateway_method_settings.this.settings[0].throttling_rate_limit == 5 && aws_api_gateway_method_settings.this.settings[0].throttling_burst_limit == 10
    error_message = "Throttling variables must reach the method settings."
  }
}

run "stage_variables_reach_the_stage" {
  command = plan

  variables {
    stage_variables = { cdnBaseUrl = "https://d111111abcdef8.cloudfront.net" }
  }

  assert {
    condition     = aws_api_gateway_stage.this.variables == tomap({ cdnBaseUrl = "https://d111111abcdef8.cloudfront.net" })
    error_message = "Stage variables must be set on the stage."
  }
}

run "rejects_a_stage_variable_value_api_gateway_refuses" {
  command = plan

  variables {
    stage_variables = { cdnBaseUrl = "https://example.com/a b" }
  }

  expect_failures = [var.stage_variables]
}

# API Gateway's pattern for values, [A-Za-z0-9-._~:/?#&=,]+, has no "+" and needs one character:
# either would pass a plan and fail the apply.
run "rejects_a_plus_in_a_stage_variable_value" {
  command = plan

  variables {
    stage_variables = { cdnBaseUrl = "https://example.com/a+b" }
  }

  expect_failures = [var.stage_variables]
}

run "rejects_an_empty_stage_variable_value" {
  command = plan

  variables {
    stage_variables = { cdnBaseUrl = "" }
  }

  expect_failures = [var.stage_variables]
}

run "lambda_permissions_are_scoped_to_this_api" {
  command = apply

  assert {
    condition     = toset(keys(aws_lambda_permission.this)) == toset(["api", "resize"])
    error_message = "Each function must get an invoke permission."
  }

  assert {
    condition = alltrue([
      for p in aws_lambda_permission.this :
      p.principal == "apigateway.amazonaws.com" && p.action == "lambda:InvokeFunction" &&
      p.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/v1/*/*"
    ])
    error_message = "API Gateway may invoke the functions only for this API's stage."
  }

  assert {
    condition     = aws_lambda_permission.this["resize"].function_name == "imgsvc-test-resize"
    error_message = "The permission must be on the named function."
  }
}

# The gateway responses are part of the imported document: put_rest_api_mode = "overwrite"
# replaces the whole definition on every change of the body, and gateway responses managed as
# separate resources would be reset to API Gateway's defaults by it.
run "gateway_errors_use_the_service_error_shape" {
  command = plan

  assert {
    condition     = toset(["DEFAULT_4XX", "DEFAULT_5XX"]) == setintersection(toset(keys(try(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"], {}))), toset(["DEFAULT_4XX", "DEFAULT_5XX"]))
    error_message = "DEFAULT_4XX and DEFAULT_5XX must be customised in the imported document (x-amazon-apigateway-gateway-responses)."
  }

  # AWS: "Customization of the 413 REQUEST_TOO_LARGE gateway response isn't currently supported"
  # (API Gateway developer guide, "Gateway response types"). A body over 10 MB gets API Gateway's
  # own plain-text 413 whatever the document says, so the document must not pretend otherwise.
  assert {
    condition     = !contains(keys(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]), "REQUEST_TOO_LARGE")
    error_message = "REQUEST_TOO_LARGE cannot be customised on AWS: the document must not carry a template for it."
  }

  assert {
    condition = alltrue([
      for r in values(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]) :
      can(jsondecode(replace(r.responseTemplates["application/json"], "$context.error.messageString", "\"message\"")).error.code)
    ])
    error_message = "Every gateway response body must be JSON of the form {\"error\": {\"code\", \"message\"}}."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"].statusCode == "404"
    error_message = "An unknown route must be a 404, not API Gateway's 403 Missing Authentication Token."
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]["DEFAULT_4XX"]), "statusCode")
    error_message = "DEFAULT_4XX keeps the status API Gateway generated."
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]["DEFAULT_4XX"]), "responseParameters")
    error_message = "Without a single CORS origin no Access-Control-Allow-Origin header is added."
  }
}

run "single_cors_origin_reaches_gateway_errors" {
  command = plan

  variables {
    cors_allowed_origins = ["https://images.example.com"]
  }

  assert {
    condition = alltrue([
      for r in values(jsondecode(aws_api_gateway_rest_api.this.body)["x-amazon-apigateway-gateway-responses"]) :
      r.responseParameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://images.example.com'"
    ])
    error_message = "With one CORS origin, gateway errors must carry it so browsers can read them."
  }

  assert {
    condition     = aws_api_gateway_deployment.this.triggers.redeployment == sha1(aws_api_gateway_rest_api.this.body)
    error_message = "A change of the gateway responses (here their CORS origin) must make a new deployment: they are in the document the deployment follows."
  }
}

run "deployment_follows_the_document" {
  command = plan

  assert {
    condition     = aws_api_gateway_deployment.this.triggers.redeployment == sha1(aws_api_gateway_rest_api.this.body)
    error_message = "A new deployment must be made whenever the document changes."
  }

  assert {
    condition     = aws_api_gateway_stage.this.stage_name == "v1"
    error_message = "The default stage is v1."
  }
}

# A fresh account has no CloudWatch role in its API Gateway settings, and API Gateway refuses a
# stage with logging then: by default the module sets one up, before the stage.
run "account_logging_role_by_default" {
  command = apply

  assert {
    condition     = aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.account_logging[0].arn
    error_message = "By default the module must register its logging role in the account settings (a fresh account has none)."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.account_logging[0].statement : [for a in s.actions : startswith(a, "logs:") && !endswith(a, "*")]
    ]))
    error_message = "The logging role may only write logs, with named actions."
  }
}

# What a stage sharing its account with the one that owns the setting sets (environments:
# dev.tfvars): the module leaves the account's API Gateway settings alone.
run "no_account_logging_role_when_the_account_has_one" {
  command = plan

  variables {
    account_logging_role_enabled = false
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.account_logging) == 0
    error_message = "With account_logging_role_enabled = false the module must not touch the account setting."
  }
}

run "small_inline_spec" {
  command = plan

  variables {
    openapi_spec = <<-YAML
      openapi: 3.0.3
      info: { title: tiny, version: "1" }
      paths:
        /health:
          get:
            x-imgsvc-function: api
            responses: { "200": { description: ok } }
          options:
            x-imgsvc-function: api
            summary: the spec's own preflight
            responses: { "204": { description: ok } }
        /things:
          post:
            x-imgsvc-function: api
            security: [{ api_key: [] }]
            responses: { "201": { description: created } }
      components:
        securitySchemes:
          api_key: { type: apiKey, name: x-api-key, in: header }
    YAML
    functions = {
      api = {
        function_name = "imgsvc-test-api"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api/invocations"
      }
    }
  }

  assert {
    condition     = jsondecode(aws_api_gateway_rest_api.this.body).paths["/health"].options.summary == "the spec's own preflight"
    error_message = "An OPTIONS operation in the spec must be kept, not replaced."
  }

  assert {
    condition     = contains(keys(jsondecode(aws_api_gateway_rest_api.this.body).paths["/things"].post), "security")
    error_message = "The write operation must keep its API key requirement."
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_api_gateway_rest_api.this.body).paths["/health"].get), "security")
    error_message = "A read operation must not require a key."
  }

  assert {
    condition     = toset(keys(aws_lambda_permission.this)) == toset(["api"])
    error_message = "Only the given functions get permissions."
  }
}

run "rejects_an_operation_without_a_function" {
  command = plan

  variables {
    openapi_spec = <<-YAML
      openapi: 3.0.3
      info: { title: tiny, version: "1" }
      paths:
        /health:
          get:
            responses: { "200": { description: ok } }
    YAML
  }

  expect_failures = [var.openapi_spec]
}

run "rejects_a_function_missing_from_the_map" {
  command = plan

  variables {
    functions = {
      api = {
        function_name = "imgsvc-test-api"
        invoke_arn    = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:imgsvc-test-api/invocations"
      }
    }
  }

  expect_failures = [var.functions]
}

run "rejects_a_swagger_2_document" {
  command = plan

  variables {
    openapi_spec = "{\"swagger\": \"2.0\", \"paths\": {}}"
  }

  expect_failures = [var.openapi_spec]
}

run "rejects_a_bad_invoke_arn" {
  command = plan

  variables {
    functions = {
      api    = { function_name = "a", invoke_arn = "arn:aws:lambda:eu-west-1:123456789012:function:a" }
      resize = { function_name = "r", invoke_arn = "arn:aws:lambda:eu-west-1:123456789012:function:r" }
    }
  }

  expect_failures = [var.functions]
}

run "rejects_unknown_quota_period" {
  command = plan

  variables {
    usage_plan = { quota_period = "HOUR" }
  }

  expect_failures = [var.usage_plan]
}

run "rejects_zero_throttling" {
  command = plan

  variables {
    throttling_rate_limit = 0
  }

  expect_failures = [var.throttling_rate_limit]
}

run "rejects_cors_origin_with_a_path" {
  command = plan

  variables {
    cors_allowed_origins = ["https://images.example.com/"]
  }

  expect_failures = [var.cors_allowed_origins]
}

# API Gateway's import does not support these (its "important notes for REST APIs"), and the
# module imports with fail_on_warnings: openapi.yaml itself, not derived, fails at plan.
run "rejects_a_response_ref_api_gateway_does_not_import" {
  command = plan

  variables {
    openapi_spec = <<-YAML
      openapi: 3.0.3
      info: { title: tiny, version: "1" }
      paths:
        /health:
          get:
            x-imgsvc-function: api
            responses: { "404": { $ref: "#/components/responses/NotFound" } }
      components:
        responses:
          NotFound: { description: no }
    YAML
  }

  expect_failures = [var.openapi_spec]
}

run "rejects_additional_properties_api_gateway_does_not_import" {
  command = plan

  variables {
    openapi_spec = <<-YAML
      openapi: 3.0.3
      info: { title: tiny, version: "1" }
      paths:
        /health:
          get:
            x-imgsvc-function: api
            responses: { "200": { description: ok } }
      components:
        schemas:
          Meta: { type: object, additionalProperties: { type: string } }
    YAML
  }

  expect_failures = [var.openapi_spec]
}

run "accepts_a_keyword_name_inside_a_description" {
  command = plan

  variables {
    openapi_spec = <<-YAML
      openapi: 3.0.3
      info: { title: tiny, version: "1" }
      paths:
        /health:
          get:
            x-imgsvc-function: api
            description: 'not a keyword: {"pattern":"x"}'
            responses: { "200": { description: ok } }
    YAML
  }

  assert {
    condition     = aws_api_gateway_rest_api.this.fail_on_warnings
    error_message = "The document is imported with fail_on_warnings."
  }
}
