output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function (unqualified)."
  value       = aws_lambda_function.this.arn
}

output "function_invoke_arn" {
  description = "ARN for API Gateway integrations (apigateway ... :lambda:path/.../invocations)."
  value       = aws_lambda_function.this.invoke_arn
}

output "function_qualified_arn" {
  description = "ARN of the latest published version (ends in :$LATEST when publish is false)."
  value       = aws_lambda_function.this.qualified_arn
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "function_url" {
  description = "HTTPS function URL (on the lambda-url.REGION.on.aws domain); null when function_url_enabled is false."
  value       = one(aws_lambda_function_url.this[*].function_url)
}
