variable "name" {
  description = "Name of the REST API; also prefixes its log groups, API key and usage plan. Include the stage so names never collide."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, hyphens and underscores."
  }
}

variable "description" {
  description = "Description of the REST API."
  type        = string
  default     = "Serverless image service"
}

variable "openapi_spec" {
  description = "The OpenAPI 3 document API Gateway imports, YAML or JSON text, within what its import supports (no $ref to components other than schemas, none of the schema keywords it lists as unsupported): pass file(\"dist/openapi-apigateway.json\"), which build.py derives from openapi.yaml. Routes come only from here; each operation names its Lambda in x-imgsvc-function."
  type        = string

  validation {
    condition     = can(yamldecode(var.openapi_spec).paths) && startswith(try(tostring(yamldecode(var.openapi_spec).openapi), ""), "3.")
    error_message = "openapi_spec must be an OpenAPI 3.x document (YAML or JSON) with a paths object."
  }

  validation {
    condition = alltrue(flatten([
      for path, item in try(yamldecode(var.openapi_spec).paths, {}) : [
        for method, op in item : can(tostring(op["x-imgsvc-function"]))
        if contains(["get", "put", "post", "delete", "patch", "head", "options"], method)
      ]
    ]))
    error_message = "Every operation of openapi_spec must name its Lambda function in x-imgsvc-function (e.g. api or resize)."
  }

  # API Gateway's import supports part of OpenAPI ("Amazon API Gateway important notes for REST
  # APIs": https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html#api-gateway-known-issues-rest-apis).
  # The document is imported with fail_on_warnings, so a form it ignores would fail the apply;
  # these, the notes' list, fail the plan instead, naming what to change. A key is matched where
  # it is a key of the JSON text (after a { or a , and not inside a string), so a property
  # named like a keyword is found too: rename it or derive the document differently.
  validation {
    condition     = !can(regex("\"\\$ref\":\"#/components/(responses|parameters|requestBodies|headers|examples|links)/", jsonencode(try(yamldecode(var.openapi_spec), {}))))
    error_message = "openapi_spec refers to components/responses, parameters or requestBodies with $ref, which API Gateway's import does not support: inline them (build.py's apigateway_openapi derives such a document from openapi.yaml; `make build` writes dist/openapi-apigateway.json)."
  }

  validation {
    condition     = !can(regex("[{,]\"(additionalProperties|allOf|anyOf|oneOf|discriminator|example|examples|exclusiveMinimum|pattern|readOnly|deprecated)\":", jsonencode(try(yamldecode(var.openapi_spec), {}))))
    error_message = "openapi_spec uses a keyword API Gateway's import does not support (additionalProperties, allOf, anyOf, oneOf, discriminator, example(s), exclusiveMinimum, pattern, readOnly or deprecated): remove it (build.py's apigateway_openapi derives such a document from openapi.yaml; `make build` writes dist/openapi-apigateway.json)."
  }
}

variable "functions" {
  description = "The Lambda functions behind the routes, keyed by the x-imgsvc-function values of the OpenAPI operations (today api and resize); api also answers CORS preflight (OPTIONS) on every path."
  type        = map(object({ invoke_arn = string, function_name = string }))
  nullable    = false

  validation {
    condition     = contains(keys(var.functions), "api")
    error_message = "functions must contain \"api\": it serves the OPTIONS (CORS preflight) route of every path."
  }

  validation {
    condition = length(setsubtract(toset(flatten([
      for path, item in try(yamldecode(var.openapi_spec).paths, {}) : [
        for method, op in item : try(tostring(op["x-imgsvc-function"]), "api")
        if contains(["get", "put", "post", "delete", "patch", "head", "options"], method)
      ]
    ])), keys(var.functions))) == 0
    error_message = "functions must have an entry for every x-imgsvc-function value used in openapi_spec."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws[a-z-]*:lambda:.+/invocations$", f.invoke_arn))])
    error_message = "Each invoke_arn must be a Lambda invoke ARN (the function module's function_invoke_arn output)."
  }
}

variable "stage_name" {
  description = "Name of the deployment stage; the last part of the base URL."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters of letters, digits, hyphens and underscores."
  }
}

variable "binary_media_types" {
  description = "Content types API Gateway passes to Lambda as base64 (the handler decodes whenever isBase64Encoded). Avoid */*: JSON bodies would be base64 too."
  type        = list(string)
  default     = ["image/*", "multipart/form-data", "application/octet-stream"]
  nullable    = false

  validation {
    condition     = alltrue([for t in var.binary_media_types : can(regex("^[A-Za-z0-9*.+-]+/[A-Za-z0-9*.+-]+$", t))])
    error_message = "Each binary media type must look like type/subtype; * is allowed as a wildcard (image/*)."
  }
}

variable "api_key_required" {
  description = "Require an API key (x-api-key header) on the write operations, those with security api_key in the spec; creates the key and a usage plan. false strips security from every operation."
  type        = bool
  default     = true
  nullable    = false
}

variable "usage_plan" {
  description = "Quota and throttling of the API key's usage plan (used when api_key_required): requests per quota_period (DAY, WEEK or MONTH), steady rate per second and burst."
  type        = object({ quota_limit = optional(number, 10000), quota_period = optional(string, "DAY"), throttle_rate_limit = optional(number, 10), throttle_burst_limit = optional(number, 20) })
  default     = {}
  nullable    = false

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.usage_plan.quota_period)
    error_message = "usage_plan.quota_period must be DAY, WEEK or MONTH."
  }

  validation {
    condition     = var.usage_plan.quota_limit >= 1 && var.usage_plan.throttle_rate_limit > 0 && var.usage_plan.throttle_burst_limit >= 1
    error_message = "usage_plan limits must be positive."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second for the whole stage (method settings */*)."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be between 0 (exclusive) and 10000 requests per second."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the stage accepts above the steady rate (method settings */*)."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for a Lambda, in milliseconds."
  type        = number
  default     = 29000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 29000 && floor(var.integration_timeout_ms) == var.integration_timeout_ms
    error_message = "integration_timeout_ms must be a whole number from 50 to 29000."
  }
}

variable "xray_tracing_enabled" {
  description = "X-Ray tracing of the stage."
  type        = bool
  default     = true
  nullable    = false
}

variable "metrics_enabled" {
  description = "Detailed CloudWatch metrics per method."
  type        = bool
  default     = true
  nullable    = false
}

variable "execution_logging_level" {
  description = "API Gateway execution logging: OFF, ERROR or INFO (never logs bodies). Its log group is created here with the retention below."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the access and execution log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN to encrypt the log groups with (its key policy must allow CloudWatch Logs); null uses CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN."
  }
}

variable "account_logging_role_enabled" {
  description = "Create the IAM role API Gateway writes the stage's access and execution logs with, and register it in the account's API Gateway settings (aws_api_gateway_account: one setting per account and region). API Gateway refuses a stage with logging while that setting is empty, so true (the default) lets the module apply in a fresh account. Set false only where the account and region already have the setting (another stack owns it, or it was set by hand); README: sharing the setting."
  type        = bool
  default     = true
  nullable    = false
}

variable "cors_allowed_origins" {
  description = "Origins allowed to read the API from a browser. The api Lambda answers CORS itself (IMGSVC_CORS_ORIGINS); this only adds Access-Control-Allow-Origin to API Gateway's own error responses, and only when there is exactly one origin (or *)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "Each CORS origin must be * or scheme://host[:port] without a path or trailing slash."
  }
}

variable "stage_variables" {
  description = "Stage variables, passed to the Lambdas in event.stageVariables. Use them for values only known after the functions exist, such as the CDN base URL (cdnBaseUrl), which would otherwise be a dependency cycle."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    # API Gateway's own pattern for values is [A-Za-z0-9-._~:/?#&=,]+: no "+", never empty.
    condition     = alltrue([for k, v in var.stage_variables : can(regex("^[A-Za-z0-9_]{1,64}$", k)) && can(regex("^[A-Za-z0-9._~:/?#&=,-]{1,512}$", v))])
    error_message = "Stage variable names must be letters, digits and underscores; values must be 1-512 of letters, digits and . _ ~ : / ? # & = , - (API Gateway refuses anything else, including + and an empty value)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
