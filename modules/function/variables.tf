variable "function_name" {
  description = "Name of the Lambda function; also names its log group (/aws/lambda/ + name) and its IAM role (name-region: IAM is global, so the same name in another region gets another role). Include the stage so names never collide."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, hyphens and underscores."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "handler" {
  description = "Entry point, module.function (e.g. imgsvc.handlers.api.handler)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be a dotted Python path ending in the function name, e.g. imgsvc.handlers.api.handler."
  }
}

variable "runtime" {
  description = "Python runtime."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13."
  }
}

variable "filename" {
  description = "Path of the deployment package built by `make build` (build.py writes dist/api.zip, dist/resize.zip, ...). A missing file fails the plan with a message saying to run `make build`."
  type        = string

  validation {
    condition     = fileexists(var.filename)
    error_message = "The Lambda artifact does not exist: run `make build` first (build.py writes dist/<function>.zip, dist/layer-<arch>.zip and dist/manifest.json)."
  }
}

variable "source_code_hash" {
  description = "Base64-encoded SHA-256 of the artifact, filebase64sha256(filename); a change redeploys the code. null: the module computes it from filename."
  type        = string
  default     = null

  validation {
    condition     = var.source_code_hash == null || can(regex("^[A-Za-z0-9+/]{43}=$", var.source_code_hash))
    error_message = "source_code_hash must be the base64 SHA-256 of the artifact (filebase64sha256), 44 characters."
  }
}

variable "layers" {
  description = "Lambda layer version ARNs, in order (at most 5)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.layers) <= 5
    error_message = "A function can use at most 5 layers."
  }

  validation {
    condition     = alltrue([for arn in var.layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", arn))])
    error_message = "Each layer must be a layer version ARN: arn:aws:lambda:<region>:<account>:layer:<name>:<version>."
  }
}

variable "architecture" {
  description = "Instruction set; must match the layer's build (make build ARCH=...). arm64 (Graviton) is cheaper per GB-second and fast for Pillow."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Maximum run time of one invocation, in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "ephemeral_storage_size" {
  description = "Size of /tmp in MB."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240 && floor(var.ephemeral_storage_size) == var.ephemeral_storage_size
    error_message = "ephemeral_storage_size must be a whole number of MB from 512 to 10240."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function (names from lambda_src/imgsvc/config.py)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", name))])
    error_message = "Environment variable names must start with a letter and contain only letters, digits and underscores."
  }

  validation {
    condition     = alltrue([for name in keys(var.environment_variables) : !contains(["_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"], name)])
    error_message = "Environment variable names reserved by Lambda (AWS_REGION, AWS_LAMBDA_*, _HANDLER, ...) cannot be set."
  }

  validation {
    condition     = length(jsonencode(var.environment_variables)) <= 4096
    error_message = "Environment variables are limited to 4 KB in total."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for (and capping) this function; null leaves it unreserved, 0 stops it from running."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be null or a whole number >= 0."
  }

  # Lambda refuses a reservation that leaves fewer than 100 executions unreserved in the account
  # and region (PutFunctionConcurrency: "as long as you leave at least 100 simultaneous
  # executions unreserved"); checked here, at plan, instead of failing the apply.
  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions <= var.account_concurrency_limit - 100, true)
    error_message = "reserved_concurrent_executions must leave at least 100 of the account's concurrent executions (account_concurrency_limit) unreserved: Lambda refuses the reservation otherwise. Lower it, or raise the account's quota and account_concurrency_limit with it."
  }
}

variable "account_concurrency_limit" {
  description = "The account's concurrent executions quota for Lambda in this region (Service Quotas L-B99A9384, GetAccountSettings ConcurrentExecutions): 1000 by default, lower in new accounts. Only checks reserved_concurrent_executions against it; reservations of other functions in the account count against it too."
  type        = number
  default     = 1000
  nullable    = false

  validation {
    condition     = var.account_concurrency_limit >= 10 && floor(var.account_concurrency_limit) == var.account_concurrency_limit
    error_message = "account_concurrency_limit must be a whole number, at least 10 (the quota of a new account)."
  }
}

variable "tracing_enabled" {
  description = "Active X-Ray tracing; adds the X-Ray write statement to the role. Off by default: see Tracing in the README."
  type        = bool
  default     = false
  nullable    = false
}

variable "publish" {
  description = "Publish a numbered version on every code or configuration change (function_qualified_arn then names it)."
  type        = bool
  default     = false
  nullable    = false
}

variable "policy_json" {
  description = "IAM policy document (JSON from an aws_iam_policy_document in the environment) with exactly what the code needs; merged with the module's own log and X-Ray statements into the role's inline policy. null: logs (and X-Ray) only."
  type        = string
  default     = null
}

variable "role_permissions_boundary_arn" {
  description = "ARN of a permissions boundary for the function's role; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary_arn))
    error_message = "role_permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN to encrypt the log group with (its key policy must allow CloudWatch Logs); null uses CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN to encrypt the environment variables with; null uses the AWS-managed Lambda key. The environment holds no secrets."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.code_signing_config_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]{17}$", var.code_signing_config_arn))
    error_message = "code_signing_config_arn must be a Lambda code signing configuration ARN."
  }
}

variable "function_url_enabled" {
  description = "Create a function URL with AWS_IAM auth (BUFFERED), for use as a CloudFront origin with origin access control. The caller (modules/cdn) grants CloudFront the invoke permission."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
