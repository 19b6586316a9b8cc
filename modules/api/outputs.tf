output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "rest_api_execution_arn" {
  description = "Execution ARN of the REST API (prefix of the source ARNs of invocations)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "rest_api_body" {
  description = "The OpenAPI document (JSON) API Gateway imported: the spec with its integrations, preflight routes and security applied."
  value       = aws_api_gateway_rest_api.this.body
}

output "stage_name" {
  description = "Name of the stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "stage_arn" {
  description = "ARN of the stage (for a WAF web ACL association)."
  value       = aws_api_gateway_stage.this.arn
}

output "stage_invoke_url" {
  description = "Base URL of the API, https://API-ID.execute-api.REGION.amazonaws.com/STAGE, without a trailing slash."
  value       = trimsuffix(aws_api_gateway_stage.this.invoke_url, "/")
}

output "api_key_id" {
  description = "ID of the API key for the write operations; null when api_key_required is false."
  value       = one(aws_api_gateway_api_key.this[*].id)
}

output "api_key_value" {
  description = "The API key for the write operations (send it as x-api-key); null when api_key_required is false."
  value       = one(aws_api_gateway_api_key.this[*].value)
  sensitive   = true
}
